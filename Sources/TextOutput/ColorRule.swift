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
