import TextOutput

/// The time-sequence graph in Stevens' and tcptrace's style, for one direction's data: each
/// segment a vertical bar from its first sequence number to past its last (red when resent),
/// the other side's ACKs as a green staircase, the edge of its receive window (ACK + window)
/// as the line the sender may not cross, SACK blocks in purple. Axes in seconds since the
/// capture's first frame and in bytes relative to the sender's first sequence number.
///
/// Each mark names itself in `data-kind` (`segment`, `retransmission`, `ack`, `window`,
/// `sack`) with `data-time` (the capture's clock, as tcptrace writes it) and its sequence
/// numbers relative (`data-seq`) and as sent (`data-seq-abs`): the tests compare them with
/// tcptrace's `-G` output. Past `limit` segments a graph is drawn one pixel column at a time
/// (the lowest and highest sequence number in each), and says so.
struct SequenceGraph {
    let picture: StreamPicture
    let direction: Int
    let style: PictureStyle
    var limit = 4000

    init(_ picture: StreamPicture, direction: Int, style: PictureOptions.Style, limit: Int = 4000) {
        self.picture = picture
        self.direction = direction
        self.style = PictureStyle(style)
        self.limit = limit
    }

    var name: String {
        direction == 0 ? "\(picture.client) → \(picture.server)" : "\(picture.server) → \(picture.client)"
    }

    func svg() -> String {
        let width = style.width, height = style.name == .projector ? 720.0 : 520.0
        let segments = picture.sent[direction]
        let acks = picture.acks[direction]
        let sacks = picture.sacks[direction]
        var out = style.open(width: width, height: height, title: "time-sequence graph, \(name)")
        out += "<text class=\"title\" x=\"10\" y=\"\(SVG.x(style.font * 1.6))\">Time-sequence graph, \(SVG.escape(name)) (stream \(picture.stream))</text>\n"
        guard !segments.isEmpty else {
            return out + "<text x=\"10\" y=\"80\">This direction sent no segment.</text>\n</svg>\n"
        }
        let times = segments.map(\.time) + acks.map(\.time)
        let tops = segments.map { Double($0.seq) + Double($0.occupies) } + acks.map { Double($0.ack) + Double($0.window) }
        let area = PlotArea(left: style.font * 6, top: style.font * 3.5, width: width - style.font * 8, height: height - style.font * 9,
                            x: (times.min() ?? 0)...(times.max() ?? 1), y: 0...max(1, tops.max() ?? 1))
        out += area.axes(xLabel: "time since the first frame (s)", yLabel: "relative sequence number (bytes)", style: style, yFormat: PlotArea.bytes)
        let aggregate = segments.count > limit
        // The window line, then the ACK staircase, then the data on top.
        out += staircase(acks.map { ($0.time, Double($0.ack) + Double($0.window)) }, in: area, class: "winline")
        out += staircase(acks.map { ($0.time, Double($0.ack)) }, in: area, class: "ackline")
        if aggregate {
            out += columns(segments, in: area)
        } else {
            for segment in segments where segment.occupies > 0 {
                // A SYN's and a FIN's sequence number drawn apart from the data, as tcptrace does.
                var start = UInt32(0)
                if segment.syn { out += bar(segment, from: 0, length: 1, flag: "syn", in: area); start = 1 }
                if segment.length > 0 { out += bar(segment, from: start, length: segment.length, flag: nil, in: area) }
                if segment.fin { out += bar(segment, from: start &+ UInt32(segment.length), length: 1, flag: "fin", in: area) }
            }
        }
        // The points the lines step at, each a mark the tests and a student's script can read.
        if acks.count <= limit {
            // The first ACK starts the lines (`ack-start`, `window-start`); each later point
            // where a line steps is an `ack` or a `window` mark, as tcptrace draws a step.
            var previous: (ack: UInt32, edge: Int)?
            for ack in acks {
                let edge = Int(ack.ack) + ack.window
                // Every change is a step, down too: an ACK that arrives after a later one
                // (reordered on the way) takes the line back, as tcptrace draws it.
                if previous.map({ $0.ack != ack.ack }) ?? true {
                    out += "<circle class=\"ackpt\" r=\"1.5\" fill=\"\(style.ack)\" data-kind=\"\(previous == nil ? "ack-start" : "ack")\" data-frame=\"\(ack.frame)\" data-time=\"\(ack.epoch.microsecondText)\""
                        + " data-seq=\"\(ack.ack)\" data-seq-abs=\"\(ack.ackRaw)\" cx=\"\(SVG.x(area.px(ack.time)))\" cy=\"\(SVG.x(area.py(Double(ack.ack))))\"/>\n"
                }
                if previous.map({ $0.edge != edge }) ?? true {
                    out += "<circle class=\"winpt\" r=\"1.5\" fill=\"\(style.window)\" data-kind=\"\(previous == nil ? "window-start" : "window")\" data-frame=\"\(ack.frame)\" data-time=\"\(ack.epoch.microsecondText)\""
                        + " data-seq=\"\(edge)\" data-seq-abs=\"\(UInt32(truncatingIfNeeded: Int(ack.ackRaw) + ack.window))\" cx=\"\(SVG.x(area.px(ack.time)))\" cy=\"\(SVG.x(area.py(Double(edge))))\"/>\n"
                }
                previous = (ack.ack, edge)
            }
        }
        for sack in sacks.prefix(limit) {
            let x = SVG.x(area.px(sack.time))
            out += "<line class=\"sack\" data-kind=\"sack\" data-frame=\"\(sack.frame)\" data-time=\"\(sack.epoch.microsecondText)\" data-seq=\"\(sack.left)\" data-end=\"\(sack.right)\""
                + " data-seq-abs=\"\(sack.leftRaw)\" data-end-abs=\"\(sack.rightRaw)\" x1=\"\(x)\" y1=\"\(SVG.x(area.py(Double(sack.left))))\" x2=\"\(x)\" y2=\"\(SVG.x(area.py(Double(sack.right))))\"/>\n"
        }
        let legend = "bars: segments (red: resent) · green: the ACKs received · orange: ACK + receive window · purple: SACK blocks"
        out += "<text class=\"small\" x=\"\(SVG.x(area.left))\" y=\"\(SVG.x(height - style.small * 1.6))\">\(SVG.escape(legend))</text>\n"
        if aggregate {
            out += "<text class=\"small\" x=\"\(SVG.x(area.left))\" y=\"\(SVG.x(height - 4))\">\(segments.count) segments, drawn one pixel column at a time (each bar from the lowest to the highest sequence number sent in it)</text>\n"
        }
        return out + "</svg>\n"
    }

