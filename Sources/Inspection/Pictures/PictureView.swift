import PacketCapture
import Packets

/// What to draw and how: the page (`--html`), or one SVG (`--svg`, with `--graph`).
public struct PictureOptions: Sendable {
    public enum Format: Sendable { case html, svg }
    public enum Graph: String, Sendable, CaseIterable { case ladder, tsg, throughput, rtt }
    /// screen: for a browser; projector: large print, thick lines, high contrast; print: black
    /// on white, no colour needed.
    public enum Style: String, Sendable, CaseIterable { case screen, projector, print }

    public var format: Format = .html
    public var graph: Graph = .ladder
    public var style: Style = .screen
    /// The title over the page (the capture's name).
    public var title = "inspector"
    /// Arrows per stream on the ladder; the graphs draw every segment (aggregated past
    /// `markLimit` marks).
    public var ladderLimit = 500
    public var markLimit = 4000
    /// Streams drawn in full on a page of all streams; the rest are in the table.
    public var streamLimit = 20

    public init() {}
}

/// Why there is no picture: said to the user as bad input.
public struct PictureProblem: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The inspector view for pictures: it keeps what each stream's pictures need while the
/// frames go by, and draws the page (or the one SVG) when the capture ends.
struct PictureRenderer: InspectorView {
    let options: PictureOptions
    let only: Int?
    var streams: [Int: StreamPicture] = [:]
    var order: [Int] = []
    var captureStart: Timestamp?
    var otherFrames = 0
    var problem: PictureProblem?

    init(options: PictureOptions, stream: Int?) {
        self.options = options
        self.only = stream
    }

    mutating func segment(_ report: SegmentReport, to out: inout OutputBuffer) {
        let start = captureStart ?? report.time
        captureStart = start
        if streams[report.stream] == nil {
            // A page of all streams draws the first ones in full; the rest are counted.
            guard only != nil || order.count < max(options.streamLimit, 1) else { return }
            streams[report.stream] = StreamPicture(stream: report.stream)
            order.append(report.stream)
        }
        streams[report.stream]!.add(report, time: report.time.seconds(since: start), notes: Sentences.notes(for: report, absolute: false),
                                    limit: options.ladderLimit)
    }

    mutating func other(_ packet: inout Packet, frame: FrameView, to out: inout OutputBuffer) {
        if captureStart == nil { captureStart = frame.timestamp }
        otherFrames += 1
    }

    mutating func record(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        guard streams[record.stream] != nil else {
            if case .summary(let summary) = record { summaries.append(summary) }
            return
        }
        switch record {
        case .handshake: streams[record.stream]!.handshake = TextView.block(record)
        case .close: streams[record.stream]!.close = TextView.block(record)
        case .summary(let summary):
            streams[record.stream]!.summary = summary
            summaries.append(summary)
        }
    }

    var summaries: [ConversationSummary] = []

    mutating func finish(to out: inout OutputBuffer) {
        let drawn = order.compactMap { streams[$0] }
        if drawn.isEmpty {
            let what = only.map { "no TCP stream \($0) in this capture" + (summaries.isEmpty ? " (it has no TCP at all)" : ": its streams are 0 to \(summaries.count - 1)") }
                ?? "no TCP connection in this capture: there is nothing to draw"
            problem = PictureProblem(description: what)
            return
        }
        switch options.format {
        case .svg:
            let picture = drawn[0]
            switch options.graph {
            case .ladder: out.append(LadderPicture(picture, style: options.style).svg())
            case .tsg: out.append(SequenceGraph(picture, direction: 0, style: options.style).svg())
            case .throughput: out.append(RateGraphs(picture, style: options.style).throughputSVG())
            case .rtt: out.append(RateGraphs(picture, style: options.style).rttSVG())
            }
        case .html:
            out.append(PicturePage(options: options, streams: drawn, summaries: summaries, totalStreams: summaries.count,
                                   otherFrames: otherFrames).html())
        }
    }
}
