import TextOutput

/// socket-types' table, its `--explain ROW` and its JSON.
public enum SocketTypesReport {
    public static func table(_ rows: [SocketTypeRow], isRoot: Bool) -> [String] {
        var lines = ["socket-types: every cell measured on this machine just now (as uid \(isRoot ? "0, root" : "non-root")); the evidence: socket-types --explain ROW", ""]
        for row in rows {
            lines.append("\(row.id)  \(row.type)  —  \(row.call)")
            for cell in row.cells { lines.append("    " + cell.column.padding(16) + cell.text) }
            lines.append("")
        }
        if !isRoot {
            lines.append("Run with sudo to see the privileged rows and the lossy-link measurements: unprivileged, they are skipped with the reason.")
        }
        return lines
    }

    public static func explain(_ row: SocketTypeRow) -> [String] {
        var lines = ["\(row.id): \(row.type), made with \(row.call)"]
        for cell in row.cells {
            lines.append("")
            lines.append("\(cell.column): \(cell.text)")
            for item in cell.evidence { lines.append("  - \(item)") }
        }
        return lines
    }

    public static func json(_ rows: [SocketTypeRow], isRoot: Bool) -> String {
        func cell<Value>(_ cell: Cell<Value>, _ value: (Value) -> JSON) -> JSON {
            .object([("value", cell.value.map(value) ?? .null), ("measured", .bool(cell.measured)), ("text", .string(cell.text)),
                     ("evidence", .array(cell.evidence.map { .string($0) }))])
        }
        let items: [JSON] = rows.map { row in
            .object([
                ("id", .string(row.id)), ("type", .string(row.type)), ("call", .string(row.call)),
                ("boundaries_kept", cell(row.boundaries) { .bool($0) }),
                ("ordered", cell(row.ordered) { .bool($0) }),
                ("reliable", cell(row.reliable) { .bool($0) }),
                ("connection", cell(row.connection) { .bool($0) }),
                ("privilege", cell(row.privilege) { .string($0) }),
                ("largest_message", cell(row.largest) { .integer($0) }),
                ("shown_by", cell(row.shownBy) { .string($0) }),
            ])
        }
        return JSON.object([("tool", .string("socket-types")), ("root", .bool(isRoot)), ("rows", .array(items))]).text
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: Swift.max(1, width - count)) }
}
