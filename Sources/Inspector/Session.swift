import Capture
import Packets

/// One inspector run over a stream of frames, file or live: decodes each frame, follows the
/// connections and turns them into the lines to print (text or JSON Lines), honouring the
/// filters. The command-line tool only prints what this returns.
public struct Session {
    public struct Options: Sendable {
        public var json = false
        /// Show only this TCP stream.
        public var stream: Int?
        /// Only set-up and tear-down segments (and the segments with something to say).
        public var handshakes = false
        /// Raw sequence numbers in the text view.
        public var absolute = false
        /// The conversation table at the end.
        public var summary = false
        public init() {}
    }

    public let options: Options
    public let linkType: LinkType
    private var tracker = ConnectionTracker()
    private var packet = Packet()
    private var conversations = ConversationTable()

    public init(linkType: LinkType, options: Options) {
        self.linkType = linkType
        self.options = options
    }

    /// The lines for one frame (none when a filter hides it).
    public mutating func lines(frame: FrameView) -> [String] {
        packet.decode(frame.bytes, linkType: linkType)
        var lines: [String] = []
        if let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: packet) {
            conversations.add(report, frameLength: frame.originalLength)
            let shown = (options.stream.map { report.stream == $0 } ?? true)
                && (!options.handshakes || !report.flags.isDisjoint(with: [.syn, .fin, .rst]) || !report.notes.isEmpty)
            if shown && !options.summary {
                lines.append(options.json ? JSONLines.line(report) : TextView.line(report, absolute: options.absolute))
            }
            lines += records(tracker.takeRecords())
        } else if options.stream == nil && !options.handshakes && !options.summary {
            let note = TextView.note(for: packet)
            lines.append(options.json
                ? JSONLines.line(frame: frame.number, time: frame.timestamp, packet: packet, note: note)
                : frame.timestamp.timeOfDay + " " + packet.summary + "\n    " + note)
        }
        return lines
    }

    /// The lines after the last frame: unfinished connections, and the summary.
    public mutating func finish() -> [String] {
        var lines = records(tracker.finish())
        if options.summary || options.json {
            let rows = conversations.rows.filter { row in options.stream.map { row.stream == $0 } ?? true }
            lines += options.json ? rows.map(JSONLines.line) : ConversationTable.text(rows)
        }
        return lines
    }

    private mutating func records(_ records: [ConnectionTracker.Record]) -> [String] {
        for record in records { conversations.note(record) }
        guard !options.summary else { return [] }
        return records.filter { record in options.stream.map { record.stream == $0 } ?? true }
            .map { options.json ? JSONLines.line($0) : TextView.block($0) }
    }
}
