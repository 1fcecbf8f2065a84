/// A JSON value, written by the one writer every tool shares (RFC 8259): strings escaped,
/// keys kept in the order given (a student reads `kind` first), numbers never NaN or
/// infinite (they become null, which JSON allows and `NaN` it does not).
public indirect enum JSON: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number with a fixed count of decimals: 12.5 with 2 is `12.50`.
    case decimal(Double, places: Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func integer(_ value: Int) -> JSON { .integer(Int64(value)) }
    public static func optional(_ value: Int?) -> JSON { value.map { .integer(Int64($0)) } ?? .null }
    public static func optional(_ value: Double?, places: Int) -> JSON { value.map { .decimal($0, places: places) } ?? .null }
    public static func optional(_ value: String?) -> JSON { value.map { .string($0) } ?? .null }

    /// The value as compact JSON text (one line: JSON Lines-safe).
    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .integer(let value): out += String(value).utf8
        case .decimal(let value, let places): out += JSON.fixed(value, places: places).utf8
        case .string(let text): JSON.quote(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSON.quote(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal of `text`.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        quote(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if JSONEscape.needed(byte) { JSONEscape.write(byte) { out.append($0) } } else { out.append(byte) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `places` decimals, rounded (`12.50`): the one way numbers are printed with a fixed
    /// count of decimals, in JSON and in the tables beside it. NaN or infinity prints `null`.
    public static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let clamped = min(max(value, -9e15 / scale), 9e15 / scale)
        let units = Int64((clamped * scale).rounded())
        guard places > 0 else { return String(units) }
        let one = UInt64(scale)
        let fraction = String(units.magnitude % one)
        return (units < 0 ? "-" : "") + "\(units.magnitude / one)." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}

/// RFC 8259 §7 string escaping, byte by byte, for writers that fill their own buffers (the
/// inspector's output buffer) as well as for `JSON`: one rule, one place.
public enum JSONEscape {
    /// Whether `byte` must be escaped inside a JSON string: a quote, a backslash, a control
    /// character. UTF-8 above 0x7F passes through as it is.
    @inlinable @inline(__always)
    public static func needed(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Writes the escape for `byte` (`\"`, `\\`, `\n`, `\t`, `\r` or `\u00XX`) through `emit`.
    @inlinable
    public static func write(_ byte: UInt8, _ emit: (UInt8) -> Void) {
        emit(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): emit(byte)
        case UInt8(ascii: "\n"): emit(UInt8(ascii: "n"))
        case UInt8(ascii: "\t"): emit(UInt8(ascii: "t"))
        case UInt8(ascii: "\r"): emit(UInt8(ascii: "r"))
        default:
            let hex: StaticString = "0123456789abcdef"
            emit(UInt8(ascii: "u")); emit(UInt8(ascii: "0")); emit(UInt8(ascii: "0"))
            hex.withUTF8Buffer { digits in
                emit(digits[Int(byte >> 4)])
                emit(digits[Int(byte & 0xf)])
            }
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
