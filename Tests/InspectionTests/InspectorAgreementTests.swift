import PacketCapture
import Foundation
import Inspection
import Packets
import SocketCore
import Testing

/// The inspector's numbers against tshark's on captures of real connections: for every TCP
/// segment, the stream index, flags, relative and raw sequence and acknowledgement numbers,
/// payload length and scaled window must be the same.
@Suite(.serialized) struct InspectorAgreementTests {
    let directory: String
    init() throws { directory = try temporaryDirectory("inspector-tests") }

    static let fields = ["tcp.stream", "tcp.flags", "tcp.seq", "tcp.ack", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.window_size"]

    /// Runs the inspector (`read --json`, the session a student runs, fragments reassembled)
    /// over `file` and tshark over the same file; returns the disagreements. `occurrence` "l"
    /// takes tshark's innermost TCP header (tunnels).
    static func compare(_ file: String, occurrence: String = "l", tsharkOptions: [String] = []) throws -> (segments: Int, differences: [String]) {
        let arguments = ["tshark", "-r", file, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=\(occurrence)",
                         "-e", "frame.number"] + tsharkOptions + Self.fields.flatMap { ["-e", $0] }
        // tshark exits 2 on a file cut short, after printing every frame before the cut.
        let (status, output) = try run(arguments, separateErrors: true)
        try #require(status == 0 || status == 2)
        var theirs: [Int: [String]] = [:]
        for line in output.split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let frame = Int(columns[0]), !columns[1].isEmpty else { continue }  // not TCP
            theirs[frame] = columns.dropFirst().map(Tshark.normalize)
        }
        var differences: [String] = []
        var segments = 0
        var seen: Set<Int> = []
        for line in try Self.jsonLines(file) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard object["kind"] as? String == "packet", object["proto"] as? String == "tcp",
                  let frame = object["frame"] as? Int else { continue }
            segments += 1
            seen.insert(frame)
            let names = object["flags"] as? [String] ?? []
            var flags = 0
            for (flag, name) in [(0x02, "SYN"), (0x10, "ACK"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x20, "URG"), (0x40, "ECE"), (0x80, "CWR"), (0x100, "AE")]
            where names.contains(name) { flags |= flag }
            // A null length (a segment in a fragment never reassembled) is tshark's empty field.
            let ours = [object["stream"], flags, object["seq"], object["ack"], object["seq_raw"], object["ack_raw"], object["len"], object["win"]]
                .map { $0 is NSNull ? "" : "\($0 ?? "—")" }
            guard let expected = theirs[frame] else {
                differences.append("frame \(frame): the inspector sees TCP, tshark does not")
                continue
            }
            for (name, (mine, other)) in zip(Self.fields, zip(ours, expected)) where mine != other {
                // The reserved bits are in tshark's flags number and only named in the JSON.
                if name == "tcp.flags", names.contains("Reserved"), let number = Int(other), number & 0x1FF == flags { continue }
                differences.append("frame \(frame) \(name): tshark \(other), inspector \(mine)")
            }
        }
        for frame in theirs.keys.sorted() where !seen.contains(frame) {
            differences.append("frame \(frame): tshark sees TCP, the inspector does not")
        }
        print("inspector vs tshark: \(file): \(segments) segments × \(Self.fields.count) fields, \(differences.count) differences")
        return (segments, differences)
    }

    /// Every complete handshake the inspector reports against tshark: both ISNs, each side's
    /// options (MSS, window scale, SACK permitted, timestamps) and the handshake RTT
    /// (`tcp.analysis.initial_rtt`). Returns the handshakes checked and the disagreements.
    static func compareHandshakes(_ file: String) throws -> (handshakes: Int, differences: [String]) {
        let fields = ["tcp.seq_raw", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm",
                      "tcp.options.timestamp.tsval", "tcp.analysis.initial_rtt"]
        let (status, output) = try run(["tshark", "-r", file, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
                                        "-e", "frame.number"] + fields.flatMap { ["-e", $0] }, separateErrors: true)
        try #require(status == 0 || status == 2)
        var rows: [Int: [String]] = [:]
        for line in output.split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if let frame = Int(columns[0]) { rows[frame] = Array(columns.dropFirst()) }
        }
        let records = try Self.records(file)
        var differences: [String] = []
        var checked = 0
        for case .handshake(let h) in records where h.state == .complete {
            checked += 1
            func check(_ what: String, _ mine: String, _ theirs: String?) {
                if mine != (theirs ?? "") { differences.append("stream \(h.stream) \(what): tshark \(theirs ?? "—"), inspector \(mine)") }
            }
            func options(_ o: OfferedOptions, frame: Int, side: String) {
                let row = rows[frame] ?? []
                check("\(side) MSS", o.mss.map(String.init) ?? "", row[safe: 1])
                check("\(side) window scale", o.windowScale.map(String.init) ?? "", row[safe: 2])
                check("\(side) SACK permitted", o.sackPermitted ? "yes" : "no", (row[safe: 3] ?? "").isEmpty ? "no" : "yes")
                check("\(side) timestamps", o.timestamps ? "yes" : "no", (row[safe: 4] ?? "").isEmpty ? "no" : "yes")
            }
            check("client ISN", String(h.clientISN), rows[h.synFrame]?[safe: 0])
            options(h.clientOptions, frame: h.synFrame, side: "client")
            if let frame = h.synAckFrame, let isn = h.serverISN, let offered = h.serverOptions {
                check("server ISN", String(isn), rows[frame]?[safe: 0])
                options(offered, frame: frame, side: "server")
            }
            if let frame = h.ackFrame {
                check("handshake RTT", h.rtt.map(JSONLines.format9) ?? "", rows[frame]?[safe: 5])
            }
        }
        print("inspector vs tshark: \(file): \(checked) handshakes, \(differences.count) differences")
        return (checked, differences)
    }

    static func expectAgreement(_ file: String, minimumSegments: Int) throws {
        let handshakes = try Self.compareHandshakes(file)
        #expect(handshakes.differences.isEmpty, "\(handshakes.differences.prefix(20).joined(separator: "\n"))")
        let result = try Self.compare(file)
        #expect(result.segments >= minimumSegments)
        let report = result.differences.prefix(20).joined(separator: "\n")
        #expect(result.differences.isEmpty, "\(result.differences.count) disagreements:\n\(report)")
    }

    @Test func curlAndPythonOverIPv4AndIPv6() throws {
        let port4 = try freePort(), port6 = try freePort(.ipv6)
        _ = FileManager.default.createFile(atPath: "\(directory)/big.bin", contents: Data(pattern(300_000)))
        let server4 = try httpServer(host: "127.0.0.1", port: port4, directory: directory)
        let server6 = try httpServer(host: "::1", port: port6, directory: directory)
        defer { server4.stop(); server6.stop() }
        let capture = try captureWhile("http", in: directory, filter: "tcp port \(port4) or tcp port \(port6)") {
            try curl("http://127.0.0.1:\(port4)/big.bin")
            try curl("http://[::1]:\(port6)/big.bin")
        }
        try Self.expectAgreement(capture.path, minimumSegments: 20)
    }

    @Test func connectionRefused() throws {
        let port = try freePort()
        let capture = try captureWhile("refused", in: directory, filter: "tcp port \(port)") {
            #expect(throws: SocketError.self) { try Socket.connected(to: .loopback(port)) }
        }
        try Self.expectAgreement(capture.path, minimumSegments: 2)
    }

    @Test func twentyParallelConnections() throws {
        let listener = try Socket.listening(on: .loopback(0), backlog: 128)
        let port = try listener.localAddress.port!
        let server = Peer {
            for _ in 0..<20 {
                let (connection, peer) = try listener.accept()
                try connection.send(Array("hello \(peer)\n".utf8))
                _ = try connection.receiveUntilEOF()
            }
        }
        let capture = try captureWhile("parallel", in: directory, filter: "tcp port \(port)") {
            let clients = (0..<20).map { i in
                Peer { () throws -> Int in
                    let socket = try Socket.connected(to: .loopback(port))
                    try socket.send(pattern(1000 * (i + 1)))
                    try socket.shutdown(.write)
                    return try socket.receiveUntilEOF().count
                }
            }
            for client in clients { _ = try client.value() }
            try server.value()
        }
        let file = try CaptureFile(path: capture.path)
        var tracker = ConnectionTracker()
        for frame in try file.readAll() { _ = tracker.add(frame: frame.number, time: frame.timestamp, packet: frame.decode(file.linkType)) }
        #expect(tracker.streamCount == 20, "twenty connections, twenty streams")
        try Self.expectAgreement(capture.path, minimumSegments: 20 * 8)
    }

    /// All the records of a capture, in order.
    static func records(_ file: String) throws -> [ConnectionTracker.Record] {
        let capture = try CaptureFile(path: file)
        var tracker = ConnectionTracker()
        var records: [ConnectionTracker.Record] = []
        do {
            while let frame = try capture.next() {
                _ = tracker.add(frame: frame.number, time: frame.timestamp, packet: frame.decode(capture.linkType))
                records += tracker.takeRecords()
            }
        } catch {
            // As the inspector: every whole frame before the damage counts.
            guard case .truncatedFile = error else { throw error }
        }
        return records + tracker.finish()
    }

    /// The lines `inspector read FILE --json` prints, from the same session.
    static func jsonLines(_ file: String) throws -> [String] {
        let capture = try CaptureFile(path: file)
        var options = Session.Options()
        options.view = .jsonLines
        var session = Session(linkType: capture.linkType, options: options)
        var out = OutputBuffer()
        do {
            try capture.forEach { session.write(frame: $0, to: &out) }
        } catch {
            // As the inspector: every whole frame before the damage is shown, then the end.
            guard case .truncatedFile = error else { throw error }
        }
        session.finish(to: &out)
        return String(decoding: out.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func refusedHalfClosedAndAbortedConnectionsAreNamed() throws {
        let closed = try freePort()
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port!
        let server = Peer {
            for _ in 0..<2 {
                let (connection, _) = try listener.accept()
                let request = try connection.receiveUntilEOF()  // the client half-closes, or resets
                try? connection.send(Array("got \(request.count) bytes\n".utf8))
                try? connection.close()
            }
        }
        let capture = try captureWhile("lifecycle", in: directory, filter: "tcp port \(port) or tcp port \(closed)") {
            #expect(throws: SocketError.self) { try Socket.connected(to: .loopback(closed)) }
            // Half-close: shutdown(SHUT_WR) sends a FIN, and the reply still comes back.
            let polite = try Socket.connected(to: .loopback(port))
            try polite.send(pattern(500))
            try polite.shutdown(.write)
            #expect(String(decoding: try polite.receiveUntilEOF(), as: UTF8.self) == "got 500 bytes\n")
            try polite.close()
            // Abort: SO_LINGER 0 makes close() send RST.
            let rude = try Socket.connected(to: .loopback(port))
            try rude.send(pattern(10))
            try rude.set(.linger, .abort)
            try rude.close()
            try? server.value()
        }
        let records = try Self.records(capture.path)
        let handshakes = records.compactMap { if case .handshake(let h) = $0 { h } else { nil } }
        let closes = records.compactMap { if case .close(let c) = $0 { c } else { nil } }
        #expect(handshakes.map(\.state) == [.refused, .complete, .complete])
        #expect(closes.map(\.how) == [.halfClose, .rst], "\(closes)")
        #expect(closes.first?.first == .client)
        try Self.expectAgreement(capture.path, minimumSegments: 12)
    }

    @Test func aReusedPortStartsANewStream() throws {
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port!
        let clientPort = try freePort()
        let server = Peer {
            for _ in 0..<2 {
                // The server closes first, so TIME_WAIT stays on its side and the client may
                // use the same port again at once: the same 4-tuple, a new ISN.
                let (connection, _) = try listener.accept()
                try connection.send(Array("bye\n".utf8))
                try connection.close()
            }
        }
        let capture = try captureWhile("reuse", in: directory, filter: "tcp port \(port)") {
            for _ in 0..<2 {
                let socket = try Socket.tcp(.ipv4)
                try socket.set(.reuseAddress, true)
                try socket.bind(to: .loopback(clientPort))
                try socket.connect(to: .loopback(port))
                _ = try socket.receiveUntilEOF()
                try socket.close()
                usleep(50_000)
            }
            try server.value()
        }
        let file = try CaptureFile(path: capture.path)
        var tracker = ConnectionTracker()
        for frame in try file.readAll() { _ = tracker.add(frame: frame.number, time: frame.timestamp, packet: frame.decode(file.linkType)) }
        #expect(tracker.streamCount == 2, "one 4-tuple, two connections, two streams")
        try Self.expectAgreement(capture.path, minimumSegments: 12)
    }
}

extension InspectorAgreementTests {
    /// A pcapng file (what Wireshark saves by default) and an `-i any` capture (Linux cooked
    /// SLL2 frames, no Ethernet header): the same numbers as tshark, and the pcapng gives the
    /// inspector exactly the output the pcap gives.
    @Test func pcapngAndAnyInterface() throws {
        let port = try freePort()
        let server = try httpServer(host: "127.0.0.1", port: port, directory: directory)
        defer { server.stop() }
        let capture = try captureWhile("any", in: directory, interface: "any", filter: "tcp port \(port)", linkType: .linuxCooked2) {
            try curl("http://127.0.0.1:\(port)/")
        }
        #expect(try CaptureFile(path: capture.path).linkType == .linuxCooked2)
        try Self.expectAgreement(capture.path, minimumSegments: 8)

        let pcapng = "\(directory)/any.pcapng"
        let (status, _) = try run(["editcap", "-F", "pcapng", capture.path, pcapng])
        try #require(status == 0)
        try Self.expectAgreement(pcapng, minimumSegments: 8)
        let fromPcap = try Self.jsonLines(capture.path), fromPcapng = try Self.jsonLines(pcapng)
        #expect(fromPcap.count > 8)
        #expect(fromPcap == fromPcapng, "pcap and pcapng of the same frames read the same")
    }

    /// UDP and ICMP among TCP: one line each, no stream, and the TCP numbers unchanged.
    @Test func udpAndICMPAmongTCP() throws {
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port!
        let closed = try freePort()
        let server = Peer {
            let (connection, _) = try listener.accept()
            try connection.send(try connection.receiveUntilEOF())
        }
        let capture = try captureWhile("mixed", in: directory, filter: "tcp port \(port) or udp port \(closed) or icmp") {
            let udp = try Socket.udp(.ipv4)
            _ = try udp.send(Array("anyone there?".utf8), to: .loopback(closed))  // answered by ICMP port unreachable
            let (status, _) = try run(["ping", "-c", "2", "-i", "0.2", "127.0.0.1"])
            #expect(status == 0)
            let tcp = try Socket.connected(to: .loopback(port))
            try tcp.send(pattern(2000))
            try tcp.shutdown(.write)
            _ = try tcp.receiveUntilEOF()
            try server.value()
        }
        try Self.expectAgreement(capture.path, minimumSegments: 8)
        var protocols: [String: Int] = [:]
        for line in try Self.jsonLines(capture.path) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard object["kind"] as? String == "packet", let proto = object["proto"] as? String else { continue }
            protocols[proto, default: 0] += 1
            if proto != "tcp" {
                #expect(object["stream"] == nil, "UDP and ICMP belong to no stream")
                #expect((object["note"] as? String)?.isEmpty == false)
            }
        }
        #expect(protocols["udp"] == 1)
        #expect(protocols["icmp"] == 5, "two echo requests, two replies, one port unreachable: \(protocols)")
    }
}

