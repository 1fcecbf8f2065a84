import PacketCapture
import Foundation
import Packets
import SocketCore
import Testing

/// Real traffic on loopback, captured with libpcap, decoded by SocketLab and by tshark: every
/// field of every frame must agree.
@Suite(.serialized) struct LiveCaptureTests {
    let directory: String
    init() throws { directory = try temporaryDirectory("capture-tests") }

    @Test func curlAndPythonHTTPServerOverIPv4AndIPv6() throws {
        let port4 = try freePort(), port6 = try freePort(.ipv6)
        _ = FileManager.default.createFile(atPath: "\(directory)/page.html", contents: Data(repeating: 0x41, count: 5000))
        let server4 = try httpServer(host: "127.0.0.1", port: port4, directory: directory)
        let server6 = try httpServer(host: "::1", port: port6, directory: directory)
        defer { server4.stop(); server6.stop() }
        let capture = try captureWhile("http", in: directory, filter: "tcp port \(port4) or tcp port \(port6)") {
            try curl("http://127.0.0.1:\(port4)/page.html")
            try curl("http://[::1]:\(port6)/page.html")
        }
        #expect(capture.frames >= 20, "two HTTP exchanges: handshakes, request, 5000-byte reply, teardowns")
        // Loopback: the kernel's hook sees each packet going out and coming in.
        #expect(capture.statistics.received >= UInt32(capture.frames))
        #expect(capture.statistics.droppedByKernel == 0)
        let frames = try CaptureFile(path: capture.path).readAll()
        let packets = frames.map { $0.decode(.ethernet) }
        #expect(packets.contains { $0.tcp?.flags == .syn && $0.ipv4 != nil })
        #expect(packets.contains { $0.tcp?.flags == .syn && $0.ipv6 != nil })
        #expect(packets.allSatisfy { $0.problem == nil })
        try expectAgreement(capture.path, minimumFrames: 20)
    }

    @Test func pingOverBothFamilies() throws {
        let capture = try captureWhile("ping", in: directory, filter: "icmp or icmp6") {
            for target in ["127.0.0.1", "::1"] {
                let (status, output) = try run(["ping", "-c", "3", "-i", "0.2", "-W", "2", target])
                try #require(status == 0, "ping \(target): \(output)")
            }
        }
        let packets = try CaptureFile(path: capture.path).readAll().map { $0.decode(.ethernet) }
        #expect(packets.filter { if case .echoRequest = $0.icmp?.message { true } else { false } }.count == 3)
        #expect(packets.filter { if case .echoReply = $0.icmpv6?.message { true } else { false } }.count == 3)
        #expect(packets.compactMap(\.icmp).allSatisfy { $0.checksumStatus == .good })
        try expectAgreement(capture.path, minimumFrames: 12)
    }

    @Test func udpDatagramsAndPortUnreachableErrors() throws {
        let receiver = try Socket.udp(.ipv4)
        try receiver.bind(to: .loopback(0))
        let port = try receiver.localAddress.port!
        let closed4 = try freePort(), closed6 = try freePort(.ipv6)
        let capture = try captureWhile("udp", in: directory, filter: "udp port \(port) or icmp or icmp6") {
            let sender = try Socket.udp(.ipv4)
            for size in [0, 1, 100, 1400] { try sender.send(pattern(size), to: .loopback(port)) }
            // A real client too: netcat.
            _ = try run(["bash", "-c", "echo hello | nc -u -w1 -q0 127.0.0.1 \(port)"])
            // Nothing listens here: the kernel answers with ICMP port unreachable.
            try sender.send([1, 2, 3], to: .loopback(closed4))
            let sender6 = try Socket.udp(.ipv6)
            try sender6.send([4, 5, 6], to: .loopback(closed6, family: .ipv6))
            usleep(100_000)
        }
        let packets = try CaptureFile(path: capture.path).readAll().map { $0.decode(.ethernet) }
        #expect(packets.filter { $0.udp?.destinationPort == port }.count == 5)
        guard let unreachable = packets.compactMap(\.icmp).first,
              case .destinationUnreachable(let quoted?) = unreachable.message else {
            Issue.record("no ICMP port unreachable in \(packets.map(\.summary))")
            return
        }
        #expect(unreachable.code == 3)
        #expect(quoted.destinationPort == closed4, "the error quotes the datagram that failed")
        guard case .destinationUnreachable(let quoted6?) = packets.compactMap(\.icmpv6).first?.message else {
            Issue.record("no ICMPv6 destination unreachable")
            return
        }
        #expect(quoted6.destinationPort == closed6)
        try expectAgreement(capture.path, minimumFrames: 7)
    }

