import TextOutput

/// `inspector read FILE --html OUT.html`: one self-contained page — inline SVG and CSS, no
/// script, no font or file from anywhere — with the conversation table and, for each stream
/// drawn, its handshake summary, the ladder with the notes listed under it, the
/// time-sequence graph of each direction, throughput and RTT.
struct PicturePage {
    let options: PictureOptions
    let streams: [StreamPicture]
    let summaries: [ConversationSummary]
    let totalStreams: Int
    let otherFrames: Int

    var style: PictureStyle { PictureStyle(options.style) }

    func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>\(SVG.escape(options.title))</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #111; font-size: \(style.font + 2)px; }
            h1 { font-size: \(style.font * 1.9)px; } h2 { font-size: \(style.font * 1.5)px; margin-top: 2em; } h3 { font-size: \(style.font * 1.2)px; }
            pre { font-family: "DejaVu Sans Mono", monospace; font-size: \(style.small + 1)px; background: #f6f6f6; padding: 10px; overflow-x: auto; }
            table { border-collapse: collapse; font-size: \(style.small + 1)px; }
            td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            td.l, th.l { text-align: left; }
            svg { max-width: 100%; height: auto; display: block; margin: 12px 0; }
            ol.notes li { margin: 4px 0; }
            @media print { body { margin: 0; } h2 { page-break-before: always; } pre { background: none; } }
            </style></head><body>
            <h1>\(SVG.escape(options.title))</h1>

            """
        out += "<p>\(totalStreams) TCP stream\(totalStreams == 1 ? "" : "s")"
        if otherFrames > 0 { out += ", and \(otherFrames) frames that are not TCP" }
        if streams.count < totalStreams { out += "; the first \(streams.count) drawn below (inspector read FILE --html OUT --stream N draws any other)" }
        out += ". Relative sequence numbers, as tshark shows them; times in seconds since the first frame.</p>\n"
        out += table()
        for picture in streams {
            out += "<h2 id=\"stream-\(picture.stream)\">Stream \(picture.stream): client \(SVG.escape(picture.client)), server \(SVG.escape(picture.server))</h2>\n"
            if let handshake = picture.handshake { out += "<h3>The handshake</h3>\n<pre>\(SVG.escape(handshake))</pre>\n" }
            out += "<h3>The ladder</h3>\n"
            let ladder = LadderPicture(picture, style: options.style)
            out += ladder.svg(listNotes: false)
            let notes = ladder.notes
            if !notes.isEmpty {
                out += "<ol class=\"notes\">\n"
                for (_, frame, text) in notes { out += "<li>frame \(frame): \(SVG.escape(text))</li>\n" }
                out += "</ol>\n"
            }
            if picture.arrowsLeftOut > 0 {
                out += "<p>The ladder shows the first \(picture.arrows.count) of \(picture.segments) segments; the graphs below show them all.</p>\n"
            }
            if let close = picture.close { out += "<h3>The close</h3>\n<pre>\(SVG.escape(close))</pre>\n" }
            out += "<h3>Time-sequence graphs</h3>\n"
            for direction in 0..<2 { out += SequenceGraph(picture, direction: direction, style: options.style, limit: options.markLimit).svg() }
            out += "<h3>Throughput and RTT</h3>\n"
            let rates = RateGraphs(picture, style: options.style, limit: options.markLimit)
            out += rates.throughputSVG() + rates.rttSVG()
        }
        return out + "</body></html>\n"
    }

    func table() -> String {
        var out = "<table class=\"conversations\">\n<tr><th>stream</th><th class=\"l\">A (spoke first)</th><th class=\"l\">B</th><th>A→B frames</th><th>A→B bytes</th>"
            + "<th>B→A frames</th><th>B→A bytes</th><th>retransmissions</th><th>duration (s)</th><th class=\"l\">state</th></tr>\n"
        for row in summaries.prefix(1000) {
            let drawn = streams.contains { $0.stream == row.stream }
            let name = drawn ? "<a href=\"#stream-\(row.stream)\">\(row.stream)</a>" : "\(row.stream)"
            out += "<tr data-stream=\"\(row.stream)\"><td>\(name)</td><td class=\"l\">\(SVG.escape("\(row.a)"))</td><td class=\"l\">\(SVG.escape("\(row.b)"))</td>"
                + "<td>\(row.framesAToB)</td><td>\(row.bytesAToB)</td><td>\(row.framesBToA)</td><td>\(row.bytesBToA)</td>"
                + "<td>\(row.retransmissionsAToB)/\(row.retransmissionsBToA)</td><td>\(JSON.fixed(row.end.seconds(since: row.start), places: 6))</td>"
                + "<td class=\"l\">\(row.state.rawValue)</td></tr>\n"
        }
        if summaries.count > 1000 { out += "<tr><td colspan=\"10\" class=\"l\">… and \(summaries.count - 1000) more (inspector read FILE --summary lists them all)</td></tr>\n" }
        return out + "</table>\n"
    }
}