/// `read` on two threads prints exactly what the one-thread session prints — summary, JSON
/// and text — on a file long enough that connections are forgotten along the way, with UDP
/// among the TCP.
@Test func theReadPipelineAgreesWithTheSession() throws {
    typealias F = FrameBuilder
    let directory = try temporaryDirectory("pipeline")
    let path = "\(directory)/many.pcap"
    let writer = try CaptureWriter(path: path, linkType: .raw)
    var frame = 0
    func put(_ bytes: [UInt8]) {
        frame += 1
        bytes.withUnsafeBytes { writer.write(timestamp: Timestamp(seconds: 1_700_000_000 + Int64(frame / 1000), nanoseconds: UInt32(frame % 1000) * 1000), originalLength: $0.count, bytes: $0) }
    }
    for i in 0..<12000 {
        let port = 20000 + i % 30000
        let (c, s): (UInt32, UInt32) = (UInt32(i) * 7919, 7_000_000 &+ UInt32(i) * 104_729)
        put(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c, flags: 0x02)))
        put(F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: port, seq: s, ack: c + 1, flags: 0x12)))
        put(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c + 1, ack: s + 1, flags: 0x18, payload: Array(repeating: 65, count: i % 50 + 1))))
        if i % 7 == 0 { put(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c + 1, ack: s + 1, flags: 0x18, payload: Array(repeating: 65, count: i % 50 + 1)))) }
        let sent = UInt32(i % 50 + 1)
        put(F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: port, seq: s + 1, ack: c + 1 + sent, flags: 0x11)))
        if i % 100 == 0 { put(F.ipv4(protocol: 17, F.udp(payload: Array(repeating: 1, count: i % 7)))) }
        if i % 3 != 0 {  // a third never finish closing
            put(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c + 1 + sent, ack: s + 2, flags: 0x11)))
            put(F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: port, seq: s + 2, ack: c + 2 + sent, flags: 0x10)))
        }
    }
    try writer.flush()

    for mode in ["summary", "json", "text"] {
        var options = Session.Options()
        options.view = mode == "summary" ? .summaryTable : mode == "json" ? .jsonLines : .text
        options.detail = mode == "text" ? .everySegment : .notable
        let capture = try CaptureFile(path: path)
        var session = Session(linkType: capture.linkType, options: options)
        var out = OutputBuffer()
        var expected = ""
        try capture.forEach { frame in
            session.write(frame: frame, to: &out)
            if out.count > 1 << 20 {
                expected += String(decoding: out.bytes, as: UTF8.self)
                out.clear()
            }
        }
        session.finish(to: &out)
        expected += String(decoding: out.bytes, as: UTF8.self)

        let outputPath = "\(directory)/pipeline-\(mode).txt"
        let descriptor = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(descriptor >= 0)
        try ReadPipeline.run(try CaptureFile(path: path), session: Session(linkType: capture.linkType, options: options), descriptor: descriptor)
        close(descriptor)
        let piped = try String(contentsOfFile: outputPath, encoding: .utf8)
        if mode == "summary" {
            #expect(expected.split(separator: "\n").count == 12002, "two header lines and a row per connection")
        }
        #expect(piped.count > 1000)
        #expect(piped == expected, "\(mode): the pipeline's output differs")
    }
}

