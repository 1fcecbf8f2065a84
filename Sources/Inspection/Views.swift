import PacketCapture
import Packets

/// One way of showing what the tracker found — tcpdump's lines with notes, the ladder, JSON
/// Lines, the conversation table — behind one protocol. `Session` chooses one from its options,
/// once; a new view (HTML, SVG) is one more conformance, and the tracker does not change.
protocol InspectorView {
    /// A TCP segment the filters let through, with its facts.
    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer)
    /// A frame that is not TCP (UDP, ICMP, anything else).
    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer)
    /// A connection record: how it opened, how it closed, its summary.
    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer)
    /// Something about the capture as a whole, at its end (datagrams never reassembled);
    /// only the views for people show it.
    mutating func notice(_ text: String, to out: inout OutputBuffer)
    /// The capture has ended: a view that draws the whole run at once (the pictures) draws it now.
    mutating func finish(to out: inout OutputBuffer)
    /// Why the view could not draw, once finished (a picture of a capture with no TCP).
    var problem: PictureProblem? { get }
}

extension InspectorView {
    mutating func notice(_ text: String, to out: inout OutputBuffer) {}
    mutating func finish(to out: inout OutputBuffer) {}
    var problem: PictureProblem? { nil }
}

/// The notes under frames that are not TCP, each said once: a capture of a thousand ARP
/// frames, or of a link type SocketLab does not decode, needs the explanation once, not a
/// thousand times (the JSON view keeps a note on every record: each line stands alone).
struct RepeatedNotes {
    private var said: Set<String> = []
    /// The note, the first time it comes; nil after (at most 1,000 distinct notes remembered).
    mutating func firstTime(_ note: String) -> String? {
        guard !said.contains(note) else { return nil }
        if said.count < 1000 { said.insert(note) }
        return note
    }
}

/// The default: tcpdump's line, relative numbers, an indented note under the segments that
/// matter, and a block after each handshake and close.
struct TextRenderer: InspectorView {
    var style: TextStyle
    var absolute: Bool
    /// `--quiet`: no sentences, under other frames either.
    var quiet: Bool

    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer) {
        out.line(TextView.line(report, absolute: absolute, style: style))
    }

    var notes = RepeatedNotes()

    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) {
        let note = quiet ? nil : notes.firstTime(TextView.note(for: packet))
        out.line(frame.timestamp.timeOfDay + " " + packet.summary + (note.map { "\n    " + style.note($0) } ?? ""))
    }

    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        if case .summary = record { return }
        out.line(style.heading(TextView.block(record)))
    }

    mutating func notice(_ text: String, to out: inout OutputBuffer) { out.line(style.heading(text)) }
}

/// `--ladder`: the sequence diagram, client left, server right.
struct LadderRenderer: InspectorView {
    var ladder = LadderView()
    var style: TextStyle
    var absolute: Bool
    var quiet: Bool

    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer) {
        ladder.write(report, style: style, absolute: absolute, to: &out)
    }

    var notes = RepeatedNotes()

    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) {
        let note = quiet ? nil : notes.firstTime(TextView.note(for: packet))
        ladder.write(other: packet.summary, note: note, time: frame.timestamp, style: style, to: &out)
    }

    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        if case .summary = record { return }
        out.line(style.heading(TextView.block(record)))
    }

    mutating func notice(_ text: String, to out: inout OutputBuffer) { out.line(style.heading(text)) }
}

/// `--json`: DESIGN.md's JSON Lines, every packet and record. `summariesOnly` with
/// `--summary`: the summary records alone.
struct JSONLinesRenderer: InspectorView {
    var summariesOnly = false

    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer) {
        if !summariesOnly { JSONLines.write(report, to: &out) }
    }

    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) {
        if !summariesOnly { JSONLines.write(frame: frame.number, time: frame.timestamp, packet: packet, note: TextView.note(for: packet), to: &out) }
    }

    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        if case .summary(let row) = record { JSONLines.write(row, to: &out) } else if !summariesOnly { JSONLines.write(record, to: &out) }
    }
}

/// `--summary`: the conversation table, a header once and a row per connection.
struct SummaryRenderer: InspectorView {
    var style: TextStyle
    var headerWritten = false

    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer) {}

    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) {}

    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        guard case .summary(let row) = record else { return }
        if !headerWritten {
            out.line(style.heading(ConversationTable.header))
            headerWritten = true
        }
        ConversationTable.write(row, to: &out)
    }
}
