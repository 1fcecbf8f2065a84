#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The terminal in raw mode — each key reaches the program as it is pressed, not when Enter
/// is — and always put back: at exit, on Ctrl-C, SIGTERM or SIGHUP, and on a crash. termios
/// settings outlive the process that set them, so a program that dies in raw mode leaves the
/// student's shell unusable; this is why the restore is wired to every way out.
public enum RawTerminal {
    /// The settings found at start, restored by every exit path (a C global: the signal
    /// handlers may read nothing else).
    nonisolated(unsafe) private static var saved = termios()
    private static let active = Atomic(false)

    /// Whether standard input is a terminal at all.
    public static var isTerminal: Bool { isatty(0) == 1 }

    /// `tcgetattr(0)`, then `tcsetattr(0, TCSANOW)` without ICANON and ECHO: keys one by one,
    /// not shown by the terminal (the program shows them, in its own colour). ISIG stays on,
    /// so Ctrl-C is a SIGINT, which restores and exits.
    public static func enter() -> Bool {
        guard isTerminal, tcgetattr(0, &saved) == 0 else { return false }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(0, TCSANOW, &raw) == 0 else { return false }
        active.store(true, ordering: .releasing)
        atexit { RawTerminal.restore() }
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL] {
            signal(number) { number in
                RawTerminal.restore()
                // A fault re-raises with the default action (a core, the right status); the
                // others end as a shell expects (128 + the signal).
                signal(number, SIG_DFL)
                raise(number)
            }
        }
        return true
    }

    /// `tcsetattr(0, TCSANOW, saved)`: async-signal-safe, and harmless when called twice.
    public static func restore() {
        guard active.exchange(false, ordering: .acquiringAndReleasing) else { return }
        tcsetattr(0, TCSANOW, &saved)
    }
}
