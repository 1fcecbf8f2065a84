import ArgumentParser

/// Every numeric option has a range, checked while the options are parsed, with a message
/// that gives it: a number outside it (or NaN, or infinity, which Swift's conversions trap on
/// further in) is bad usage, exit 2, never a crash.
public enum OptionRange {
    public static func check<T: BinaryInteger>(_ value: T, _ range: ClosedRange<T>, _ option: String, unit: String = "") throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be from \(range.lowerBound) to \(range.upperBound)\(unit.isEmpty ? "" : " " + unit), not \(value)")
        }
    }

    public static func check(_ value: Double, _ range: ClosedRange<Double>, _ option: String, unit: String = "") throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be a number from \(format(range.lowerBound)) to \(format(range.upperBound))\(unit.isEmpty ? "" : " " + unit), not \(value)")
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
