import TextOutput

/// ipc-compare's pictures: horizontal bar charts (latency, then throughput at each message
/// size), fastest on top, one SVG that opens anywhere and pastes into slides; and a page with
/// the charts above the table. No script, no external font: a lecture-hall projector and an
/// offline laptop show the same thing. Every bar carries its number in `data-*` attributes so
/// a test (or a student's script) reads the figures back from the picture.
public enum IPCCharts {
    static let width = 960.0
    static let labelWidth = 200.0
    static let valueWidth = 150.0
    static let rowHeight = 22.0
    static let titleHeight = 44.0

    public static func svg(_ r: IPCResult) -> String {
        var panels: [(title: String, rows: [Bar], unit: String)] = []
        panels.append(("Round trip of a 1-byte message: median (bar) and p99 (line), µs — shorter is faster",
                       r.byLatency.compactMap { m in m.latency[1].map { Bar(m.mechanism.rawValue, $0.p50, whisker: $0.p99, label: "\(IPCReport.micro($0.p50)) µs (p99 \(IPCReport.micro($0.p99)))") } }, "µs"))
        for size in IPCCompare.throughputSizes {
            let rows = r.byThroughput(size).map { m -> Bar in
                if let t = m.throughput[size] { return Bar(m.mechanism.rawValue, t.bytesPerSecond, label: IPCReport.rate(t.bytesPerSecond)) }
                return Bar(m.mechanism.rawValue, nil, label: "n/a")
            }
            panels.append(("Throughput with \(IPCReport.sizeName(size)) messages — longer is faster", rows, "B/s"))
        }
        let height = panels.reduce(0) { $0 + titleHeight + Double($1.rows.count) * rowHeight + 24 } + 30
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">
            <title>ipc-compare: \(escape(subtitle(r)))</title>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="10" y="20" font-size="15" font-weight="bold">ipc-compare — \(escape(subtitle(r)))</text>

            """
        var y = 30.0
        for (index, panel) in panels.enumerated() {
            out += drawPanel(panel.title, panel.rows, unit: panel.unit, top: y, id: index == 0 ? "latency" : "throughput-\(IPCCompare.throughputSizes[index - 1])")
            y += titleHeight + Double(panel.rows.count) * rowHeight + 24
        }
        out += "</svg>\n"
        return out
    }

    public static func html(_ r: IPCResult) -> String {
        let table = IPCReport.table(r).map(escape).joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>ipc-compare</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #111; }
            pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #f6f6f6; padding: 12px; overflow-x: auto; }
            svg { max-width: 100%; height: auto; }
            </style></head><body>
            <h1>ipc-compare</h1>
            <p>\(escape(subtitle(r))). Two processes for each mechanism: this program and a child it started.</p>
            \(svg(r))
            <h2>The table</h2>
            <pre>\(table)</pre>
            </body></html>

            """
    }

    struct Bar {
        var name: String
        var value: Double?
        var whisker: Double?
        var label: String

        init(_ name: String, _ value: Double?, whisker: Double? = nil, label: String) {
            self.name = name
            self.value = value
            self.whisker = whisker
            self.label = label
        }
    }

    static func drawPanel(_ title: String, _ rows: [Bar], unit: String, top: Double, id: String) -> String {
        let plotWidth = width - labelWidth - valueWidth - 20
        // Scaled to the bars, not the whiskers: one slow p99 would squash every median into a
        // sliver. A whisker past twice the largest bar is cut at the edge, its number in the label.
        let bars = rows.compactMap(\.value).max() ?? 1
        let largest = rows.contains { $0.whisker != nil } ? bars * 2 : bars
        let scale = plotWidth / max(largest, 1e-12)
        var out = "<g id=\"\(id)\" data-unit=\"\(unit)\">\n"
        out += "<text x=\"10\" y=\"\(top + 26)\" font-weight=\"bold\">\(escape(title))</text>\n"
        for (index, bar) in rows.enumerated() {
            let y = top + titleHeight + Double(index) * rowHeight
            out += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(escape(bar.name))</text>\n"
            guard let value = bar.value else {
                out += "<text x=\"\(labelWidth + 4)\" y=\"\(y + 15)\" fill=\"#777\" data-mechanism=\"\(escape(bar.name))\" data-value=\"n/a\">n/a</text>\n"
                continue
            }
            let length = max(1, value * scale)
            let colour = index == 0 ? "#2b6cb0" : "#90b4dc"
            out += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(JSON.fixed(length, places: 1))\" height=\"\(rowHeight - 6)\" fill=\"\(colour)\" data-mechanism=\"\(escape(bar.name))\" data-value=\"\(JSON.fixed(value, places: 3))\"\(bar.whisker.map { " data-p99=\"\(JSON.fixed($0, places: 3))\"" } ?? "")><title>\(escape(bar.name)): \(escape(bar.label))</title></rect>\n"
            var end = labelWidth + length
            if let whisker = bar.whisker, whisker > value {
                let x = labelWidth + min(whisker, largest) * scale
                out += "<line x1=\"\(JSON.fixed(labelWidth + length, places: 1))\" y1=\"\(y + rowHeight / 2)\" x2=\"\(JSON.fixed(x, places: 1))\" y2=\"\(y + rowHeight / 2)\" stroke=\"#333\" stroke-width=\"1.5\"/>\n"
                out += "<line x1=\"\(JSON.fixed(x, places: 1))\" y1=\"\(y + 6)\" x2=\"\(JSON.fixed(x, places: 1))\" y2=\"\(y + rowHeight - 6)\" stroke=\"#333\" stroke-width=\"1.5\"/>\n"
                end = x
            }
            out += "<text x=\"\(JSON.fixed(end + 6, places: 1))\" y=\"\(y + 15)\">\(escape(bar.label))</text>\n"
        }
        out += "</g>\n"
        return out
    }

    static func subtitle(_ r: IPCResult) -> String {
        let pinning = r.cpus.map { "pinned to CPUs \($0[0]) and \($0[1])" } ?? "unpinned"
        return "Linux \(r.kernel), \(r.onlineCPUs) CPUs, \(pinning)"
    }

    static func escape(_ text: String) -> String { SVG.escape(text) }
}
