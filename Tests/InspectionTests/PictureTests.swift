import PacketCapture
import Foundation
@testable import Inspection
import Packets
import SocketCore
import Testing

/// The pictures against the anchors: every ladder arrow equals, row for row, tshark's
/// `-z flow,tcp,network` (direction, flags, relative seq/ack, length); every time-sequence mark
/// equals tcptrace's `-G` primitives (segments, retransmissions, the ACK steps, the window
/// steps), both directions; on a clean loopback connection and on a bulk transfer across a
/// lossy link (retransmissions, SACK). Bad input says what is wrong.
@Suite(.serialized)
struct PictureTests {
    let directory: String
    init() throws { directory = try temporaryDirectory("picture-tests") }

    /// A conversation on loopback: the handshake, data in five writes each way, a half-close,
    /// the reply, the close.
    func loopbackConversation() throws -> String {
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port!
        let capture = try captureWhile("loopback", in: directory, filter: "tcp port \(port)") {
            let server = Peer { () throws -> Void in
                let (connection, _) = try listener.accept()
                let request = try connection.receiveUntilEOF()
                for _ in 0..<3 { try connection.send(Array(request.prefix(700))); usleep(3000) }
                try connection.close()
            }
            let client = try Socket.connected(to: .loopback(port), timeout: .seconds(3))
            for index in 0..<5 { try client.send(pattern(1000 + index * 500)); usleep(5000) }
            try client.shutdown(.write)
            _ = try client.receiveUntilEOF()
            try client.close()
            try server.value()
            usleep(100_000)
        }
        return capture.path
    }

    /// 1 MB to a host behind a link that drops 3% of what arrives there: retransmissions,
    /// duplicate ACKs, SACK blocks.
    func lossyTransfer() throws -> String {
        try lossyBulkTransfer(in: directory, prefix: "slabp", subnet: 4, port: 5002, lossPercent: 3, bytes: 1_000_000)
    }

    /// What the inspector draws for `file` with `options` (the page, or one SVG).
    func draw(_ file: String, _ picture: PictureOptions, stream: Int? = nil) throws -> (text: String, problem: PictureProblem?) {
        let capture = try CaptureFile(path: file)
        var options = Session.Options()
        options.view = .picture(picture)
        options.stream = stream
        var session = Session(linkType: capture.linkType, options: options)
        var out = OutputBuffer()
        try capture.forEach { frame in session.write(frame: frame, to: &out) }
        session.finish(to: &out)
        return (String(decoding: out.bytes, as: UTF8.self), session.problem)
    }

    /// Every tag carrying `data-` attributes, as attribute dictionaries, in document order.
    static func marks(_ text: String, containing marker: String) -> [[String: String]] {
        var found: [[String: String]] = []
        var rest = Substring(text)
        while let start = rest.range(of: "<") {
            guard let end = rest[start.upperBound...].firstIndex(of: ">") else { break }
            let tag = rest[start.upperBound..<end]
            if tag.contains(marker) {
                var attributes: [String: String] = [:]
                var scan = tag
                while let equals = scan.range(of: "=\"") {
                    let name = scan[..<equals.lowerBound].split(separator: " ").last.map(String.init) ?? ""
                    let valueStart = equals.upperBound
                    guard let close = scan[valueStart...].firstIndex(of: "\"") else { break }
                    attributes[name] = String(scan[valueStart..<close])
                    scan = scan[scan.index(after: close)...]
                }
                found.append(attributes)
            }
            rest = rest[rest.index(after: end)...]
        }
        return found
    }

    struct FlowRow: Equatable, CustomStringConvertible {
        var sourcePort: String, flags: Set<String>, seq: String, ack: String, length: String
        var description: String { "\(sourcePort) \(flags.sorted()) seq=\(seq) ack=\(ack) len=\(length)" }
    }

