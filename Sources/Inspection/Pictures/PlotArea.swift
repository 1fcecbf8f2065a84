import PacketCapture
import TextOutput

/// A rectangle with two linear axes: what the time-sequence, throughput and RTT graphs plot
/// into. Values map to pixels here, once, so every mark of a graph uses the same scale.
struct PlotArea {
    var left: Double, top: Double, width: Double, height: Double
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>

    init(left: Double, top: Double, width: Double, height: Double, x: ClosedRange<Double>, y: ClosedRange<Double>) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
        // An empty range (one point) still gets a scale.
        xRange = x.lowerBound < x.upperBound ? x : x.lowerBound...(x.lowerBound + 1e-3)
        yRange = y.lowerBound < y.upperBound ? y : y.lowerBound...(y.lowerBound + 1)
    }

    func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width }
    func py(_ y: Double) -> Double { top + height - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * height }

    /// The frame, grid lines, ticks and their labels, and the axes' names with their units.
    func axes(xLabel: String, yLabel: String, style: PictureStyle, yFormat: (Double) -> String) -> String {
        var out = "<g class=\"axes\">\n"
        let xTicks = SVG.ticks(low: xRange.lowerBound, high: xRange.upperBound)
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        for tick in xTicks {
            let x = px(tick)
            out += "<line class=\"grid\" x1=\"\(SVG.x(x))\" y1=\"\(SVG.x(top))\" x2=\"\(SVG.x(x))\" y2=\"\(SVG.x(top + height))\"/>"
            out += "<text class=\"small\" x=\"\(SVG.x(x))\" y=\"\(SVG.x(top + height + style.small + 4))\" text-anchor=\"middle\">\(SVG.tickLabel(tick, step: xStep))</text>\n"
        }
        for tick in SVG.ticks(low: yRange.lowerBound, high: yRange.upperBound) {
            let y = py(tick)
            out += "<line class=\"grid\" x1=\"\(SVG.x(left))\" y1=\"\(SVG.x(y))\" x2=\"\(SVG.x(left + width))\" y2=\"\(SVG.x(y))\"/>"
            out += "<text class=\"small\" x=\"\(SVG.x(left - 6))\" y=\"\(SVG.x(y + 4))\" text-anchor=\"end\">\(SVG.escape(yFormat(tick)))</text>\n"
        }
        out += "<rect class=\"axis\" x=\"\(SVG.x(left))\" y=\"\(SVG.x(top))\" width=\"\(SVG.x(width))\" height=\"\(SVG.x(height))\" fill=\"none\"/>\n"
        out += "<text class=\"small\" x=\"\(SVG.x(left + width / 2))\" y=\"\(SVG.x(top + height + style.small * 2.6 + 4))\" text-anchor=\"middle\">\(SVG.escape(xLabel))</text>\n"
        out += "<text class=\"small\" transform=\"translate(\(SVG.x(style.small + 2)) \(SVG.x(top + height / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVG.escape(yLabel))</text>\n"
        return out + "</g>\n"
    }

    /// Bytes with a unit a student reads: 1,500 B, 64 kB, 1.2 MB.
    static func bytes(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e9 { return JSON.fixed(value / 1e9, places: 1) + " GB" }
        if magnitude >= 1e6 { return JSON.fixed(value / 1e6, places: magnitude >= 1e7 ? 0 : 1) + " MB" }
        if magnitude >= 1e4 { return JSON.fixed(value / 1e3, places: 0) + " kB" }
        return JSON.fixed(value, places: 0) + " B"
    }

    static func rate(_ value: Double) -> String { bytes(value) + "/s" }
}

extension Timestamp {
    /// `seconds.microseconds`, as tcptrace's xpl files write a time.
    var microsecondText: String {
        let time = normalized
        let micro = String(time.nanoseconds / 1000)
        return "\(time.seconds)." + String(repeating: "0", count: max(0, 6 - micro.count)) + micro
    }
}
