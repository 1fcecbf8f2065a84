import TextOutput

/// Sizes and colours for each style, and the CSS every picture embeds (an SVG pasted alone
/// into a slide keeps its look: the style travels inside it).
struct PictureStyle {
    let name: PictureOptions.Style
    var font: Double { name == .projector ? 20 : 13 }
    var small: Double { name == .projector ? 16 : 11 }
    var row: Double { name == .projector ? 56 : 36 }
    var stroke: Double { name == .projector ? 2.5 : 1.4 }
    var width: Double { name == .projector ? 1400 : 1100 }

    init(_ name: PictureOptions.Style) { self.name = name }

    /// The palette: data, ACKs, windows, SACK blocks, marks. Print keeps to black and greys,
    /// with dashes where colour told the lines apart.
    var data: String { name == .print ? "#000" : "#1f5fa8" }
    var ack: String { name == .print ? "#000" : "#1a8a3a" }
    var window: String { name == .print ? "#777" : "#d08a00" }
    var sack: String { name == .print ? "#444" : "#8b3fb5" }
    var mark: String { name == .print ? "#000" : "#c62828" }
    var muted: String { name == .print ? "#444" : "#666" }

    var css: String {
        """
        <style>
        .pic text { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: \(font)px; fill: #111; }
        .pic .small { font-size: \(small)px; fill: \(muted); }
        .pic .mono { font-family: "DejaVu Sans Mono", monospace; }
        .pic .title { font-size: \(font + 2)px; font-weight: bold; }
        .pic .state { font-size: \(small)px; font-weight: bold; fill: \(name == .print ? "#000" : "#5b3a00"); }
        .pic .mark { fill: \(mark); font-weight: bold; }
        .pic .lifeline { stroke: #999; stroke-width: \(stroke); }
        .pic .arrow line { stroke: \(data); stroke-width: \(stroke); }
        .pic .arrow.s2c line { stroke: \(name == .print ? "#000" : "#2e7d32"); }
        .pic .arrow.marked line { stroke: \(mark); stroke-dasharray: \(name == .print ? "6 3" : "none"); }
        .pic .axis { stroke: #333; stroke-width: 1; }
        .pic .grid { stroke: #ddd; stroke-width: 0.6; }
        .pic .seg { stroke: \(data); stroke-width: \(stroke); }
        .pic .seg.retransmission { stroke: \(mark); }
        .pic .ackline { stroke: \(ack); stroke-width: \(stroke); fill: none; }
        .pic .winline { stroke: \(window); stroke-width: \(stroke); fill: none; stroke-dasharray: \(name == .print ? "5 3" : "none"); }
        .pic .sack { stroke: \(sack); stroke-width: \(stroke * 2); }
        .pic .rate { stroke: \(data); stroke-width: \(stroke); fill: none; }
        .pic .rate.average { stroke: \(mark); stroke-dasharray: 6 3; }
        .pic .rtt { fill: \(data); }
        .pic .notenum { fill: \(name == .print ? "#fff" : "#fff8d0"); stroke: #886; }
        </style>
        """
    }

    /// The opening tag of a picture: its own size, the embedded style, a white background.
    func open(width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pic\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
            + "<title>\(SVG.escape(title))</title>\n" + css + "\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    }
}
