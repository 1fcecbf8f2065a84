#if canImport(Glibc)
import Glibc
#endif
import CLinux
import SocketCore

/// A program this one starts: a student's server, a peer tool, `ip` or `nft`. Started with
/// posix_spawn() in its own process group, so that a program started through a shell, a
/// script or an interpreter is stopped whole; stopped with SIGTERM, then SIGKILL if it does
/// not go within 2 s. Every wait has a time bound: a hung program fails a check, it never
/// hangs the caller.
public final class ChildProcess {
    public let arguments: [String]
    public let pid: pid_t
    /// Where its standard output and error go.
    public let log: String
    private var reaped = false
    private var status: Int32 = 0

    /// Runs `arguments` (the program is looked up on PATH, then in /usr/sbin and /sbin, where
    /// `ip` and `nft` live). `log`: where standard output and error go (a program's own
    /// prints would otherwise mix with the report). `session`: a session of its own (setsid),
    /// so that Ctrl-C on the terminal does not reach it; otherwise a process group of its own.
    public init(_ arguments: [String], log: String = "/dev/null", session: Bool = false,
                standardInput: Int32? = nil) throws(HostError) {
        self.arguments = arguments
        self.log = log
        pid = try Self.spawn(arguments, session: session) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            if let standardInput { posix_spawn_file_actions_adddup2(&actions, standardInput, 0) }
        }
    }

    /// A shell command (`/bin/sh -c COMMAND`), as a student types it.
    public convenience init(shell command: String, log: String = "/dev/null") throws(HostError) {
        try self.init(["/bin/sh", "-c", command], log: log)
    }

    /// Whether the process is still running (it has not exited or crashed).
    public var isRunning: Bool {
        if reaped { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid { reaped = true; status = raw }
        return result == 0
    }

    /// Waits until something accepts connections on `address`, at most `timeout`.
    public func waitUntilListening(_ address: SocketAddress, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !isRunning { return false }
            if let socket = try? Socket.connected(to: address, timeout: .milliseconds(200)) {
                try? socket.close()
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// What the program has written so far (its log file; empty for /dev/null).
    public var output: String {
        guard log != "/dev/null", let file = fopen(log, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < 16 << 20 {
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if got <= 0 { break }
            bytes += chunk[..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits until the program has written `marker` (tcpdump's "listening on"), at most
    /// `timeout`; false if it exits or the time passes first.
    public func waitForOutput(_ marker: String, timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(marker) { return true }
            if !isRunning { return output.contains(marker) }
            usleep(20_000)
        }
        return false
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(2)) {
        guard isRunning else { return }
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !isRunning { return }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        var raw: Int32 = 0
        if waitpid(pid, &raw, 0) == pid { reaped = true; status = raw }
    }

    deinit { stop() }

    /// Runs `arguments` to the end and returns its exit status and output (standard error
    /// merged in unless `separateErrors`, when it is dropped: tshark warns about root there).
    /// Output beyond `limit` bytes is read and dropped, so a chatty program cannot exhaust
    /// memory or block on a full pipe.
    @discardableResult
    public static func run(_ arguments: [String], separateErrors: Bool = false, limit: Int = 64 << 20) throws(HostError) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        guard socketlab_pipe_cloexec(&fds) == 0 else { throw .spawnFailed(program: arguments.first ?? "", errno: .current) }
        let pid: pid_t
        do {
            pid = try spawn(arguments, session: false) { actions in
                posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
                if separateErrors {
                    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                } else {
                    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
                }
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            if output.count < limit { output += chunk[..<min(got, limit - output.count)] }
        }
        close(fds[0])
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let status: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return (status, String(decoding: output, as: UTF8.self))
    }

    /// Where a program is: an absolute path as given, else the first match on PATH, then in
    /// /usr/sbin, /sbin (not on a student's PATH, but where iproute2 and nftables install).
    public static func locate(_ program: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(folder)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func spawn(_ arguments: [String], session: Bool,
                              files: (inout posix_spawn_file_actions_t) -> Void) throws(HostError) -> pid_t {
        guard let program = arguments.first, let path = locate(program) else {
            throw .spawnFailed(program: arguments.first ?? "(nothing)", errno: .ENOENT)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The parent may ignore or block signals (a server ignores SIGPIPE, a test runner
        // blocks SIGTERM); the child starts with the defaults and nothing blocked, so that it
        // can be stopped and behaves as it would from a shell.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var flags = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if session {
            flags |= socketlab_posix_spawn_setsid()
        } else {
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, flags)
        var child: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let status = posix_spawn(&child, path, &actions, &attributes, argv, Glibc.environ)
        guard status == 0 else { throw .spawnFailed(program: program, errno: Errno(rawValue: status)) }
        return child
    }
}
