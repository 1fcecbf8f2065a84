import PacketCapture
import Foundation
import Packets
import SocketCore
import Testing

/// Files in and out: frames SocketLab writes open in tshark and tcpdump and decode the same
/// there; files other tools write (tcpdump, dumpcap, editcap: pcap and pcapng, µs and ns)
/// decode the same here; broken files fail clearly and keep what came before the break.
@Suite(.serialized) struct CaptureFileTests {
    let directory: String
    init() throws { directory = try temporaryDirectory("capture-files") }

    /// Frames with the headers live loopback traffic never shows: VLAN tags, IPv4 options and
    /// fragments, IPv6 extension headers, SACK blocks, ECN flags, ICMP errors, neighbour
    /// discovery, and wrong checksums.
    static var unusualFrames: [[UInt8]] {
        let sack: [UInt8] = [1, 1, 5, 18] + F.be32(5000) + F.be32(6000) + F.be32(7000) + F.be32(8000)
        var badChecksum = F.tcp(flags: 0x10, payload: [1, 2, 3])
        badChecksum[17] ^= 0xFF
        return [
            F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 1628634260, flags: 0x02, options: DecodeTestsOptions.syn))),
            F.ethernet(vlans: [100], F.ipv4(protocol: 17, F.udp(payload: pattern(20)))),
            F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 7, ack: 5000, flags: 0x10, options: sack))),
            F.ethernet(F.ipv4(protocol: 6, F.tcp(flags: 0xC2, options: DecodeTestsOptions.syn))),  // SYN with ECE+CWR: ECN setup
            F.ethernet(F.ipv4(protocol: 6, badChecksum)),
            F.ethernet(F.ipv4(protocol: 17, options: [7, 7, 4, 0, 0, 0, 0, 0], F.udp(payload: [1]))),
            F.ethernet(F.ipv4(protocol: 17, flagsFragment: 0x2000, F.udp(payload: pattern(40)))),
            F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 3, code: 3, body: F.ipv4(protocol: 17, F.udp(destinationPort: 9, payload: [1, 2]))))),
            F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 11, body: F.ipv4(protocol: 1, ttl: 1, F.icmp(type: 8, rest: [0, 1, 0, 1], body: []))))),
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, extensions: [(0, [0, 0, 1, 4, 0, 0, 0, 0]), (60, [0, 0, 1, 4, 0, 0, 0, 0])], F.tcp(flags: 0x18, payload: [9], ipv6: true))),
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 135, body: F.destination6 + [1, 1, 2, 0, 0, 0, 0, 1]))),
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 136, rest: [0x60, 0, 0, 0], body: F.destination6))),
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 128, rest: [0, 7, 0, 3], body: pattern(16)))),
        ]
    }

    @Test(arguments: [CaptureWriter.Precision.microseconds, .nanoseconds])
    func framesWeWriteDecodeTheSameInTshark(precision: CaptureWriter.Precision) throws {
        let path = "\(directory)/unusual-\(precision).pcap"
        do {
            let writer = try CaptureWriter(path: path, linkType: .ethernet, precision: precision)
            for (index, frame) in Self.unusualFrames.enumerated() {
                frame.withUnsafeBytes {
                    writer.write(timestamp: Timestamp(seconds: 1_700_000_000 + Int64(index), nanoseconds: 123_456_789), originalLength: frame.count, bytes: $0)
                }
            }
        }
        let frames = try CaptureFile(path: path).readAll()
        #expect(frames.count == Self.unusualFrames.count)
        #expect(frames.map(\.bytes) == Self.unusualFrames)
        #expect(frames[0].timestamp.nanoseconds == (precision == .nanoseconds ? 123_456_789 : 123_456_000))
        try expectAgreement(path, minimumFrames: Self.unusualFrames.count)
        let (status, output) = try run(["tcpdump", "-nn", "-r", path])
        #expect(status == 0, "\(output)")
    }

    @Test func tcpdumpsAnyInterfaceFileAndDumpcapsPcapng() throws {
        let port = try freePort()
        let server = try httpServer(host: "127.0.0.1", port: port, directory: directory)
        defer { server.stop() }
        // tcpdump ≥ 4.99 captures "any" as Linux cooked v2, in microseconds.
        let tcpdump = try background(["tcpdump", "-i", "any", "--immediate-mode", "-U", "-w", "\(directory)/tcpdump-any.pcap", "tcp port \(port)"], readyWhen: "listening on")
        // dumpcap (Wireshark's capture engine) writes pcapng.
        let dumpcap = try background(["dumpcap", "-i", "lo", "-f", "tcp port \(port)", "-w", "\(directory)/dumpcap.pcapng"], readyWhen: "Capturing on")
        // dumpcap says "Capturing on" a moment before its capture is open.
        usleep(500_000)
        try curl("http://127.0.0.1:\(port)/")
        // dumpcap hands packets over when its 1 s buffer timeout passes (no immediate mode),
        // later on a loaded machine: wait until both files hold the whole connection.
        func framesIn(_ path: String) -> Int {
            guard let file = try? CaptureFile(path: path) else { return 0 }
            var count = 0
            try? file.forEach { _ in count += 1 }
            return count
        }
        _ = eventually(timeout: .seconds(10)) {
            framesIn("\(directory)/tcpdump-any.pcap") >= 8 && framesIn("\(directory)/dumpcap.pcapng") >= 8
        }
        tcpdump.stop()
        dumpcap.stop()
        #expect(!tcpdump.output.contains(" 0 packets captured"), "\(tcpdump.output)")
        #expect(!dumpcap.output.contains("Packets captured: 0"), "\(dumpcap.output)")
        let any = try CaptureFile(path: "\(directory)/tcpdump-any.pcap")
        #expect(any.linkType == .linuxCooked2)
        try expectAgreement("\(directory)/tcpdump-any.pcap", minimumFrames: 8)
        try expectAgreement("\(directory)/dumpcap.pcapng", minimumFrames: 8)
    }

    @Test func pcapngConvertedByEditcapReadsTheSame() throws {
        let path = "\(directory)/for-pcapng.pcap"
        do {
            let writer = try CaptureWriter(path: path, linkType: .ethernet, precision: .nanoseconds)
            for frame in Self.unusualFrames {
                frame.withUnsafeBytes { writer.write(timestamp: Timestamp(seconds: 1_700_000_000, nanoseconds: 987_654_321), originalLength: frame.count, bytes: $0) }
            }
        }
        let pcapng = "\(directory)/converted.pcapng"
        let (status, output) = try run(["editcap", "-F", "pcapng", path, pcapng])
        try #require(status == 0, "\(output)")
        let frames = try CaptureFile(path: pcapng).readAll()
        #expect(frames.map(\.bytes) == Self.unusualFrames)
        #expect(frames.allSatisfy { $0.timestamp == Timestamp(seconds: 1_700_000_000, nanoseconds: 987_654_321) }, "pcapng keeps nanoseconds")
        try expectAgreement(pcapng, minimumFrames: Self.unusualFrames.count)
    }

    @Test(arguments: ["pcap", "pcapng"])
    func aTruncatedFileGivesEveryWholeFrameThenTheError(format: String) throws {
        let path = "\(directory)/whole.\(format)"
        do {
            let writer = try CaptureWriter(path: "\(directory)/whole.pcap", linkType: .ethernet)
            for frame in Self.unusualFrames {
                frame.withUnsafeBytes { writer.write(timestamp: Timestamp(seconds: 1, nanoseconds: 0), originalLength: frame.count, bytes: $0) }
            }
        }
        if format == "pcapng" {
            try #require(try run(["editcap", "-F", "pcapng", "\(directory)/whole.pcap", path]).status == 0)
        }
        let whole = try #require(FileManager.default.contents(atPath: path))
        // Cut in the middle of the last record.
        let cut = "\(directory)/cut.\(format)"
        _ = FileManager.default.createFile(atPath: cut, contents: whole.prefix(whole.count - 20))
        let file = try CaptureFile(path: cut)
        var seen = 0
        do {
            try file.forEach { _ in seen += 1 }
            Issue.record("no error for a truncated \(format) file")
        } catch {
            guard case .truncatedFile(let errorPath, let framesRead, _) = error else { Issue.record("\(error)"); return }
            #expect(errorPath == cut)
            #expect(framesRead == Self.unusualFrames.count - 1)
            #expect(error.exitStatus == .badInput)
            #expect(error.description.contains("cut short after \(Self.unusualFrames.count - 1) whole frames"))
        }
        #expect(seen == Self.unusualFrames.count - 1, "every frame before the cut is delivered")
    }

    @Test func notACaptureFileOrNoFileAtAll() throws {
        let text = "\(directory)/notes.txt"
        _ = FileManager.default.createFile(atPath: text, contents: Data("these are my lab notes, not a capture\n".utf8))
        for path in [text, "\(directory)/missing.pcap", "\(directory)/empty.pcap"] {
            if path.hasSuffix("empty.pcap") { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
            do {
                _ = try CaptureFile(path: path)
                Issue.record("\(path) opened as a capture")
            } catch {
                guard case .unreadableFile = error else { Issue.record("\(error)"); continue }
                #expect(error.exitStatus == .badInput)
                #expect(error.description.contains(path))
            }
        }
        #expect(throws: CaptureError.self) { try CaptureWriter(path: "/nonexistent-dir/x.pcap", linkType: .ethernet) }
    }
}

typealias F = FrameBuilder

enum DecodeTestsOptions {
    static let syn: [UInt8] = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
}
