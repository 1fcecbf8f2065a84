import ArgumentParser
import Capture
import Inspector
import Packets
import ToolSupport

@main
struct InspectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspector",
        abstract: "Follow every TCP connection in a capture, with the numbers tshark shows.",
        discussion: """
            One line per packet in tcpdump's shape, with sequence and acknowledgement numbers \
            relative to each side's initial sequence number (as Wireshark shows them) and the \
            window after scaling; --json for one JSON object per line (Docs/inspector-output.md). \
            Exit codes: 0 success; 2 bad input (unreadable or truncated file: everything before \
            the cut is printed first).
            """,
        subcommands: [Read.self])

    static func main() { runAsSocketLabTool() }
}

extension InspectorCommand {
    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a pcap or pcapng file.")

        @Argument(help: "The capture file (pcap or pcapng).")
        var file: String
        @Flag(help: "One JSON object per line instead of text.")
        var json = false
        @Option(name: [.customShort("c"), .long], help: "Stop after this many frames.")
        var count: Int?
        @Option(help: "Show only this TCP stream (0-based, as tshark's tcp.stream).")
        var stream: Int?
        @Flag(help: "Raw sequence and acknowledgement numbers instead of relative ones.")
        var absolute = false
        @Flag(help: "Only connection set-up and tear-down: SYN, SYN-ACK, the ACK after them, FIN, RST.")
        var handshakes = false

        func validate() throws {
            if let count, count <= 0 { throw ValidationError("--count must be at least 1") }
            if let stream, stream < 0 { throw ValidationError("--stream is 0 or more") }
        }

        func run() throws {
            let capture = try CaptureFile(path: file)
            let linkType = capture.linkType
            let limit = count ?? Int.max, json = json, onlyStream = stream, absolute = absolute, handshakes = handshakes
            func emit(_ records: [ConnectionTracker.Record]) {
                for record in records {
                    if let onlyStream, record.stream != onlyStream { continue }
                    print(json ? JSONLines.line(record) : TextView.block(record))
                }
            }
            var tracker = ConnectionTracker()
            var packet = Packet()
            var frames = 0
            var failure: CaptureError?
            do {
                try capture.forEach { frame in
                    guard frames < limit else { return }
                    frames += 1
                    packet.decode(frame.bytes, linkType: linkType)
                    if let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: packet) {
                        let shown = (onlyStream.map { report.stream == $0 } ?? true)
                            && (!handshakes || !report.flags.isDisjoint(with: [.syn, .fin, .rst]) || !report.notes.isEmpty)
                        if shown { print(json ? JSONLines.line(report) : TextView.line(report, absolute: absolute)) }
                        emit(tracker.takeRecords())
                    } else if onlyStream == nil && !handshakes {
                        let note = TextView.note(for: packet)
                        print(json ? JSONLines.line(frame: frame.number, time: frame.timestamp, packet: packet, note: note)
                                   : TextView.timeOfDay(frame.timestamp) + " " + packet.summary + "\n    " + note)
                    }
                }
            } catch {
                failure = error
            }
            emit(tracker.finish())
            if let failure { throw failure }
        }
    }
}
