/// One socket type as socket-types measured it on this machine: every cell a value found by
/// a probe run just now, with the evidence (the calls made, what they returned) one key away.
public struct SocketTypeRow: Sendable {
    /// The row's name on the command line: `socket-types --explain raw-icmp`.
    public var id: String
    /// "SOCK_STREAM / TCP".
    public var type: String
    /// The C call that makes it.
    public var call: String
    public var boundaries = Cell<Bool>.notMeasured("not probed")
    public var ordered = Cell<Bool>.notMeasured("not probed")
    public var reliable = Cell<Bool>.notMeasured("not probed")
    public var connection = Cell<Bool>.notMeasured("not probed")
    /// What an unprivileged user needs: "none", "CAP_NET_RAW", "net.ipv4.ping_group_range".
    public var privilege = Cell<String>.notMeasured("not probed")
    /// The largest message one call carries; nil value with a text for a stream (no limit).
    public var largest = Cell<Int>.notMeasured("not probed")
    /// Where `ss -a` and /proc/net show it, with the lines found for the probe's own socket.
    public var shownBy = Cell<String>.notMeasured("not probed")

    public init(id: String, type: String, call: String) {
        self.id = id
        self.type = type
        self.call = call
    }

    /// The cells in the table's order, with their column names.
    public var cells: [(column: String, text: String, evidence: [String], measured: Bool)] {
        [("boundaries", boundaries.text, boundaries.evidence, boundaries.measured),
         ("ordered", ordered.text, ordered.evidence, ordered.measured),
         ("reliable", reliable.text, reliable.evidence, reliable.measured),
         ("connection", connection.text, connection.evidence, connection.measured),
         ("privilege", privilege.text, privilege.evidence, privilege.measured),
         ("largest message", largest.text, largest.evidence, largest.measured),
         ("shown by", shownBy.text, shownBy.evidence, shownBy.measured)]
    }
}

/// A measured value, the words for it, and how it was found.
public struct Cell<Value: Sendable>: Sendable {
    /// nil: not measured here (the text says why), or no value applies (a stream's largest
    /// message) when `measured` is true.
    public var value: Value?
    public var text: String
    public var evidence: [String]
    public var measured: Bool

    public static func measured(_ value: Value?, _ text: String, _ evidence: [String]) -> Cell {
        Cell(value: value, text: text, evidence: evidence, measured: true)
    }

    public static func notMeasured(_ reason: String, _ evidence: [String] = []) -> Cell {
        Cell(value: nil, text: "not measured: \(reason)", evidence: evidence, measured: false)
    }
}
