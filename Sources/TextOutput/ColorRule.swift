#if canImport(Glibc)
import Glibc
#endif

/// The one rule for colour, in every tool: colour only when the output is a terminal
/// (isatty), `NO_COLOR` is not set (no-color.org), `TERM` is set and not `dumb`, and the user
/// did not pass `--no-color`. A projector, a pipe, a log file and an autograder all get
/// plain text without asking for it.
public enum ColorRule {
    public static func enabled(noColorFlag: Bool, descriptor: Int32 = 1) -> Bool {
        enabled(noColorFlag: noColorFlag, isTerminal: isatty(descriptor) == 1,
                environment: { name in getenv(name).map { String(cString: $0) } })
    }

    /// The rule itself, apart from the process: what the tests check.
    public static func enabled(noColorFlag: Bool, isTerminal: Bool, environment: (String) -> String?) -> Bool {
        guard !noColorFlag, isTerminal else { return false }
        if let noColor = environment("NO_COLOR"), !noColor.isEmpty { return false }
        guard let term = environment("TERM"), !term.isEmpty, term != "dumb" else { return false }
        return true
    }
}

/// The width of the terminal standard output goes to (TIOCGWINSZ, else $COLUMNS), or nil for
/// a pipe or a file: a note is wrapped for a person at a terminal or a projector, and kept on
/// one line for a program (grep, an autograder) reading it.
public enum TerminalWidth {
    public static func current(descriptor: Int32 = 1) -> Int? {
        guard isatty(descriptor) == 1 else { return nil }
        var size = winsize()
        if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 0 { return columns }
        return 80
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a word longer than a
    /// line stays whole); each line after the first starts with `indent` (a hanging indent).
    public static func wrap(_ text: String, width: Int, indent: String = "") -> [String] {
        let room = max(20, width)
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let prefix = lines.isEmpty ? "" : indent
            if current.isEmpty {
                current = String(word)
            } else if prefix.count + current.count + 1 + word.count <= room {
                current += " " + word
            } else {
                lines.append(prefix + current)
                current = String(word)
            }
        }
        lines.append((lines.isEmpty ? "" : indent) + current)
        return lines
    }
}