    /// tshark's flow graph of TCP, one row per frame: its flags, seq, ack, length and the
    /// arrow's source port.
    static func tsharkFlow(_ file: String) throws -> [FlowRow] {
        let (status, output) = try run(["tshark", "-r", file, "-q", "-z", "flow,tcp,network"], separateErrors: true)
        #expect(status == 0)
        var rows: [FlowRow] = []
        var pending: (Set<String>, String, String, String)?
        for line in output.split(separator: "\n").map(String.init) {
            if let seqRange = line.range(of: "|Seq = ") {
                // The label follows the time, across as many host columns as it needs.
                let cells = line[..<seqRange.lowerBound].split(separator: "|", omittingEmptySubsequences: false).dropFirst(2)
                var label = cells.joined(separator: " ").split(separator: " ").joined(separator: " ")
                var length = "0"
                // tshark cuts a long label at its column's width: "FIN, PSH, ACK - Len:" without
                // the number. The length is then unknown (""), and not compared.
                if let len = label.range(of: " - Len:") {
                    length = String(label[len.upperBound...]).trimmingCharacters(in: .whitespaces)
                    label = String(label[..<len.lowerBound])
                }
                let flags = Set(label.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let numbers = line[seqRange.upperBound...]
                let seq = String(numbers.split(separator: " ").first ?? "")
                let ack = numbers.range(of: "Ack = ").map { String(numbers[$0.upperBound...].split(separator: " ").first ?? "") } ?? ""
                pending = (flags, seq, ack, length)
            } else if let (flags, seq, ack, length) = pending, line.contains("(") {
                let ports = line.split(separator: "(").dropFirst().map { String($0.prefix { $0 != ")" }) }
                guard ports.count == 2 else { continue }
                let source = line.contains("<-") ? ports[1] : ports[0]
                rows.append(FlowRow(sourcePort: source, flags: flags, seq: seq, ack: ack, length: length))
                pending = nil
            }
        }
        return rows
    }

    func compareLadder(_ file: String) throws {
        var picture = PictureOptions()
        picture.format = .svg
        picture.ladderLimit = 100_000
        var rows: [FlowRow] = []
        var stream = 0
        // Stream by stream, in frame order, as tshark's flow lists them.
        var byFrame: [(Int, FlowRow)] = []
        while true {
            let (svg, problem) = try draw(file, picture, stream: stream)
            if problem != nil { break }
            for arrow in Self.marks(svg, containing: "class=\"arrow") {
                let source = arrow["data-sport"] ?? ""
                let flags = Set((arrow["data-flags"] ?? "").split(separator: ",").map(String.init))
                byFrame.append((Int(arrow["data-frame"] ?? "") ?? 0,
                                FlowRow(sourcePort: source, flags: flags, seq: arrow["data-seq"] ?? "", ack: arrow["data-ack"] ?? "", length: arrow["data-len"] ?? "")))
            }
            stream += 1
        }
        rows = byFrame.sorted { $0.0 < $1.0 }.map(\.1)
        let flow = try Self.tsharkFlow(file)
        #expect(rows.count == flow.count, "\(file): \(rows.count) arrows, tshark's flow has \(flow.count) rows")
        var differences = 0
        for (index, (ours, theirs)) in zip(rows, flow).enumerated() {
            var ours = ours
            if theirs.length.isEmpty { ours.length = "" }
            guard ours != theirs else { continue }
            differences += 1
            if differences <= 5 { Issue.record("\(file) row \(index + 1): ladder \(ours), tshark \(theirs)") }
        }
        print("ladder vs tshark -z flow,tcp,network: \(file): \(rows.count) arrows, \(differences) differences")
    }

    /// tcptrace's time-sequence primitives for one direction's file: segments (vertical lines
    /// in a data colour, with the colour), the ACK steps (green verticals), the window steps
    /// (yellow verticals).
    static func tcptrace(_ xpl: String) throws -> (segments: Set<String>, acks: Set<String>, windows: Set<String>, sacks: Set<String>) {
        let text = try String(contentsOfFile: xpl, encoding: .utf8)
        var color = ""
        var segments: Set<String> = [], acks: Set<String> = [], windows: Set<String> = [], sacks: Set<String> = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            // A colour on a line of its own; other one-word lines are the labels of atext marks.
            if parts.count == 1 {
                if ["white", "green", "yellow", "red", "purple", "orange", "blue", "pink", "magenta"].contains(parts[0]) { color = parts[0] }
                continue
            }
            // Vertical lines only; one of no length (two marks in the same microsecond) is no step.
            guard parts.first == "line", parts.count >= 5, parts[1] == parts[3], let low = Int(parts[2]), let high = Int(parts[4]), low != high else { continue }
            switch color {
            case "green": acks.insert("\(parts[1]) \(high)")
            case "yellow": windows.insert("\(parts[1]) \(high)")
            case "purple": sacks.insert("\(parts[1]) \(low) \(high)")
            default: if high > low { segments.insert("\(parts[1]) \(low) \(high) \(color == "red" ? "retransmission" : "segment")") }
            }
        }
        return (segments, acks, windows, sacks)
    }

