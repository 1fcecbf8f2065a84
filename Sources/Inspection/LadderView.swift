import PacketCapture
import Packets

/// `--ladder`: the sequence diagram from the textbooks, in a terminal — client on the left,
/// server on the right, one arrow per segment with its flags and relative numbers, the note
/// underneath. What an instructor projects while the packets arrive.
///
///     ── stream s0 (tcp.stream 0): client 127.0.0.1.41234 (left) and server 127.0.0.1.8080 (right) ──
///       0.000000 s0 |──────────── SYN seq=0 win=65495 ─────────────▶|
///       0.000021 s0 |◀──────── SYN,ACK seq=0 ack=1 win=65483 ──────────|
///
/// The tag in front of each arrow is the stream, `s0`, not `#0`: frames are numbered from 1
/// and a `#` reads as a frame number.
struct LadderView {
    /// The arrow's length between the two columns, when its label fits.
    static let width = 58
    private var start: Timestamp?
    private var introduced = Set<Int>()

    mutating func write(_ report: SegmentReport, style: TextStyle, absolute: Bool, to out: inout OutputBuffer) {
        if !introduced.contains(report.stream) {
            introduced.insert(report.stream)
            let (client, server) = report.fromClient ? (report.source, report.destination) : (report.destination, report.source)
            out.line(style.heading("── stream s\(report.stream) (tcp.stream \(report.stream)): client \(client) (left) and server \(server) (right) ──"))
        }
        var label = report.flags.names.joined(separator: ",")
        label += " seq=\(absolute ? report.seqRaw : report.seq)"
        if report.flags.contains(.ack) { label += " ack=\(absolute ? report.ackRaw : report.ack)" }
        if report.length > 0 { label += " len=\(report.length)" }
        label += " win=\(report.window)"
        if !report.analysis.isEmpty { label += " [" + report.analysis.names.joined(separator: ", ") + "]" }
        let arrow = Self.arrow(label, rightward: report.fromClient)
        out.line(column(report.time) + " s\(report.stream) " + style.segment(arrow, flags: report.flags, analysis: report.analysis, events: report.events))
        let indent = String(repeating: " ", count: 14 + String(report.stream).count)
        for note in Sentences.notes(for: report, absolute: absolute) {
            for line in style.noteLines(note, lead: indent + "│ ", continuation: indent + "│ ") { out.line(line) }
        }
    }

    /// A frame that is not TCP: no arrow, since there is no connection to draw it in.
    mutating func write(other summary: String, note: String?, time: Timestamp, style: TextStyle, to out: inout OutputBuffer) {
        out.line(column(time) + "    · " + summary)
        if let note {
            let indent = String(repeating: " ", count: 16) + "│ "
            for line in style.noteLines(note, lead: indent, continuation: indent) { out.line(line) }
        }
    }

    /// Seconds since the first frame, as Wireshark's default time column.
    private mutating func column(_ time: Timestamp) -> String {
        let first = start ?? time
        start = first
        let text = JSONLines.fixed(time.seconds(since: first), digits: 6)
        return String(repeating: " ", count: max(0, 10 - text.count)) + text
    }

    /// `|──── label ────▶|` or `|◀──── label ────|`.
    static func arrow(_ label: String, rightward: Bool) -> String {
        let inner = max(width - 3, label.count + 8)
        let left = (inner - label.count - 2) / 2
        let right = inner - label.count - 2 - left
        let body = String(repeating: "─", count: left) + " " + label + " " + String(repeating: "─", count: right)
        return rightward ? "|" + body + "▶|" : "|◀" + body + "|"
    }
}
