import PacketCapture
import Foundation
import Inspection
import Packets
import Testing

/// Captures SocketLab never makes itself but other people's do: every encapsulation tshark
/// decodes, fragments, headers cut or lying about their length, and malformed record headers.
/// Each class is built frame by frame (FrameBuilder, by the RFC's layout), written to a file,
/// and read by the inspector and by tshark: the fields and the connections must agree.
@Suite(.serialized) struct ForeignCaptureTests {
    typealias F = FrameBuilder
    let directory: String
    init() throws { directory = try temporaryDirectory("foreign") }

    /// Writes `frames` (raw bytes of `linkType`) to a file named `name`.
    func write(_ name: String, linkType: LinkType = .ethernet, _ frames: [[UInt8]]) throws -> String {
        let path = "\(directory)/\(name).pcap"
        try Data(PcapBytes.file(linkType: linkType.rawValue, frames).bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Field for field (the innermost headers for tunnels, `ignoring` what only the outer
    /// headers have), then connection by connection, against tshark.
    func expectTsharkAgrees(_ path: String, segments: Int, ignoring: Set<String> = [], occurrence: String = "f",
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fields = try Tshark.disagreements(file: path, ignoring: ignoring, occurrence: occurrence)
        #expect(fields.differences.isEmpty, "\(fields.differences.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        let tcp = try InspectorAgreementTests.compare(path)
        #expect(tcp.segments == segments, "TCP segments the inspector followed", sourceLocation: sourceLocation)
        #expect(tcp.differences.isEmpty, "\(tcp.differences.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        let handshakes = try InspectorAgreementTests.compareHandshakes(path)
        #expect(handshakes.differences.isEmpty, "\(handshakes.differences.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        print("foreign capture \(path): \(fields.frames) frames, \(fields.fields) field values and \(tcp.segments) segments agree with tshark")
    }

    /// Fields only an outer header has (the tunnel's): tshark's last occurrence is the inner
    /// header for IP and TCP, but the outer one for Ethernet and UDP.
    static let outerOnly: Set<String> = Set(Tshark.fields.filter { !$0.hasPrefix("tcp.") && !$0.hasPrefix("frame.") })

    static func conversations(_ count: Int) -> [[[UInt8]]] {
        (0..<count).map { F.conversation(ipv6: $0 % 2 == 1, clientPort: 40000 + $0) }
    }

    @Test func vlanStacksOfAnyDepth() throws {
        let stacks: [[(tpid: Int, vlan: Int)]] = [
            [(0x8100, 10)], [(0x88A8, 100), (0x8100, 10)], [(0x88A8, 100), (0x8100, 10), (0x8100, 20)], [(0x9100, 7), (0x8100, 8)],
        ]
        let frames = zip(stacks, Self.conversations(4)).flatMap { stack, packets in packets.map { F.ethernet(tags: stack, carrying: $0) } }
        let path = try write("vlan", frames)
        try expectTsharkAgrees(path, segments: 32)
        let third = F.ethernet(tags: stacks[2], carrying: F.conversation()[0])
        guard case .ethernet(let ethernet)? = Packet(decoding: third, linkType: .ethernet).link else { Issue.record("no Ethernet"); return }
        #expect(ethernet.tagCount == 3 && ethernet.outerTag?.id == 100 && ethernet.innerTag?.id == 10)
    }

    @Test func pppoeSessionsCarryIPv4AndIPv6() throws {
        let path = try write("pppoe", Self.conversations(2).flatMap { $0.map { F.pppoe($0) } })
        try expectTsharkAgrees(path, segments: 16)
    }

    /// An 802.3 frame has a length where Ethernet II has a type: not "ethertype 0x0030".
    @Test func llcAndSnapFramesAreNotEtherTypes() throws {
        let path = try write("llc", F.conversation().map(F.ieee8023Snap) + [F.spanningTreeBPDU()])
        try expectTsharkAgrees(path, segments: 8)
        let lines = try InspectorAgreementTests.jsonLines(path)
        let last = try #require(lines.first { $0.contains("\"frame\":9,") })
        #expect(last.contains("Spanning Tree") && last.contains("802.3"), "\(last)")
        #expect(!last.contains("ethertype 0x"), "\(last)")
    }

    @Test func linuxCookedV1AndMPLS() throws {
        try expectTsharkAgrees(try write("sll", linkType: .linuxCooked, Self.conversations(2).flatMap { $0.map { F.linuxCooked($0) } }), segments: 16)
        try expectTsharkAgrees(try write("mpls", Self.conversations(2).flatMap { $0.map { F.mpls(labels: [100, 200], $0) } }), segments: 16)
    }

    /// Links from routers and clusters (a Juniper port's capture, IP over InfiniBand, PPP
    /// carrying MPLS, BSD's PPPoE without Ethernet): the inner TCP as tshark numbers it.
    @Test func routerAndClusterLinkTypes() throws {
        try expectTsharkAgrees(try write("juniper", linkType: .juniperEthernet, Self.conversations(2).flatMap { $0.map { F.juniperEthernet($0) } }), segments: 16)
        try expectTsharkAgrees(try write("ipoib", linkType: .ipOverInfiniBand, Self.conversations(2).flatMap { $0.map { F.ipOverInfiniBand($0) } }), segments: 16)
        try expectTsharkAgrees(try write("ppp-mpls", linkType: .ppp, Self.conversations(2).flatMap { $0.map { F.pppMPLS(labels: [100656, 17], $0) } }), segments: 16)
        try expectTsharkAgrees(try write("ppp-ether", linkType: .pppOverEthernet, Self.conversations(2).flatMap { $0.map { F.pppOverEthernet($0) } }), segments: 16)
    }

    /// A pcap written on a big-endian host (both resolutions), and captures stored
    /// gzip-compressed (Wireshark keeps its own test files so; tshark reads them as they are).
    @Test func bigEndianAndCompressedFiles() throws {
        for nanoseconds in [false, true] {
            var file = PcapBytes(linkType: 1, nanoseconds: nanoseconds, bigEndian: true)
            for (index, packet) in Self.conversations(2).joined().enumerated() {
                file.add(F.ethernet(carrying: packet), seconds: 1_700_000_000, fraction: UInt32(index) * 1000 + 7)
            }
            let path = "\(directory)/big-endian-\(nanoseconds ? "ns" : "us").pcap"
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            try expectTsharkAgrees(path, segments: 16)
        }
        let plain = try write("to-compress", Self.conversations(3).flatMap { $0.map(F.ethernet(carrying:)) })
        let pcapng = "\(directory)/to-compress.pcapng"
        #expect(try run(["editcap", "-F", "pcapng", plain, pcapng]).status == 0)
        for source in [plain, pcapng] {
            // Two gzip members one after the other, as `cat a.gz b.gz` makes: gzip -d reads both.
            let half = try Data(contentsOf: URL(fileURLWithPath: source))
            let first = "\(directory)/part1", second = "\(directory)/part2"
            try half.prefix(100).write(to: URL(fileURLWithPath: first))
            try half.dropFirst(100).write(to: URL(fileURLWithPath: second))
            let (status, output) = try run(["sh", "-c", "gzip -c \(first) > \(source).gz && gzip -c \(second) >> \(source).gz"])
            try #require(status == 0, "\(output)")
            try expectTsharkAgrees("\(source).gz", segments: 24)
            // Cut inside the compressed data: the whole frames before it, then exit 2's error.
            let compressed = try Data(contentsOf: URL(fileURLWithPath: "\(source).gz"))
            let cut = "\(directory)/cut.gz"
            try compressed.prefix(compressed.count - 40).write(to: URL(fileURLWithPath: cut))
            let capture = try CaptureFile(path: cut)
            var frames = 0
            #expect(throws: CaptureError.self) { try capture.forEach { _ in frames += 1 } }
            #expect(frames > 0 && frames < 24)
        }
    }

    /// A fragment the frame does not hold whole (cut by the snaplen, or an IP length past the
    /// frame) is not reassembled, by tshark's rule: a first one is dissected as it stands and
    /// its TCP followed; the note says why it was not put back together.
    @Test func aFragmentNotHeldWholeIsDissectedAsItStands() throws {
        let conversation = F.conversation()
        let data = F.ipv4(protocol: 6, F.tcpBetween(fromClient: true, ipv6: false, sourcePort: 40000, destinationPort: 80, seq: 1012, ack: 5013,
                                                     flags: 0x18, payload: [UInt8](repeating: 0x41, count: 2000)))
        let pieces = F.fragments(ofIPv4: data, sizes: [1480, 520], id: 0x55)
        var file = PcapBytes(linkType: 1, snapshotLength: 200)
        for (index, packet) in (Array(conversation[0..<3]) + pieces + Array(conversation[5...])).enumerated() {
            let frame = F.ethernet(carrying: packet)
            file.add(frame, seconds: 1_700_000_000, fraction: UInt32(index) * 1000, originalLength: frame.count, captured: min(frame.count, 200))
        }
        let path = "\(directory)/fragment-cut.pcap"
        try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        try expectTsharkAgrees(path, segments: 7)
        let lines = try InspectorAgreementTests.jsonLines(path)
        let second = try #require(lines.first { $0.contains("\"frame\":5,") })
        #expect(second.contains("cannot be put back") && !second.contains("shown in the frame that completes it"), "\(second)")
    }

    /// tshark takes a SYN stamped 0 (1970-01-01, a hand-made file) as no SYN time at all, so
    /// such a handshake has no RTT; one a microsecond later has.
    @Test func aSYNStampedAtTheEpochGivesNoRTT() throws {
        for start: UInt32 in [0, 1] {
            var file = PcapBytes(linkType: 1)
            for (index, packet) in F.conversation().enumerated() {
                file.add(F.ethernet(carrying: packet), seconds: start, fraction: UInt32(index))
            }
            let path = "\(directory)/epoch-\(start).pcap"
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            try expectTsharkAgrees(path, segments: 8)
            let rtts = try InspectorAgreementTests.records(path).compactMap { if case .handshake(let h) = $0 { h.rtt } else { nil } }
            #expect(start == 0 ? rtts.isEmpty : rtts == [0.000002], "\(rtts)")
        }
    }

    @Test func greCarriesIPAndEthernet() throws {
        let conversations = Self.conversations(3)
        var frames = conversations[0].map { F.gre($0) }
        frames += conversations[1].enumerated().map { F.gre(key: 42, sequence: UInt32($0.offset), $0.element) }
        frames += conversations[2].map { F.gre(protocolType: 0x6558, F.ethernet(carrying: $0)) }
        let path = try write("gre", frames)
        try expectTsharkAgrees(path, segments: 24, ignoring: Self.outerOnly, occurrence: "l")
        let packet = Packet(decoding: frames[9], linkType: .ethernet)
        #expect(packet.tunnel?.kind == .gre && packet.tunnel?.identifier == 42)
        #expect(packet.tunnel?.outerSource.description == "192.168.0.1" && packet.ipv6 != nil, "the outer addresses are kept, the inner header is the packet's")
    }

    @Test func erspanMirrorsOfEveryType() throws {
        let frames = Self.conversations(3).enumerated().flatMap { index, packets in
            packets.enumerated().map { F.erspan(type: index + 1, sequence: UInt32($0.offset), mirroring: F.ethernet(carrying: $0.element)) }
        }
        try expectTsharkAgrees(try write("erspan", frames), segments: 24, ignoring: Self.outerOnly, occurrence: "l")
    }

    /// 4in4, 6in4 (protocol 41), 4in6 and 6in6.
    @Test func ipInIPAllFourWays() throws {
        let conversations = Self.conversations(4)
        let frames = conversations.enumerated().flatMap { index, packets in packets.map { F.ipInIP(outerIPv6: index >= 2, $0) } }
        try expectTsharkAgrees(try write("ipip", frames), segments: 32, ignoring: Self.outerOnly, occurrence: "l")
    }

    @Test func vxlanAndGeneveOnTheirPorts() throws {
        let conversations = Self.conversations(4)
        var frames = conversations[0].map { F.vxlan(F.ethernet(carrying: $0)) } + conversations[1].map { F.vxlan(F.ethernet(carrying: $0)) }
        frames += conversations[2].map { F.geneve(F.ethernet(carrying: $0)) }
        frames += conversations[3].map { F.geneve(options: [1, 2, 3, 1, 0, 0, 0, 0], F.ethernet(carrying: $0)) }
        let path = try write("vxlan", frames)
        try expectTsharkAgrees(path, segments: 32, ignoring: Self.outerOnly, occurrence: "l")
        #expect(Packet(decoding: frames[0], linkType: .ethernet).tunnel?.identifier == 1234)
    }

    /// Fragments are put back together as tshark does: the TCP segment is analysed once, in
    /// the frame that completes it; a first fragment alone is not a segment; a datagram never
    /// completed is not analysed at all; a UDP datagram is whole in its last frame.
    @Test func fragmentsAreReassembledAsTsharkDoes() throws {
        let conversation = F.conversation()
        func data(seq: UInt32, _ count: Int) -> [UInt8] {
            F.ipv4(protocol: 6, F.tcpBetween(fromClient: true, ipv6: false, sourcePort: 40000, destinationPort: 80, seq: seq, ack: 5001,
                                              flags: 0x18, payload: (0..<count).map { UInt8(truncatingIfNeeded: $0) }))
        }
        func ack(_ number: UInt32) -> [UInt8] {
            F.ipv4(protocol: 6, reply: true, F.tcpBetween(fromClient: false, ipv6: false, sourcePort: 80, destinationPort: 40000, seq: 5001, ack: number, flags: 0x10))
        }
        var packets = Array(conversation[0..<3])
        packets += F.fragments(ofIPv4: data(seq: 1001, 3000), sizes: [1480, 1480, 1480], id: 0x77)
        packets.append(ack(4001))
        packets += F.fragments(ofIPv4: data(seq: 4001, 2000), sizes: [1000, 1020], id: 0x78).reversed()  // out of order
        packets.append(ack(6001))
        packets += F.fragments(ofIPv4: data(seq: 6001, 2000), sizes: [1000, 1020], id: 0x79).prefix(1)  // never completed
        packets += F.fragments(ofIPv4: F.ipv4(protocol: 17, F.udp(payload: [UInt8](repeating: 7, count: 3000))), sizes: [1480, 1480, 48], id: 0x80)
        let path = try write("fragments", packets.map(F.ethernet(carrying:)))
        let tcp = try InspectorAgreementTests.compare(path)
        #expect(tcp.segments == 7 && tcp.differences.isEmpty, "\(tcp.differences.joined(separator: "\n"))")
        let lines = try InspectorAgreementTests.jsonLines(path)
        let udp = try #require(lines.first { $0.contains("\"proto\":\"udp\"") })
        #expect(udp.contains("\"len\":3000") && udp.contains("\"frame\":14,"), "the UDP datagram, whole, in the frame that completed it: \(udp)")
        #expect(!lines.joined().contains("short packet or a small snaplen"), "a fragment is not a short packet")
        let capture = try CaptureFile(path: path)
        var session = Session(linkType: capture.linkType, options: Session.Options())
        var out = OutputBuffer()
        try capture.forEach { session.write(frame: $0, to: &out) }
        session.finish(to: &out)
        let text = String(decoding: out.bytes, as: UTF8.self)
        #expect(text.contains("── 1 IP datagram never completed in this capture") && text.contains("id 0x79"), "\(text.suffix(400))")
        #expect(text.contains("IPv4 fragment: bytes 0–999 of datagram id 0x79, more follow."))

        let six = F.conversation(ipv6: true)
        let big = F.ipv6(nextHeader: 6, from: F.source6, to: F.destination6,
                         F.tcpBetween(fromClient: true, ipv6: true, sourcePort: 40000, destinationPort: 80, seq: 1001, ack: 5001, flags: 0x18,
                                      payload: [UInt8](repeating: 0x71, count: 3000)))
        let path6 = try write("fragments6", (Array(six[0..<3]) + F.fragments(ofIPv6: big, sizes: [1448, 1448, 124], id: 0x99)).map(F.ethernet(carrying:)))
        let tcp6 = try InspectorAgreementTests.compare(path6)
        #expect(tcp6.segments == 4 && tcp6.differences.isEmpty, "\(tcp6.differences.joined(separator: "\n"))")
    }

    /// Two fragments that cover the same bytes with different data: the earlier offset wins, as
    /// in Wireshark's reassembly, and the segment is analysed once.
    @Test func overlappingFragments() throws {
        let segment = F.ipv4(protocol: 6, F.tcpBetween(fromClient: true, ipv6: false, sourcePort: 40000, destinationPort: 80, seq: 1001, ack: 5001,
                                                        flags: 0x18, payload: [UInt8](repeating: 0x61, count: 1600)))
        var pieces = F.fragments(ofIPv4: segment, sizes: [808, 812], id: 0x81)
        // The second piece starts 8 bytes early (offset 800) with other bytes there.
        var second = pieces[1]
        second.replaceSubrange(2..<4, with: F.be16(second.count + 8))
        second.replaceSubrange(6..<8, with: F.be16(800 / 8))
        second.insert(contentsOf: [UInt8](repeating: 0x42, count: 8), at: 20)
        second.replaceSubrange(10..<12, with: [0, 0])
        second.replaceSubrange(10..<12, with: F.be16(Int(F.checksum(Array(second[..<20])))))
        pieces[1] = second
        let path = try write("overlap", (Array(F.conversation()[0..<3]) + pieces).map(F.ethernet(carrying:)))
        let tcp = try InspectorAgreementTests.compare(path)
        #expect(tcp.segments == 4 && tcp.differences.isEmpty, "\(tcp.differences.joined(separator: "\n"))")
    }

    /// A SYN cut by a 50-byte snaplen still opens its connection; the options it lost are
    /// unknown, not absent (tshark then scales the server's windows by the server's own offer).
    @Test func aTCPHeaderCutShortKeepsWhatWasRead() throws {
        var file = PcapBytes(linkType: 1)
        for (index, packet) in F.conversation().enumerated() {
            let frame = F.ethernet(carrying: packet)
            file.add(frame, seconds: 1_700_000_000, fraction: UInt32(index) * 1000, captured: index == 0 ? 50 : nil)
        }
        // And SYNs cut after the window (16 bytes of TCP), inside the fixed header's last
        // fields and inside the options: each still counts. Cut sooner, only the ports show.
        let syn = F.ethernet(carrying: F.conversation(clientPort: 41000)[0])
        for cut in [50, 52, 58, 38, 42, 46, 48] { file.add(syn, seconds: 1_700_000_001, fraction: UInt32(cut), captured: cut) }
        let path = "\(directory)/cut.pcap"
        try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        try expectTsharkAgrees(path, segments: 8 + 3)
        let lines = try InspectorAgreementTests.jsonLines(path)
        #expect(lines.contains { $0.contains("\"kind\":\"handshake\"") && $0.contains("\"state\":\"complete\"") })
    }

    /// IPv4 total length 0 (segmentation offload) and a length past the frame's end: the
    /// payload is what the wire held. A data offset below 5 words still counts in its stream.
    /// The reserved flag bits and the ACK number of a segment without ACK, as tshark shows them.
    @Test func lengthsThatLieAndBitsThatAreReserved() throws {
        func segment(_ port: Int, seq: UInt32 = 100, ack: UInt32 = 0, flags: Int, payload: [UInt8] = []) -> [UInt8] {
            F.tcpBetween(fromClient: true, ipv6: false, sourcePort: port, destinationPort: 80, seq: seq, ack: ack, flags: flags, payload: payload)
        }
        var zeroLength = F.ipv4(protocol: 6, segment(1, flags: 0x18, payload: Array("abcdef".utf8)))
        zeroLength.replaceSubrange(2..<4, with: [0, 0])
        var tooLong = F.ipv4(protocol: 6, segment(2, flags: 0x18, payload: Array("abcdef".utf8)))
        tooLong.replaceSubrange(2..<4, with: F.be16(200))
        var shortOffset = F.ipv4(protocol: 6, segment(3, flags: 0x02))
        shortOffset[32] = 0x40
        let frames = [zeroLength, tooLong, shortOffset,
                      F.ipv4(protocol: 6, segment(4, ack: 777, flags: 0x02)),
                      F.ipv4(protocol: 6, segment(5, flags: 0xE02)),
                      F.ipv4(protocol: 6, segment(6, ack: 5, flags: 0xF12))].map(F.ethernet(carrying:))
        let path = try write("lengths", frames)
        // tshark leaves out the fields after a bad data offset; the stream numbers still agree.
        let tcp = try InspectorAgreementTests.compare(path)
        #expect(tcp.segments == 6)
        #expect(tcp.differences.allSatisfy { $0.hasPrefix("frame 3 ") }, "\(tcp.differences.joined(separator: "\n"))")
        let lines = try InspectorAgreementTests.jsonLines(path)
        #expect(lines.contains { $0.contains("\"frame\":1,") && $0.contains("\"len\":6") })
        #expect(lines.contains { $0.contains("\"frame\":2,") && $0.contains("\"len\":6") })
        #expect(lines.contains { $0.contains("\"frame\":5,") && $0.contains("\"Reserved\"") })
    }

    /// A record whose microsecond field is a second or more: no view traps, the JSON time is
    /// tshark's `frame.time_epoch`, and the relative times carry the excess into the seconds.
    @Test func aFractionOfOneSecondOrMoreTrapsNoView() throws {
        var file = PcapBytes(linkType: 1)
        for (index, packet) in F.conversation().enumerated() {
            file.add(F.ethernet(carrying: packet), seconds: 1_700_000_000, fraction: index == 1 ? 1_000_000 : UInt32(index) * 1000)
        }
        let path = "\(directory)/fraction.pcap"
        try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        let theirs = try Tshark.read(path)
        let lines = try InspectorAgreementTests.jsonLines(path)
        #expect(theirs[1]["frame.time_epoch"] == "1700000000.1000000000")
        #expect(lines.contains { $0.contains("\"frame\":2,\"time\":1700000000.1000000000,") }, "\(lines.prefix(3))")
        for view in [Session.View.text, .ladder, .summaryTable, .summaryJSON] {
            var options = Session.Options()
            options.view = view
            options.detail = .everySegment
            let capture = try CaptureFile(path: path)
            var session = Session(linkType: capture.linkType, options: options)
            var out = OutputBuffer()
            try capture.forEach { session.write(frame: $0, to: &out) }
            session.finish(to: &out)
            #expect(out.count > 0)
        }
        let later = Timestamp(seconds: 1_700_000_000, nanoseconds: 2_000_000)
        #expect(Timestamp(seconds: 1_700_000_000, nanoseconds: 1_000_000_000) > later, "the excess second counts")
        #expect(abs(later.seconds(since: Timestamp(seconds: 1_700_000_000, nanoseconds: 1_000_000_000)) + 0.998) < 1e-9)
    }

    /// Writes raw IPv4 packets in Ethernet at the given times (seconds after 1,700,000,000).
    func write(_ name: String, _ packets: [[UInt8]], at times: [Double]) throws -> String {
        var file = PcapBytes(linkType: 1)
        for (packet, time) in zip(packets, times) {
            let micro = Int((time * 1_000_000).rounded())
            file.add(F.ethernet(carrying: packet), seconds: 1_700_000_000 + UInt32(micro / 1_000_000), fraction: UInt32(micro % 1_000_000))
        }
        let path = "\(directory)/\(name).pcap"
        try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The analysis names of every TCP frame, the inspector's beside tshark's.
    func expectAnalysisAgrees(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let names = AnalysisFlags.named.map(\.1)
        let (status, output) = try run(["tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-e", "frame.number", "-e", "tcp.stream"]
                                       + names.flatMap { ["-e", "tcp.analysis.\($0)"] }, separateErrors: true)
        try #require(status == 0)
        var theirs: [Int: Set<String>] = [:]
        for line in output.split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let frame = Int(columns[0]), !columns[1].isEmpty else { continue }
            theirs[frame] = Set(zip(names, columns.dropFirst(2)).filter { !$0.1.isEmpty }.map(\.0))
        }
        for line in try InspectorAgreementTests.jsonLines(path) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard object["kind"] as? String == "packet", object["proto"] as? String == "tcp", let frame = object["frame"] as? Int else { continue }
            let ours = Set(object["analysis"] as? [String] ?? [])
            #expect(ours == theirs[frame] ?? [], "frame \(frame): tshark \(theirs[frame] ?? []), inspector \(ours)", sourceLocation: sourceLocation)
        }
    }

    /// The same segment twice within one RTT, FIN included, is a retransmission (it ends where
    /// the highest segment ended); an earlier one resent within the RTT is out of order.
    /// A zero-duration handshake has no RTT (tshark takes the next segment's); one completed
    /// by a FIN/ACK or RST/ACK has its RTT and is no timeout; a SYN-ACK repeated with another
    /// ISN, or after a RST, starts the server's numbers again; TCP Fast Open data on a SYN.
    @Test func connectionEdgeCases() throws {
        func client(_ port: Int, _ seq: UInt32, _ ack: UInt32, _ flags: Int, _ payload: [UInt8] = [], options: [UInt8] = []) -> [UInt8] {
            F.ipv4(protocol: 6, F.tcpBetween(fromClient: true, ipv6: false, sourcePort: port, destinationPort: 80, seq: seq, ack: ack,
                                              flags: flags, options: options, payload: payload))
        }
        func server(_ port: Int, _ seq: UInt32, _ ack: UInt32, _ flags: Int, options: [UInt8] = []) -> [UInt8] {
            F.ipv4(protocol: 6, reply: true, F.tcpBetween(fromClient: false, ipv6: false, sourcePort: 80, destinationPort: port, seq: seq, ack: ack,
                                                           flags: flags, options: options))
        }
        let a = [UInt8](repeating: 0x61, count: 10), b = [UInt8](repeating: 0x62, count: 10), c = [UInt8](repeating: 0x63, count: 10)
        let duplicates = [client(1, 1000, 0, 0x02), server(1, 5000, 1001, 0x12), client(1, 1001, 5001, 0x10),
                          client(1, 1001, 5001, 0x18, a), client(1, 1001, 5001, 0x18, a), client(1, 1011, 5001, 0x18, b),
                          client(1, 1021, 5001, 0x18, c), client(1, 1011, 5001, 0x18, b), client(1, 1031, 5001, 0x11),
                          client(1, 1031, 5001, 0x11), server(1, 5001, 1032, 0x11), client(1, 1032, 5002, 0x10)]
        let times = [0, 0.05, 0.1, 0.2, 0.201, 0.21, 0.22, 0.221, 0.3, 0.301, 0.4, 0.5]
        let retransmissions = try write("duplicates", duplicates, at: times)
        try expectAnalysisAgrees(retransmissions)
        let zero = try write("zero-rtt", duplicates, at: [0, 0, 0] + times.dropFirst(3))
        try expectAnalysisAgrees(zero)
        try InspectorAgreementTests.expectAgreement(zero, minimumSegments: 12)
        // Backwards in time: the note says so, not "-10.0 ms earlier".
        let backwards = try write("backwards", duplicates, at: [0, 0.05, 0.1, 0.2, 0.19] + times.dropFirst(5))
        try expectAnalysisAgrees(backwards)
        let lines = try InspectorAgreementTests.jsonLines(backwards)
        let resent = try #require(lines.first { $0.contains("\"frame\":5,") })
        #expect(resent.contains("runs backwards") && !resent.contains("-10.0 ms"), "\(resent)")

        let fastOpen: [UInt8] = [34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]
        let openings = [client(2, 1000, 0, 0x02), server(2, 5000, 1001, 0x12), client(2, 1001, 5001, 0x11),
                        client(3, 1000, 0, 0x02), server(3, 5000, 1001, 0x12), client(3, 1001, 5001, 0x14),
                        client(4, 7000, 0, 0x02), server(4, 0, 7001, 0x14), server(4, 9000, 7001, 0x12), client(4, 7001, 9001, 0x10),
                        client(5, 3000, 0, 0x02, Array("GET / HTTP/1.0\r\n".utf8), options: fastOpen), server(5, 6000, 3017, 0x12), client(5, 3017, 6001, 0x10),
                        client(6, 4000, 0, 0x02), server(6, 8000, 4001, 0x12, options: [2, 4, 5, 180]),
                        server(6, 8500, 4001, 0x12, options: [2, 4, 5, 0]), client(6, 4001, 8501, 0x10)]
        let path = try write("openings", openings, at: (0..<openings.count).map { Double($0) * 0.01 })
        try InspectorAgreementTests.expectAgreement(path, minimumSegments: openings.count)
        try expectAnalysisAgrees(path)
        let states = try InspectorAgreementTests.records(path).compactMap { if case .handshake(let h) = $0 { h.state } else { nil } }
        #expect(!states.contains(.timeout), "a SYN-ACK was in every one: \(states)")
    }

    /// Wireshark capturing on several interfaces writes one pcapng with an interface of each
    /// link type; libpcap refuses such a file, tshark reads it, and so does SocketLab. A pcap
    /// whose header's snapshot length is smaller than its records keeps the records whole, as
    /// tshark does (libpcap would cut them).
    @Test func pcapngWithInterfacesOfSeveralLinkTypes() throws {
        let ethernet = try write("if-ethernet", F.conversation(clientPort: 40001).map(F.ethernet(carrying:)))
        let cooked = try write("if-sll", linkType: .linuxCooked, F.conversation(ipv6: true, clientPort: 40002).map { F.linuxCooked($0) })
        let raw = try write("if-raw", linkType: .raw, F.conversation(clientPort: 40003))
        let merged = "\(directory)/several.pcapng"
        let (status, output) = try run(["mergecap", "-F", "pcapng", "-w", merged, ethernet, cooked, raw])
        try #require(status == 0, "\(output)")
        try expectTsharkAgrees(merged, segments: 24)
        let frames = try CaptureFile(path: merged).readAll()
        #expect(Set(frames.map { ($0.linkType ?? .ethernet).description }) == ["EN10MB", "LINUX_SLL", "RAW"])

        var file = PcapBytes(linkType: 1, snapshotLength: 60)
        for (index, packet) in F.conversation().enumerated() {
            file.add(F.ethernet(carrying: packet), seconds: 1_700_000_000, fraction: UInt32(index) * 1000)
        }
        let small = "\(directory)/small-snaplen.pcap"
        try Data(file.bytes).write(to: URL(fileURLWithPath: small))
        try expectTsharkAgrees(small, segments: 8)
    }
}

/// The file reader on damaged files: every whole frame before the damage, then the error
/// (exit 2) naming what was wrong; a file read from a pipe reads as from a file.
@Suite struct CaptureFormatTests {
    typealias F = FrameBuilder

    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func block(_ type: UInt32, _ body: [UInt8], length: UInt32? = nil) -> [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let total = length ?? UInt32(padded.count + 12)
        return le32(type) + le32(total) + padded + le32(total)
    }
    static let section = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
    static let interface = block(1, le16(1) + le16(0) + le32(65535))
    static func packet(_ frame: [UInt8], interface: UInt32 = 0) -> [UInt8] {
        block(6, le32(interface) + le32(0) + le32(1_000_000) + le32(UInt32(frame.count)) + le32(UInt32(frame.count)) + frame)
    }

    /// Reads `bytes` through a pipe; returns the frames delivered and the error, if any.
    static func read(_ bytes: [UInt8]) throws -> (frames: Int, error: CaptureError?) {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        let writeEnd = fds[1]
        let writer = Thread { _ = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }; close(writeEnd) }
        writer.start()
        let capture = try CaptureFile(descriptor: fds[0], name: "a pipe", owned: true)
        var frames = 0
        do {
            try capture.forEach { _ in frames += 1 }
            return (frames, nil)
        } catch {
            return (frames, error)
        }
    }

    @Test func damagedFilesStopAtTheDamageWithEverythingBefore() throws {
        let frame = F.ethernet(carrying: F.conversation()[0])
        let good = Self.section + Self.interface + Self.packet(frame) + Self.packet(frame)
        #expect(try Self.read(good).frames == 2)
        let cases: [(String, [UInt8], String)] = [
            ("a packet on an interface never described", good + Self.packet(frame, interface: 3), "names interface 3"),
            ("a block whose length cannot be", good + Self.block(6, [1, 2, 3, 4], length: 13), "cannot be"),
            ("a file that ends inside a block", good + Array(Self.packet(frame).prefix(30)), "ends inside a block"),
        ]
        for (name, bytes, words) in cases {
            let (frames, error) = try Self.read(bytes)
            #expect(frames == 2, "\(name): the whole frames before the damage")
            guard case .truncatedFile(_, let read, let detail)? = error else { Issue.record("\(name): \(String(describing: error))"); continue }
            #expect(read == 2 && detail.contains(words), "\(name): \(detail)")
            #expect(error?.exitStatus == .badInput)
        }
        // A pcap record longer than any packet is damage, not a reason to allocate 4 GB.
        var pcap = PcapBytes(linkType: 1)
        pcap.add(frame, seconds: 1, fraction: 0)
        let huge = pcap.bytes + Self.le32(1) + Self.le32(0) + Self.le32(0xFFFF_FFF0) + Self.le32(60)
        let (frames, error) = try Self.read(huge)
        #expect(frames == 1)
        guard case .truncatedFile(_, _, let detail)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(detail.contains("more than any packet"), "\(detail)")
    }

    /// Every prefix of a pcap and of a pcapng file (the fuzzer's first find in the reader was
    /// a 20-byte file): each is read as far as it goes or refused, and nothing traps.
    @Test func everyPrefixOfAFileReadsOrIsRefused() throws {
        let frame = F.ethernet(carrying: F.conversation()[0])
        var pcap = PcapBytes(linkType: 1)
        pcap.add(frame, seconds: 1, fraction: 0)
        pcap.add(frame, seconds: 1, fraction: 1)
        let pcapng = Self.section + Self.interface + Self.packet(frame) + Self.packet(frame)
        for file in [pcap.bytes, pcapng] {
            for length in 0...file.count {
                let bytes = Array(file.prefix(length))
                var fds: [Int32] = [-1, -1]
                try #require(pipe(&fds) == 0)
                _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                close(fds[1])
                guard let capture = try? CaptureFile(descriptor: fds[0], name: "prefix", owned: true) else { continue }
                var frames = 0
                try? capture.forEach { _ in frames += 1 }
                #expect(frames <= 2)
            }
        }
    }
}