    func compareSequenceGraphs(_ file: String) throws {
        let folder = directory + "/tcptrace-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (status, _) = try run(["sh", "-c", "cd '\(folder)' && tcptrace -G '\(file)'"], separateErrors: true)
        try #require(status == 0, "tcptrace -G failed")
        var picture = PictureOptions()
        picture.markLimit = 1_000_000
        let (page, _) = try draw(file, picture, stream: 0)
        let graphs = page.components(separatedBy: "<svg").filter { $0.contains("<title>time-sequence graph") }
        try #require(graphs.count == 2, "the page has a time-sequence graph each way")
        for (direction, name) in [(0, "a2b_tsg.xpl"), (1, "b2a_tsg.xpl")] {
            let theirs = try Self.tcptrace(folder + "/" + name)
            var segments: Set<String> = [], acks: Set<String> = [], windows: Set<String> = [], sacks: Set<String> = []
            for mark in Self.marks(graphs[direction], containing: "data-kind") {
                let time = mark["data-time"] ?? "", kind = mark["data-kind"] ?? ""
                switch kind {
                case "segment", "retransmission":
                    // tcptrace colours a first SYN or FIN orange or purple, and one sent again red, as
                    // resent data: a kind each, as ours.
                    segments.insert("\(time) \(mark["data-seq-abs"] ?? "") \(mark["data-end-abs"] ?? "") \(kind)")
                case "ack": acks.insert("\(time) \(mark["data-seq-abs"] ?? "")")
                case "window": windows.insert("\(time) \(mark["data-seq-abs"] ?? "")")
                case "sack": sacks.insert("\(time) \(mark["data-seq-abs"] ?? "") \(mark["data-end-abs"] ?? "")")
                default: break
                }
            }
            let theirSegments = theirs.segments
            for (what, ours, tcptrace) in [("segments", segments, theirSegments), ("ACK steps", acks, theirs.acks), ("window steps", windows, theirs.windows), ("SACK blocks", sacks, theirs.sacks)] {
                let missing = tcptrace.subtracting(ours), extra = ours.subtracting(tcptrace)
                #expect(missing.isEmpty && extra.isEmpty,
                        "\(file) \(name) \(what): \(ours.count) ours, \(tcptrace.count) tcptrace's; only tcptrace: \(missing.sorted().prefix(6)); only ours: \(extra.sorted().prefix(6))")
                print("time-sequence vs tcptrace -G: \(file) \(name) \(what): \(ours.count) marks, \(missing.count + extra.count) differences")
            }
        }
    }

    @Test("the ladder's arrows are tshark's flow graph, row for row (loopback)")
    func ladderOnLoopback() throws { try compareLadder(try loopbackConversation()) }

    @Test("the time-sequence marks are tcptrace's, both directions (loopback)")
    func sequenceOnLoopback() throws { try compareSequenceGraphs(try loopbackConversation()) }

    @Test("across a lossy link: ladder as tshark's flow, time-sequence as tcptrace's, retransmissions marked",
          .enabled(if: canUseNamespaces, "needs root, ip and nft"))
    func lossyLink() throws {
        let file = try lossyTransfer()
        try compareLadder(file)
        try compareSequenceGraphs(file)
        var picture = PictureOptions()
        picture.markLimit = 1_000_000
        let (page, _) = try draw(file, picture)
        #expect(page.contains("data-kind=\"retransmission\""), "a lossy transfer shows retransmissions in red")
    }

    @Test("each side's state changes as RFC 9293's diagram says, for an orderly close")
    func statesAlongTheLadder() throws {
        var picture = PictureOptions()
        picture.format = .svg
        let (svg, _) = try draw(try loopbackConversation(), picture)
        let client = Self.marks(svg, containing: "data-side=\"client\"").compactMap { $0["data-state"] }
        let server = Self.marks(svg, containing: "data-side=\"server\"").compactMap { $0["data-state"] }
        #expect(client == ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"])
        #expect(server == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"])
    }

    @Test("no TCP, or a stream that is not there: a clear reason, no picture")
    func badInput() throws {
        let none = try draw(try loopbackConversation(), PictureOptions(), stream: 7)
        #expect(none.problem?.description == "no TCP stream 7 in this capture: its streams are 0 to 0")
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(protocol: 17, FrameBuilder.udp(sourcePort: 5353, destinationPort: 5353, payload: [1, 2, 3])))
        let path = directory + "/udp-only.pcap"
        try Data(PcapBytes.file(linkType: 1, [frame]).bytes).write(to: URL(fileURLWithPath: path))
        let empty = try draw(path, PictureOptions())
        #expect(empty.problem?.description == "no TCP connection in this capture: there is nothing to draw")
    }
}
