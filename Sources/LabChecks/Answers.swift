/// A student's answers file: a small, strict subset of TOML — `key = value` lines, values
/// an integer, a "string" or true/false, `#` comments. TOML because it is what a student can
/// fill in without quoting everything (JSON) or guessing at indentation (YAML), and a subset
/// because every file labcheck reads starts as the template in the lab's folder.
public struct Answers: Sendable {
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case integer(Int64)
        case string(String)
        case boolean(Bool)

        public var description: String {
            switch self {
            case .integer(let value): String(value)
            case .string(let text): "\"\(text)\""
            case .boolean(let value): String(value)
            }
        }
    }

    public struct SyntaxError: Error, CustomStringConvertible {
        public var line: Int
        public var problem: String
        public var description: String { "answers file, line \(line): \(problem)" }
    }

    public private(set) var values: [String: Value] = [:]

    public init(parsing text: String) throws(SyntaxError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.stripComment(rawLine).trimmingCharacters(in: " \t\r")
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SyntaxError(line: index + 1, problem: "expected `key = value`, found \(line.debugDescription)")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: " \t")
            let raw = String(line[line.index(after: equals)...]).trimmingCharacters(in: " \t")
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw SyntaxError(line: index + 1, problem: "\(key.debugDescription) is not a key (letters, digits, _ and -)")
            }
            values[key] = try Self.value(raw, line: index + 1)
        }
    }

    public subscript(key: String) -> Value? { values[key] }

    static func value(_ raw: String, line: Int) throws(SyntaxError) -> Value {
        if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
            return .string(String(raw.dropFirst().dropLast()))
        }
        if raw == "true" || raw == "false" { return .boolean(raw == "true") }
        let digits = raw.replacingOccurrences(of: "_", with: "")
        if let number = Int64(digits) { return .integer(number) }
        throw SyntaxError(line: line, problem: "\(raw.debugDescription) is not a number, a \"string\" or true/false")
    }

    /// Everything after a `#` that is not inside a string.
    static func stripComment(_ line: Substring) -> String {
        var inString = false
        var result = ""
        for character in line {
            if character == "\"" { inString.toggle() }
            if character == "#" && !inString { break }
            result.append(character)
        }
        return result
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
