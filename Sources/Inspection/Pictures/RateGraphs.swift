import TextOutput

/// Throughput and RTT over time, each direction in a panel of its own. Throughput: payload
/// bytes per interval (the instantaneous line, intervals of a hundredth of the connection's
/// life, at least a millisecond) and bytes since the first data divided by the time since
/// (the average, dashed). RTT: one dot per ACK that covered new data, against the segment
/// it acknowledged (not a retransmitted one: Karn's rule).
struct RateGraphs {
    let picture: StreamPicture
    let style: PictureStyle
    /// Dots drawn one by one up to this many; past it, one per pixel.
    var limit = 4000

    init(_ picture: StreamPicture, style: PictureOptions.Style, limit: Int = 4000) {
        self.picture = picture
        self.style = PictureStyle(style)
        self.limit = limit
    }

    var panelHeight: Double { style.name == .projector ? 340 : 250 }

    func names(_ direction: Int) -> String {
        direction == 0 ? "\(picture.client) → \(picture.server)" : "\(picture.server) → \(picture.client)"
    }

    func throughputSVG() -> String {
        let height = panelHeight * 2 + style.font * 4
        var out = style.open(width: style.width, height: height, title: "throughput, stream \(picture.stream)")
        out += "<text class=\"title\" x=\"10\" y=\"\(SVG.x(style.font * 1.6))\">Throughput (payload bytes per second), stream \(picture.stream)</text>\n"
        for direction in 0..<2 {
            let top = style.font * 3 + Double(direction) * panelHeight
            out += throughputPanel(direction, top: top)
        }
        return out + "</svg>\n"
    }

    func throughputPanel(_ direction: Int, top: Double) -> String {
        let data = picture.sent[direction].filter { $0.length > 0 && !$0.retransmission }
        var out = "<text x=\"10\" y=\"\(SVG.x(top + style.font))\" font-weight=\"bold\">\(SVG.escape(names(direction)))</text>\n"
        guard let first = data.first, let last = data.last else {
            return out + "<text class=\"small\" x=\"10\" y=\"\(SVG.x(top + style.font * 2.5))\">no data this way</text>\n"
        }
        let span = max(last.time - first.time, 0.001)
        let interval = max(span / 100, 0.001)
        var buckets: [Int: Double] = [:]
        for segment in data { buckets[Int((segment.time - first.time) / interval), default: 0] += Double(segment.length) }
        let count = Int(span / interval) + 1
        let instant = (0..<count).map { (first.time + (Double($0) + 0.5) * interval, (buckets[$0] ?? 0) / interval) }
        var total = 0.0
        var average: [(Double, Double)] = []
        for segment in data {
            total += Double(segment.length)
            let elapsed = segment.time - first.time
            if elapsed >= interval { average.append((segment.time, total / elapsed)) }
        }
        let peak = max(instant.map(\.1).max() ?? 1, average.map(\.1).max() ?? 1)
        let area = PlotArea(left: style.font * 7, top: top + style.font * 1.6, width: style.width - style.font * 9, height: panelHeight - style.font * 5,
                            x: first.time...(first.time + Double(count) * interval), y: 0...peak)
        out += area.axes(xLabel: "time since the first frame (s)", yLabel: "bytes/s", style: style, yFormat: PlotArea.rate)
        out += polyline(instant, in: area, class: "rate", kind: "throughput")
        out += polyline(average, in: area, class: "rate average", kind: "throughput-average")
        out += "<text class=\"small\" x=\"\(SVG.x(area.left + area.width - 4))\" y=\"\(SVG.x(area.top + style.small + 2))\" text-anchor=\"end\">solid: per \(JSON.fixed(interval * 1000, places: interval < 0.01 ? 1 : 0)) ms · dashed: average since the first data, \(SVG.escape(PlotArea.rate(total / span)))</text>\n"
        return out
    }

    func rttSVG() -> String {
        let height = panelHeight * 2 + style.font * 4
        var out = style.open(width: style.width, height: height, title: "RTT samples, stream \(picture.stream)")
        out += "<text class=\"title\" x=\"10\" y=\"\(SVG.x(style.font * 1.6))\">Round-trip time samples (ms), stream \(picture.stream)</text>\n"
        for direction in 0..<2 {
            let top = style.font * 3 + Double(direction) * panelHeight
            let samples = picture.rtt[direction]
            out += "<text x=\"10\" y=\"\(SVG.x(top + style.font))\" font-weight=\"bold\">\(SVG.escape(names(direction))), ACKed by the other side</text>\n"
            guard let first = samples.first else {
                out += "<text class=\"small\" x=\"10\" y=\"\(SVG.x(top + style.font * 2.5))\">no sample: no new data of this direction was acknowledged</text>\n"
                continue
            }
            let highest = (samples.map(\.seconds).max() ?? 0.001) * 1000
            // Times that run backwards (a capture merged out of order) must not invert the range.
            let times = samples.map(\.time)
            let area = PlotArea(left: style.font * 7, top: top + style.font * 1.6, width: style.width - style.font * 9, height: panelHeight - style.font * 5,
                                x: (times.min() ?? first.time)...(times.max() ?? first.time), y: 0...max(highest * 1.1, 0.001))
            out += area.axes(xLabel: "time since the first frame (s)", yLabel: "RTT (ms)", style: style) { JSON.fixed($0, places: $0 < 1 ? 3 : 1) }
            // One dot per sample; past `limit` samples, one per 2×2 pixels they fall on (a dot
            // hides the others there anyway), with how many it stands for.
            var drawn: [Int: Int] = [:]
            var dots: [(RTTSample, Double, Double)] = []
            for sample in samples {
                let x = area.px(sample.time), y = area.py(sample.seconds * 1000)
                if samples.count > limit {
                    let key = Int(x / 2) << 20 | Int(y / 2)
                    if let index = drawn[key] { dots[index].2 += 1; continue }
                    drawn[key] = dots.count
                }
                dots.append((sample, x, 1))
            }
            for (sample, x, count) in dots {
                let y = area.py(sample.seconds * 1000)
                out += "<circle class=\"rtt\" r=\"\(SVG.x(style.stroke * 1.6))\" data-kind=\"rtt\" data-frame=\"\(sample.frame)\" data-ms=\"\(JSON.fixed(sample.seconds * 1000, places: 3))\""
                    + (count > 1 ? " data-count=\"\(Int(count))\"" : "") + " cx=\"\(SVG.x(x))\" cy=\"\(SVG.x(y))\"/>\n"
            }
            if samples.count > limit {
                out += "<text class=\"small\" x=\"\(SVG.x(area.left + area.width - 4))\" y=\"\(SVG.x(area.top + style.small + 2))\" text-anchor=\"end\">\(samples.count) samples, one dot per 2×2 pixels: \(dots.count) dots</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    func polyline(_ points: [(Double, Double)], in area: PlotArea, class name: String, kind: String) -> String {
        guard !points.isEmpty else { return "" }
        // One point per pixel column (its last value): the average has a point per segment,
        // 50,000 of them in a long capture, and a screen shows a thousand.
        var kept: [(Double, Double)] = []
        for point in points {
            let x = area.px(point.0), y = area.py(point.1)
            if let last = kept.last, Int(last.0) == Int(x) { kept[kept.count - 1] = (x, y) } else { kept.append((x, y)) }
        }
        let coordinates = kept.map { "\(SVG.x($0.0)),\(SVG.x($0.1))" }.joined(separator: " ")
        return "<polyline class=\"\(name)\" data-kind=\"\(kind)\" points=\"\(coordinates)\"/>\n"
    }
}
