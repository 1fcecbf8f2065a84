import TextOutput

/// The ladder as an SVG: the textbook's sequence diagram — client on the left, server on the
/// right, each segment an arrow that falls as it crosses (it takes time), its flags and
/// relative numbers above it, analysis marks in red, each side's TCP state written beside its
/// column where it changes, and the student note on hover and by number in the list under it.
/// Every arrow carries its numbers in `data-*` attributes (the tests compare them with tshark's
/// flow graph).
struct LadderPicture {
    let picture: StreamPicture
    let style: PictureStyle

    init(_ picture: StreamPicture, style: PictureOptions.Style) {
        self.picture = picture
        self.style = PictureStyle(style)
    }

    var clientX: Double { style.width * 0.3 }
    var serverX: Double { style.width * 0.78 }

    /// The notes in order, numbered as on the arrows: (number, frame, text).
    var notes: [(Int, Int, String)] {
        var list: [(Int, Int, String)] = []
        for arrow in picture.arrows where !arrow.notes.isEmpty {
            list.append((list.count + 1, arrow.frame, arrow.notes.joined(separator: " ")))
        }
        return list
    }

    /// `listNotes`: the notes' text under the ladder (a page lists them in HTML instead).
    func svg(listNotes: Bool = true) -> String {
        let top = style.row * 2.2
        let rows = Double(picture.arrows.count)
        let notes = self.notes
        let wrapAt = Int(style.width / (style.small * 0.6)) - 8
        let noteLines = notes.reduce(0) { $0 + Self.wrap("\($1.0). frame \($1.1): \($1.2)", width: wrapAt).count }
        var height = top + rows * style.row + style.row * 1.3 + (listNotes && !notes.isEmpty ? Double(noteLines + 2) * style.small * 1.5 : 0)
        if picture.arrowsLeftOut > 0 { height += style.small * 1.5 }
        var out = style.open(width: style.width, height: height, title: "stream \(picture.stream): \(picture.client) ⇄ \(picture.server)")
        out += "<text class=\"title\" x=\"10\" y=\"\(SVG.x(style.font * 1.6))\">tcp.stream \(picture.stream): the segments in order, time down the page</text>\n"
        out += "<text x=\"\(SVG.x(clientX))\" y=\"\(SVG.x(top - style.row * 0.55))\" text-anchor=\"middle\" font-weight=\"bold\">client \(SVG.escape(picture.client))</text>\n"
        out += "<text x=\"\(SVG.x(serverX))\" y=\"\(SVG.x(top - style.row * 0.55))\" text-anchor=\"middle\" font-weight=\"bold\">server \(SVG.escape(picture.server))</text>\n"
        out += "<text class=\"small\" x=\"10\" y=\"\(SVG.x(top - style.row * 0.55))\">time (s)</text>\n"
        let bottom = top + rows * style.row + style.row * 0.3
        out += "<line class=\"lifeline\" x1=\"\(SVG.x(clientX))\" y1=\"\(SVG.x(top - style.row * 0.3))\" x2=\"\(SVG.x(clientX))\" y2=\"\(SVG.x(bottom))\"/>\n"
        out += "<line class=\"lifeline\" x1=\"\(SVG.x(serverX))\" y1=\"\(SVG.x(top - style.row * 0.3))\" x2=\"\(SVG.x(serverX))\" y2=\"\(SVG.x(bottom))\"/>\n"
        out += "<defs><marker id=\"head\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"context-stroke\"/></marker></defs>\n"
        var noteNumber = 0
        for (index, arrow) in picture.arrows.enumerated() {
            let y = top + Double(index) * style.row + style.row * 0.45
            let drop = style.row * 0.35
            let (from, to) = arrow.fromClient ? (clientX, serverX) : (serverX, clientX)
            let classes = "arrow " + (arrow.fromClient ? "c2s" : "s2c") + (arrow.marks.isEmpty ? "" : " marked")
            out += "<g class=\"\(classes)\" data-frame=\"\(arrow.frame)\" data-dir=\"\(arrow.fromClient ? "c2s" : "s2c")\" data-sender=\"\(SVG.escape(arrow.fromClient ? picture.client : picture.server))\" data-sport=\"\(arrow.fromClient ? picture.clientPort : picture.serverPort)\" data-flags=\"\(arrow.flags)\""
                + " data-seq=\"\(arrow.seq)\" data-ack=\"\(arrow.hasAck ? String(arrow.ack) : "")\" data-len=\"\(arrow.length)\" data-win=\"\(arrow.window)\""
                + " data-time=\"\(JSON.fixed(arrow.time, places: 6))\" data-marks=\"\(SVG.escape(arrow.marks.joined(separator: ",")))\">\n"
            var hover = "frame \(arrow.frame): \(arrow.label)"
            if !arrow.marks.isEmpty { hover += " [" + arrow.marks.joined(separator: ", ") + "]" }
            if !arrow.notes.isEmpty { hover += "\n" + arrow.notes.joined(separator: "\n") }
            out += "<title>\(SVG.escape(hover))</title>\n"
            out += "<text class=\"small mono\" x=\"10\" y=\"\(SVG.x(y + drop / 2 + 4))\">\(JSON.fixed(arrow.time, places: 6))</text>\n"
            let start = from + (to > from ? 4 : -4), end = to + (to > from ? -6 : 6)
            out += "<line x1=\"\(SVG.x(start))\" y1=\"\(SVG.x(y))\" x2=\"\(SVG.x(end))\" y2=\"\(SVG.x(y + drop))\" marker-end=\"url(#head)\"/>\n"
            var label = SVG.escape(arrow.label)
            if !arrow.marks.isEmpty { label += " <tspan class=\"mark\">[\(SVG.escape(arrow.marks.joined(separator: ", ")))]</tspan>" }
            out += "<text x=\"\(SVG.x((clientX + serverX) / 2))\" y=\"\(SVG.x(y - 4))\" text-anchor=\"middle\">\(label)</text>\n"
            if !arrow.notes.isEmpty {
                noteNumber += 1
                // Just short of the arrowhead, under the line: clear of the state beside the column.
                let x = to + (to > from ? -style.small * 2.5 : style.small * 2.5)
                let cy = y + drop + style.small * 0.2
                out += "<circle class=\"notenum\" cx=\"\(SVG.x(x))\" cy=\"\(SVG.x(cy))\" r=\"\(SVG.x(style.small * 0.8))\"/>"
                out += "<text class=\"small\" x=\"\(SVG.x(x))\" y=\"\(SVG.x(cy + style.small * 0.35))\" text-anchor=\"middle\">\(noteNumber)</text>\n"
            }
            out += "</g>\n"
            if let state = arrow.clientState {
                out += "<text class=\"state\" x=\"\(SVG.x(clientX - 10))\" y=\"\(SVG.x(y + drop + 4))\" text-anchor=\"end\" data-side=\"client\" data-state=\"\(state)\">\(state)</text>\n"
            }
            if let state = arrow.serverState {
                out += "<text class=\"state\" x=\"\(SVG.x(serverX + 10))\" y=\"\(SVG.x(y + drop + 4))\" data-side=\"server\" data-state=\"\(state)\">\(state)</text>\n"
            }
        }
        var y = bottom + style.row * 0.5
        if picture.arrowsLeftOut > 0 {
            out += "<text class=\"small\" x=\"10\" y=\"\(SVG.x(y))\">… and \(picture.arrowsLeftOut) more segments: the ladder draws the first \(picture.arrows.count); the time-sequence graph shows them all</text>\n"
            y += style.small * 1.5
        }
        if listNotes && !notes.isEmpty {
            out += "<text class=\"small\" x=\"10\" y=\"\(SVG.x(y))\" font-weight=\"bold\">Notes</text>\n"
            for (number, frame, text) in notes {
                for (index, line) in Self.wrap("\(number). frame \(frame): \(text)", width: wrapAt).enumerated() {
                    y += style.small * 1.5
                    out += "<text class=\"small\" x=\"\(index == 0 ? 10 : 28)\" y=\"\(SVG.x(y))\">\(SVG.escape(line))</text>\n"
                }
            }
        }
        return out + "</svg>\n"
    }

    /// Words into lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + word.count + 1 > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