    /// One mark of a segment: `length` sequence numbers from `offset` past its first.
    func bar(_ segment: SentSegment, from offset: UInt32, length: Int, flag: String?, in area: PlotArea) -> String {
        let kind = segment.retransmission ? "retransmission" : "segment"
        let x = SVG.x(area.px(segment.time))
        let seq = segment.seq &+ offset, raw = segment.seqRaw &+ offset
        return "<line class=\"seg \(kind)\" data-kind=\"\(kind)\" data-frame=\"\(segment.frame)\" data-time=\"\(segment.epoch.microsecondText)\""
            + " data-seq=\"\(seq)\" data-seq-abs=\"\(raw)\" data-len=\"\(flag == nil ? length : 0)\" data-end-abs=\"\(raw &+ UInt32(length))\""
            + (flag.map { " data-\($0)=\"1\"" } ?? "")
            + " x1=\"\(x)\" y1=\"\(SVG.x(area.py(Double(seq))))\" x2=\"\(x)\" y2=\"\(SVG.x(area.py(Double(seq) + Double(length))))\"/>\n"
    }

    /// A step line through (time, value) points: flat until the next point, then up (or down).
    func staircase(_ points: [(Double, Double)], in area: PlotArea, class name: String) -> String {
        guard let first = points.first else { return "" }
        var path = "M\(SVG.x(area.px(first.0))),\(SVG.x(area.py(first.1)))"
        var lastX = area.px(first.0), lastY = area.py(first.1)
        for (time, value) in points.dropFirst() {
            let x = area.px(time), y = area.py(value)
            // Points closer than half a pixel add nothing a screen can show.
            if abs(x - lastX) < 0.5 && abs(y - lastY) < 0.5 { continue }
            path += " H\(SVG.x(x)) V\(SVG.x(y))"
            lastX = x
            lastY = y
        }
        return "<path class=\"\(name)\" d=\"\(path)\"/>\n"
    }

    /// A long capture's segments, one vertical bar per pixel column.
    func columns(_ segments: [SentSegment], in area: PlotArea) -> String {
        var low: [Int: (Double, Double, Int, Bool)] = [:]
        for segment in segments where segment.occupies > 0 {
            let column = Int(area.px(segment.time))
            let start = Double(segment.seq), end = start + Double(segment.occupies)
            let old = low[column] ?? (start, end, 0, false)
            low[column] = (min(old.0, start), max(old.1, end), old.2 + 1, old.3 || segment.retransmission)
        }
        var out = ""
        for (column, (start, end, count, resent)) in low.sorted(by: { $0.key < $1.key }) {
            out += "<line class=\"seg\(resent ? " retransmission" : "")\" data-kind=\"segments\" data-count=\"\(count)\" x1=\"\(column)\" y1=\"\(SVG.x(area.py(start)))\" x2=\"\(column)\" y2=\"\(SVG.x(area.py(end)))\"/>\n"
        }
        return out
    }
}
