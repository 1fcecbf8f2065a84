import PacketCapture
import Packets

/// One inspector run over a stream of frames, file or live: decodes each frame, follows the
/// connections and hands what it found to one view (chosen once, from the options), honouring
/// the filters. The command-line tool only flushes what this writes.
public struct Session {
    /// Which view draws the run.
    public enum View: Sendable {
        /// tcpdump's lines, with a note under the segments that matter.
        case text
        /// The two-column sequence diagram.
        case ladder
        /// DESIGN.md's JSON Lines.
        case jsonLines
        /// The conversation table (text).
        case summaryTable
        /// The summary records alone, as JSON Lines.
        case summaryJSON
        /// The page or one SVG, drawn when the capture ends.
        case picture(PictureOptions)
    }

    public struct Options: Sendable {
        public var view: View = .text
        /// Show only this TCP stream.
        public var stream: Int?
        /// Only set-up and tear-down segments (and the segments with something to say).
        public var handshakes = false
        /// Raw sequence numbers in the text views.
        public var absolute = false
        /// How much the views say: no sentences (`--quiet`), notes on the segments that matter
        /// (the default), or a sentence for every segment (`--explain`).
        public var detail: ConnectionTracker.Detail = .notable
        /// ANSI colours in the text views.
        public var color = false
        /// Wrap notes to this many columns (a terminal's width); nil keeps one line per note.
        public var width: Int?
        /// Ports where SOCKS5 is decoded from the start of each connection (1080 always; a
        /// connection whose first bytes are a greeting is recognised on any port).
        public var socksPorts: Set<UInt16> = [1080]
        public init() {}

        /// Whether the view draws segments and other frames at all.
        var drawsPackets: Bool {
            switch view {
            case .summaryTable, .summaryJSON: false
            default: true
            }
        }
    }

    public let options: Options
    public let linkType: LinkType
    private var tracker: ConnectionTracker
    private var decoder: FrameDecoder
    /// Set by the read pipeline, whose decoding thread reassembles (this session's decoder
    /// then sees no frames).
    var unfinishedDatagrams: String?
    private var view: any InspectorView

    public init(linkType: LinkType, options: Options) {
        self.linkType = linkType
        self.options = options
        // A view that draws no segments needs no facts: the tracker then records none.
        tracker = ConnectionTracker(detail: options.drawsPackets ? options.detail : .none)
        decoder = FrameDecoder(socksPorts: options.socksPorts)
        view = Self.view(for: options)
    }

    static func view(for options: Options) -> any InspectorView {
        let style = TextStyle(enabled: options.color, width: options.width)
        let quiet = options.detail == .none
        switch options.view {
        case .text: return TextRenderer(style: style, absolute: options.absolute, quiet: quiet)
        case .ladder: return LadderRenderer(style: style, absolute: options.absolute, quiet: quiet)
        case .jsonLines: return JSONLinesRenderer()
        case .summaryTable: return SummaryRenderer(style: style)
        case .summaryJSON: return JSONLinesRenderer(summariesOnly: true)
        case .picture(let picture): return PictureRenderer(options: picture, stream: options.stream)
        }
    }

    /// Everything one frame has to say (nothing when a filter hides it).
    public mutating func write(frame: FrameView, to out: inout OutputBuffer) {
        let result = decoder.decode(frame, linkType: linkType)
        if case .segment(let segment, let socks) = result {
            write(segment: segment, socks: socks, to: &out)
        } else if Self.showsOther(options) {
            decoder.withOther(result, frame: frame) { packet, frame in view.other(&packet, frame: frame, to: &out) }
        }
    }

    /// Whether frames that are not TCP are shown: not when a filter asks for TCP streams.
    static func showsOther(_ options: Options) -> Bool {
        options.stream == nil && !options.handshakes && options.drawsPackets
    }

    /// A view of its own for frames that are not TCP, for the read pipeline's decoding thread
    /// (never the ladder's: its time column belongs to the whole capture, so it keeps one
    /// thread); nil when such frames are not shown.
    func otherFrames() -> OtherFrames? {
        Self.showsOther(options) ? OtherFrames(view: Self.view(for: options)) : nil
    }

    struct OtherFrames {
        var view: any InspectorView
        mutating func write(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) { view.other(&packet, frame: frame, to: &out) }
    }

    /// One TCP segment, already decoded: follow it, then draw what it says.
    mutating func write(segment: ReadPipeline.Segment, socks: [SocksStep] = [], to out: inout OutputBuffer) {
        var report = tracker.add(frame: segment.frame, time: segment.time, tcp: segment.tcp, source: segment.source,
                                 destination: segment.destination, wireLength: segment.wireLength, inFragment: segment.inFragment)
        if !socks.isEmpty { report.socks = socks }
        if options.drawsPackets, shows(report) { view.segment(report, to: &out) }
        let records = tracker.takeRecords()
        if !records.isEmpty { write(records, to: &out) }
    }

    /// The filters: one stream; with `handshakes`, only opening, closing and the segments the
    /// analysis has something to say about.
    func shows(_ report: SegmentReport) -> Bool {
        (options.stream.map { report.stream == $0 } ?? true)
            && (!options.handshakes || !report.flags.isDisjoint(with: [.syn, .fin, .rst]) || !report.events.isEmpty || !report.facts.isEmpty
                || !report.socks.isEmpty)
    }

    /// After the last frame: unfinished connections, and the summaries.
    public mutating func finish(to out: inout OutputBuffer) {
        write(tracker.finish(), to: &out)
        if let unfinished = unfinishedDatagrams ?? decoder.reassembler.unfinishedNotice, options.drawsPackets, options.stream == nil {
            view.notice(unfinished, to: &out)
        }
        view.finish(to: &out)
    }

    /// Why the view drew nothing, after `finish` (a picture of a capture with no TCP in it).
    public var problem: PictureProblem? {
        guard let problem = view.problem else { return nil }
        // The view saw only the stream asked for; the tracker knows how many there were.
        if let stream = options.stream, tracker.streamCount > 0 {
            return PictureProblem(description: "no TCP stream \(stream) in this capture: its streams are 0 to \(tracker.streamCount - 1)")
        }
        return problem
    }

    mutating func write(_ records: [ConnectionTracker.Record], to out: inout OutputBuffer) {
        for record in records where options.stream.map({ record.stream == $0 }) ?? true {
            view.record(record, to: &out)
        }
    }
}