    @Test(arguments: [LinkType.linuxCooked, .linuxCooked2])
    func anyInterfaceGivesLinuxCookedFrames(linkType: LinkType) throws {
        let port = try freePort()
        let server = try httpServer(host: "127.0.0.1", port: port, directory: directory)
        defer { server.stop() }
        let capture = try captureWhile("any-\(linkType.rawValue)", in: directory, interface: "any", filter: "tcp port \(port)", linkType: linkType) {
            try curl("http://127.0.0.1:\(port)/")
        }
        let file = try CaptureFile(path: capture.path)
        #expect(file.linkType == linkType)
        let packets = try file.readAll().map { $0.decode(linkType) }
        #expect(packets.allSatisfy { if case .linuxCooked = $0.link { $0.tcp != nil } else { false } })
        try expectAgreement(capture.path, minimumFrames: 8)
    }

    @Test func statisticsWhileRunningAndCountStop() throws {
        let port = try freePort()
        var options = LiveCapture.Options()
        options.filter = "udp port \(port)"
        let capture = try LiveCapture(options)
        let running = Peer { () throws -> [UInt32] in
            var seen: [UInt32] = []
            try capture.run(count: 10) { _ in seen.append((try? capture.statistics().received) ?? 0) }
            return seen
        }
        let sender = try Socket.udp(.ipv4)
        for _ in 0..<10 { try sender.send([0], to: .loopback(port)); usleep(2_000) }
        let received = try running.value()
        #expect(received.count == 10, "run(count:) stops after exactly 10 frames")
        #expect(received.last! >= 10, "the counters grow while the capture runs")
    }

    @Test func fileWrittenDuringCaptureOpensInTcpdumpAndTshark() throws {
        let port = try freePort()
        let capture = try captureWhile("written", in: directory, filter: "udp port \(port)") {
            let sender = try Socket.udp(.ipv4)
            for i in 0..<25 { try sender.send(pattern(i * 10), to: .loopback(port)) }
        }
        #expect(capture.frames == 25)
        let (status, output) = try run(["tcpdump", "-nn", "-r", capture.path])
        #expect(status == 0)
        #expect(output.split(separator: "\n").filter { $0.contains("UDP, length") }.count == 25)
        let (tsharkStatus, count) = try run(["bash", "-c", "tshark -r \(capture.path) 2>/dev/null | wc -l"])
        #expect(tsharkStatus == 0 && count.trimmingCharacters(in: .whitespacesAndNewlines) == "25")
    }

    @Test func captureErrorsSayWhatToDo() throws {
        var options = LiveCapture.Options()
        options.interface = "nosuch0"
        #expect(throws: CaptureError.self) { try LiveCapture(options) }
        do {
            _ = try LiveCapture(options)
        } catch {
            #expect(error.exitStatus == .badInput)
            guard case .noSuchDevice = error else { Issue.record("\(error)"); return }
        }
        options.interface = "lo"
        options.filter = "tcp prot 80"
        do {
            _ = try LiveCapture(options)
            Issue.record("a bad filter was accepted")
        } catch {
            guard case .badFilter(let filter, _) = error else { Issue.record("\(error)"); return }
            #expect(filter == "tcp prot 80")
            #expect(error.exitStatus == .badInput)
            #expect(error.description.contains("man pcap-filter"))
        }
    }

    @Test func interfacesListLoopbackWithItsAddresses() throws {
        let loopback = try #require(try NetworkInterface.all().first { $0.name == "lo" })
        #expect(loopback.isLoopback && loopback.isUp)
        #expect(loopback.addresses.contains { $0.address.host == "127.0.0.1" })
    }
}
