/// ping's arithmetic, exactly as iputils does it (ping_common.c, 20221126): round-trip times
/// in whole microseconds, the mean and the deviation in integer arithmetic, loss with `%g`.
/// Matching it line for line lets a student put the two outputs side by side.
public struct PingStatistics: Sendable, Equatable {
    public var transmitted = 0
    public var received = 0
    public var duplicates = 0
    public var errors = 0
    /// Sum and sum of squares of the round-trip times (µs) of replies and duplicates.
    var timeSum: Int64 = 0
    var timeSquares: Int64 = 0
    public var minimum: Int64 = .max
    public var maximum: Int64 = 0
    /// From the first request to the end, in ms (iputils' "time").
    public var elapsedMilliseconds = 0

    public init() {}

    mutating func record(microseconds: Int64, duplicate: Bool) {
        if duplicate { duplicates += 1 } else { received += 1 }
        timeSum += microseconds
        timeSquares += microseconds * microseconds
        minimum = min(minimum, microseconds)
        maximum = max(maximum, microseconds)
    }

    /// Replies and duplicates: iputils averages over both.
    var timed: Int64 { Int64(received + duplicates) }
    public var average: Int64 { timed == 0 ? 0 : timeSum / timed }
    /// The mean deviation as iputils computes it: integer variance in µs², integer square root.
    public var deviation: Int64 {
        guard timed > 0 else { return 0 }
        let variance = timeSum < Int64(Int32.max)
            ? (timeSquares - (timeSum * timeSum) / timed) / timed
            : timeSquares / timed - average * average
        return Self.integerSquareRoot(max(0, variance))
    }

    public var lossPercent: Double {
        transmitted == 0 ? 0 : Double(transmitted - received) * 100.0 / Double(transmitted)
    }

    /// iputils' llsqrt: the integer square root by Newton's method.
    static func integerSquareRoot(_ value: Int64) -> Int64 {
        guard value > 0 else { return 0 }
        var x = value, previous: Int64 = 0
        while x != previous {
            previous = x
            x = (x + value / x) / 2
            if x > previous { return previous }
        }
        return x
    }

    /// The lines after `--- HOST ping statistics ---`.
    public func lines(host: String) -> [String] {
        var summary = "\(transmitted) packets transmitted, \(received) received"
        if duplicates > 0 { summary += ", +\(duplicates) duplicates" }
        if errors > 0 { summary += ", +\(errors) errors" }
        summary += ", \(Self.percent(lossPercent))% packet loss, time \(elapsedMilliseconds)ms"
        var lines = ["", "--- \(host) ping statistics ---", summary]
        if received + duplicates > 0 {
            func ms(_ microseconds: Int64) -> String {
                let fraction = String(microseconds % 1000)
                return "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
            }
            lines.append("rtt min/avg/max/mdev = \(ms(minimum))/\(ms(average))/\(ms(maximum))/\(ms(deviation)) ms")
        } else {
            lines.append("")  // iputils ends with an empty line when there is no rtt line
        }
        return lines
    }

    /// C's `%g`: six significant digits, no trailing zeros (33.3333, 0, 100).
    static func percent(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e6 { return String(Int(value)) }
        var text = significant6(value)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text
    }

    /// How iputils prints one round-trip time: 3 decimals under 1 ms, 2 under 10 ms, 1 under
    /// 100 ms, none above.
    public static func time(microseconds: Int64) -> String {
        if microseconds >= 100_000 - 50 { return "\((microseconds + 500) / 1000)" }
        let ms = Double(microseconds) / 1000
        if microseconds >= 10_000 - 5 { return fixed(ms, 1) }
        if microseconds >= 1000 { return fixed(ms, 2) }
        return fixed(ms, 3)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let units = Int64((value * Double(scale)).rounded())
        let fraction = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}

/// Six significant digits, as `%g` starts from.
func significant6(_ value: Double) -> String {
    let integerDigits = value < 1 ? 1 : String(Int(value.rounded(.down))).count
    return PingStatistics.fixed(value, max(0, 6 - integerDigits))
}
