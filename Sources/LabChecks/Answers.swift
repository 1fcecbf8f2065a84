import Foundation
import TOMLKit

/// A student's answers file, in TOML (read by TOMLKit, a real TOML 1.0 parser): `key = value`
/// lines, `#` comments. TOML because a student can fill it in without quoting everything
/// (JSON) or guessing at indentation (YAML). What a student writes is read generously —
/// `25.107`, `"25"`, `0x1fc5`, `"1FC5"` are all numbers where a number is asked — and where a
/// value cannot be one, the check says what to write instead of "not answered".
public struct Answers: Sendable {
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case integer(Int64)
        case decimal(Double)
        case string(String)
        case boolean(Bool)
        /// An array, a table, a date: TOML, but never an answer here.
        case other(String)

        public var description: String {
            switch self {
            case .integer(let value): String(value)
            case .decimal(let value): String(value)
            case .string(let text): "\"\(text)\""
            case .boolean(let value): String(value)
            case .other(let kind): kind
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
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Self.explain(error, in: text)
        } catch {
            throw SyntaxError(line: 1, problem: "\(error)")
        }
        Self.flatten(table, prefix: "", into: &values)
    }

    public subscript(key: String) -> Value? { values[key] }

    static func flatten(_ table: TOMLTable, prefix: String, into values: inout [String: Value]) {
        for (key, value) in table {
            let name = prefix + key
            switch value.type {
            case .int: values[name] = value.int.map { .integer(Int64($0)) } ?? .other("an integer")
            case .double: values[name] = value.double.map { .decimal($0) } ?? .other("a number")
            case .string: values[name] = .string(value.string ?? "")
            case .bool: values[name] = .boolean(value.bool ?? false)
            case .table: if let inner = value.table { flatten(inner, prefix: name + ".", into: &values) }
            case .array: values[name] = .other("an array")
            default: values[name] = .other("a date or time")
            }
        }
    }

    /// TOML's error, with the line a student wrote and what it should look like.
    static func explain(_ error: TOMLParseError, in text: String) -> SyntaxError {
        let number = max(1, error.source.begin.line)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = number <= lines.count ? String(lines[number - 1]) : ""
        if let equals = line.firstIndex(of: "=") {
            var value = String(line[line.index(after: equals)...])
            if let hash = value.firstIndex(of: "#") { value = String(value[..<hash]) }
            value = value.trimmingCharacters(in: " \t\r")
            if !value.isEmpty {
                return SyntaxError(line: number, problem: "\"\(value)\" is not a number, a \"string\" or true/false (write numbers as digits, 25 or 25.1; text in quotes) — TOML: \(error.description)")
            }
            return SyntaxError(line: number, problem: "nothing after the = (write a number, or \"\" to leave it unanswered)")
        }
        return SyntaxError(line: number, problem: "expected `key = value`, found \(line.trimmingCharacters(in: " \t\r").debugDescription) — TOML: \(error.description)")
    }
}

// MARK: Reading an answer

extension Answers {
    /// A number however it was written: 25, 25.107, 1_000, 0x1f, or any of those in quotes
    /// (a student copying "25.107" from a tool's output keeps the quotes of the template).
    public func number(_ key: String) -> Double? {
        switch values[key] {
        case .integer(let value)?: Double(value)
        case .decimal(let value)?: value.isFinite ? value : nil
        case .string(let text)?: Self.number(in: text)
        default: nil
        }
    }

    /// A whole number: as `number`, when it has no fraction (25.0 is 25).
    public func integer(_ key: String) -> Int64? {
        guard let value = number(key), value == value.rounded(), abs(value) < 9e18 else { return nil }
        return Int64(value)
    }

    /// A number asked for in hex (a checksum): 0x1fc5 or "0x1fc5", and "1fc5" or "1FC5" in
    /// quotes as hex too, since that is how the question asks for it; a bare integer as it is.
    public func hexInteger(_ key: String) -> Int64? {
        switch values[key] {
        case .integer(let value)?: return value
        case .string(let text)?:
            let t = text.lowercased().trimmingCharacters(in: " \t").replacingOccurrences(of: "_", with: "")
            if t.hasPrefix("0x") { return Int64(t.dropFirst(2), radix: 16) }
            return t.isEmpty ? nil : Int64(t, radix: 16)
        default: return nil
        }
    }

    /// Text, trimmed; nil when not answered (the template's "").
    public func text(_ key: String) -> String? {
        guard case .string(let value)? = values[key] else { return nil }
        let trimmed = value.trimmingCharacters(in: " \t")
        return trimmed.isEmpty ? nil : trimmed
    }

    public enum Expected { case number, wholeNumber, hex, text }

    /// The verdict for a key that gave no answer of the kind `expected`: not there, left as
    /// the template's "", or a value of the wrong type — with what to write instead.
    public func unanswered(_ question: String, _ key: String, expecting expected: Expected) -> CheckResult {
        let example: String = switch expected {
        case .number: "a number without quotes, e.g. \(key) = 25.1"
        case .wholeNumber: "a whole number without quotes, e.g. \(key) = 25"
        case .hex: "the value in hex, e.g. \(key) = \"0x1fc5\""
        case .text: "text in quotes, e.g. \(key) = \"SYN\""
        }
        switch values[key] {
        case nil:
            return .fail(question, "\(key) is not in the answers file", hint: "add the line \(key) = … (copy it from the template): \(example)")
        case .string(let text)? where text.trimmingCharacters(in: " \t").isEmpty:
            return .fail(question, "\(key) is not answered", hint: "fill in \(key): \(example)")
        case .decimal(let value)? where expected == .wholeNumber:
            return .fail(question, "\(key) = \(value) is not a whole number", hint: "this one is a count or a field of the packet, a whole number: write \(key) = \(Int64(value.rounded()))?")
        case let value?:
            return .fail(question, "\(key) = \(value) is not \(expected == .text ? "text" : "a number")", hint: "write \(example)")
        }
    }

    static func number(in text: String) -> Double? {
        let t = text.trimmingCharacters(in: " \t").replacingOccurrences(of: "_", with: "").lowercased()
        if t.hasPrefix("0x"), let value = Int64(t.dropFirst(2), radix: 16) { return Double(value) }
        if let value = Int64(t) { return Double(value) }
        if let value = Double(t), value.isFinite { return value }
        return nil
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