/// Memory stays bounded: closed connections are summarised and forgotten, and the stream
/// numbers go on as tshark's would.
@Test func closedConnectionsAreForgottenAndNumberingGoesOn() {
    typealias F = FrameBuilder
    var tracker = ConnectionTracker(detail: .none)
    tracker.closedKept = 100
    var frame = 0, summaries = 0, largest = 0
    func feed(_ bytes: [UInt8]) {
        frame += 1
        let packet = bytes.withUnsafeBytes { Packet(decoding: $0, linkType: .raw) }
        _ = tracker.add(frame: frame, time: Timestamp(seconds: 1_700_000_000, nanoseconds: UInt32(frame)), packet: packet)
        for case .summary(let row) in tracker.takeRecords() {
            summaries += 1
            #expect(row.state == .closed)
        }
        largest = max(largest, tracker.remembered)
    }
    for i in 0..<1000 {
        let port = 20000 + i
        let (c, s): (UInt32, UInt32) = (UInt32(i) * 1000, 7_000_000 + UInt32(i) * 1000)
        feed(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c, flags: 0x02)))
        feed(F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: port, seq: s, ack: c + 1, flags: 0x12)))
        feed(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c + 1, ack: s + 1, flags: 0x11)))
        feed(F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: port, seq: s + 1, ack: c + 2, flags: 0x11)))
        feed(F.ipv4(protocol: 6, F.tcp(sourcePort: port, seq: c + 2, ack: s + 2, flags: 0x10)))
    }
    #expect(tracker.streamCount == 1000)
    #expect(largest <= 101, "at most closedKept closed connections (and the open one) remembered")
    #expect(summaries == 900, "the other 900 were summarised as they were forgotten")
    let rest = tracker.finish().filter { if case .summary = $0 { true } else { false } }
    #expect(rest.count == 100)
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
