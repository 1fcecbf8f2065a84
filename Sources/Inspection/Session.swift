import PacketCapture
import Packets

/// One inspector run over a stream of frames, file or live: decodes each frame, follows the
/// connections and renders them (text, ladder or JSON Lines) into an `OutputBuffer`, honouring
/// the filters. The command-line tool only flushes what this writes.
public struct Session {
    public struct Options: Sendable {
        public var json = false
        /// Show only this TCP stream.
        public var stream: Int?
        /// Only set-up and tear-down segments (and the segments with something to say).
        public var handshakes = false
        /// Raw sequence numbers in the text view.
        public var absolute = false
        /// Only the conversation table (text) or summary records (JSON).
        public var summary = false
        /// The two-column sequence diagram instead of tcpdump lines.
        public var ladder = false
        /// How much prose: none (`--quiet`), notes on the segments that matter (the default),
        /// or a sentence for every segment (`--explain`).
        public var prose: ConnectionTracker.Prose = .notes
        /// ANSI colours in the text views.
        public var color = false
        public init() {}
    }

    public let options: Options
    public let linkType: LinkType
    private var tracker: ConnectionTracker
    private var packet = Packet()
    private var ladder = LadderView()
    private var style: TextStyle
    private var tableHeaderWritten = false

    public init(linkType: LinkType, options: Options) {
        self.linkType = linkType
        self.options = options
        tracker = ConnectionTracker(prose: options.summary ? .none : options.prose)
        style = TextStyle(enabled: options.color && !options.json)
    }

    /// Everything one frame has to say (nothing when a filter hides it).
    public mutating func write(frame: FrameView, to out: inout OutputBuffer) {
        // The inspector never shows checksum verdicts (the capture command does), so it skips
        // summing every payload.
        packet.decode(frame.bytes, linkType: linkType, verifyChecksums: false)
        if let segment = ReadPipeline.Segment(&packet, frame: frame) {
            write(segment: segment, to: &out)
        } else if options.ladder {
            if options.stream == nil && !options.handshakes && !options.summary {
                let note = options.prose == .none ? nil : TextView.note(for: packet)
                ladder.write(other: packet.summary, note: note, time: frame.timestamp, style: style, to: &out)
            }
        } else {
            Self.writeOther(packet: &packet, frame: frame, options: options, to: &out)
        }
    }

    /// The line of a frame that is not a TCP segment (UDP, ICMP, anything else), unless a
    /// filter hides it. Static: the read pipeline's decoding thread writes these.
    static func writeOther(packet: inout Packet, frame: FrameView, options: Options, to out: inout OutputBuffer) {
        guard options.stream == nil && !options.handshakes && !options.summary else { return }
        let note = TextView.note(for: packet)
        if options.json {
            JSONLines.write(frame: frame.number, time: frame.timestamp, packet: packet, note: note, to: &out)
        } else {
            let style = TextStyle(enabled: options.color)
            out.line(frame.timestamp.timeOfDay + " " + packet.summary + (options.prose == .none ? "" : "\n    " + style.note(note)))
        }
    }

    /// One TCP segment, already decoded: follow it, then write what it says.
    mutating func write(segment: ReadPipeline.Segment, to out: inout OutputBuffer) {
        let report = tracker.add(frame: segment.frame, time: segment.time, tcp: segment.tcp, source: segment.source,
                                 destination: segment.destination, wireLength: segment.wireLength)
        if !options.summary { render(report, to: &out) }
        let records = tracker.takeRecords()
        if !records.isEmpty { write(records, to: &out) }
    }

    /// The segment's line, unless a filter hides it.
    mutating func render(_ report: SegmentReport, to out: inout OutputBuffer) {
        let shown = (options.stream.map { report.stream == $0 } ?? true)
            && (!options.handshakes || !report.flags.isDisjoint(with: [.syn, .fin, .rst]) || !report.notes.isEmpty)
        if shown {
            if options.json {
                JSONLines.write(report, to: &out)
            } else if options.ladder {
                ladder.write(report, style: style, absolute: options.absolute, to: &out)
            } else {
                out.line(TextView.line(report, absolute: options.absolute, style: style))
            }
        }
    }

    /// After the last frame: unfinished connections, and the summaries.
    public mutating func finish(to out: inout OutputBuffer) {
        write(tracker.finish(), to: &out)
    }

    mutating func write(_ records: [ConnectionTracker.Record], to out: inout OutputBuffer) {
        for record in records where options.stream.map({ record.stream == $0 }) ?? true {
            switch record {
            case .summary(let row):
                if options.json {
                    JSONLines.write(row, to: &out)
                } else if options.summary {
                    if !tableHeaderWritten {
                        out.line(style.heading(ConversationTable.header))
                        tableHeaderWritten = true
                    }
                    ConversationTable.write(row, to: &out)
                }
            case .handshake, .close:
                if options.summary { continue }
                if options.json { JSONLines.write(record, to: &out) } else { out.line(style.heading(TextView.block(record))) }
            }
        }
    }
}
