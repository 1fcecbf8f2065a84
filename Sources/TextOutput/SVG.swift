/// What every picture a tool draws (ipc-compare's bars, the inspector's ladder and graphs)
/// writes its SVG and HTML with: XML's escaping, numbers with a fixed count of decimals (no
/// exponent an SVG reader might choke on), and "nice" axis ticks.
public enum SVG {
    /// XML's five, for text and attribute values alike.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate: one decimal, as much as a screen shows.
    public static func x(_ value: Double) -> String { JSON.fixed(value, places: 1) }

    /// Axis ticks from 0 (or `low`) to `high`: 1, 2 or 5 times a power of ten, about `count` of them.
    public static func ticks(low: Double = 0, high: Double, count: Int = 6) -> [Double] {
        guard high > low, high.isFinite, low.isFinite else { return [low] }
        let raw = (high - low) / Double(max(1, count))
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * power }.first { $0 >= raw } ?? power * 10
        var ticks: [Double] = []
        var value = (low / step).rounded(.up) * step
        while value <= high + step * 1e-9, ticks.count < 100 {
            ticks.append(value)
            value += step
        }
        return ticks
    }

    /// A tick's label: as few decimals as the step needs.
    public static func tickLabel(_ value: Double, step: Double) -> String {
        var places = 0
        var scaled = step
        while scaled < 1, places < 9 {
            scaled *= 10
            places += 1
        }
        return JSON.fixed(value, places: places)
    }
}
