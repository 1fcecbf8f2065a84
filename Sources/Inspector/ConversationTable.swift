import Capture

/// Per connection and direction: packets, bytes, duration, retransmissions and how it ended —
/// the table `tshark -z conv,tcp` and tcptrace print, and DESIGN.md's `summary` record.
struct ConversationTable {
    struct Row: Sendable {
        var stream: Int
        /// A is the side that sent the first segment seen (the client when the SYN is in).
        var a: Endpoint
        var b: Endpoint
        var framesAToB = 0, bytesAToB = 0, payloadAToB = 0, retransmissionsAToB = 0
        var framesBToA = 0, bytesBToA = 0, payloadBToA = 0, retransmissionsBToA = 0
        var start: Timestamp
        var end: Timestamp
        var state = "open"
    }

    private(set) var rows: [Row] = []

    mutating func add(_ report: SegmentReport, frameLength: Int) {
        if report.stream == rows.count {
            rows.append(Row(stream: report.stream, a: report.source, b: report.destination, start: report.time, end: report.time))
        }
        guard report.stream < rows.count else { return }
        let retransmitted = report.analysis.names.contains("retransmission") ? 1 : 0
        if report.source == rows[report.stream].a {
            rows[report.stream].framesAToB += 1
            rows[report.stream].bytesAToB += frameLength
            rows[report.stream].payloadAToB += report.length
            rows[report.stream].retransmissionsAToB += retransmitted
        } else {
            rows[report.stream].framesBToA += 1
            rows[report.stream].bytesBToA += frameLength
            rows[report.stream].payloadBToA += report.length
            rows[report.stream].retransmissionsBToA += retransmitted
        }
        rows[report.stream].end = report.time
    }

    /// The state column follows the connection's records.
    mutating func note(_ record: ConnectionTracker.Record) {
        guard record.stream < rows.count else { return }
        switch record {
        case .handshake(let h):
            if h.state != .complete || rows[record.stream].state == "open" {
                rows[record.stream].state = h.state == .complete ? "established" : h.state.rawValue
            }
        case .close(let c):
            rows[record.stream].state = c.how == .rst ? "reset" : (c.complete ? "closed" : "closing")
        }
    }

    static func text(_ rows: [Row]) -> [String] {
        var lines = ["TCP conversations (A is the side that spoke first)",
                     pad("stream", 6) + "  " + pad("A", 23) + "  " + pad("B", 23) + "  " + pad("A→B frames/bytes", 18)
                        + "  " + pad("B→A frames/bytes", 18) + "  " + pad("retrans", 8) + "  " + pad("duration", 10) + "  state"]
        for row in rows {
            lines.append(pad("\(row.stream)", 6) + "  " + pad(row.a.description, 23) + "  " + pad(row.b.description, 23)
                         + "  " + pad("\(row.framesAToB)/\(row.bytesAToB)", 18) + "  " + pad("\(row.framesBToA)/\(row.bytesBToA)", 18)
                         + "  " + pad("\(row.retransmissionsAToB)/\(row.retransmissionsBToA)", 8)
                         + "  " + pad(JSONLines.format9(row.end.seconds(since: row.start)).prefix(8) + " s", 10) + "  " + row.state)
        }
        return lines
    }

    private static func pad(_ text: some StringProtocol, _ width: Int) -> String {
        text.count >= width ? String(text) : String(text) + String(repeating: " ", count: width - text.count)
    }
}

extension JSONLines {
    /// `{"kind":"summary",…}`: one per connection, after the last frame.
    static func line(_ row: ConversationTable.Row) -> String {
        "{\"kind\":\"summary\",\"stream\":\(row.stream),\"a\":\(quoted(row.a.description)),\"b\":\(quoted(row.b.description))"
            + ",\"a_to_b\":{\"frames\":\(row.framesAToB),\"bytes\":\(row.bytesAToB),\"payload\":\(row.payloadAToB),\"retransmissions\":\(row.retransmissionsAToB)}"
            + ",\"b_to_a\":{\"frames\":\(row.framesBToA),\"bytes\":\(row.bytesBToA),\"payload\":\(row.payloadBToA),\"retransmissions\":\(row.retransmissionsBToA)}"
            + ",\"start\":\(row.start),\"duration\":\(format9(row.end.seconds(since: row.start))),\"state\":\"\(row.state)\"}"
    }
}
