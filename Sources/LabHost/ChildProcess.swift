#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Dispatch
import SocketCore
import Synchronization

/// A program this one starts: a student's server, a peer tool, `ip` or `nft`. Started with
/// posix_spawn() in its own process group, so that a program started through a shell, a
/// script or an interpreter is stopped whole; stopped with SIGTERM, then SIGKILL if it does
/// not go within 2 s. Every wait has a time bound: a hung program fails a check, it never
/// hangs the caller.
public final class ChildProcess {
    public let arguments: [String]
    public let pid: pid_t
    /// `SOCKETLAB_RUN=…` in the environment of a program run with an identity: everything it
    /// starts inherits it, so `stop()` finds what escaped its process group.
    public let marker: String?
    /// With `ProcessTree.becomeSubreaper()`: this process's orphans are the program's too.
    public var reapsOrphans = false
    private var orphanReaper: pid_t? { reapsOrphans ? getpid() : nil }
    /// Every program a ChildProcess started and has not reaped, in this process: the children
    /// of ours that are not orphans adopted from a student's server.
    static let unreaped = Mutex<Set<pid_t>>([])
    /// The other programs this process started, for `ProcessTree`.
    /// The other programs this process started, asked afresh at each look: one started by
    /// another thread a moment ago is ours, not an orphan to kill.
    private var others: @Sendable () -> Set<pid_t> {
        let pid = self.pid
        return { Self.unreaped.withLock { $0 }.subtracting([pid]) }
    }
    private var reaped = false
    private var status: Int32 = 0

    /// Who a program runs as, and with what environment.
    public struct Identity: Sendable, Equatable {
        public var uid: uid_t
        public var gid: gid_t
        /// The user's name and home, for the clean environment.
        public var name: String
        public var home: String

        public init(uid: uid_t, gid: gid_t, name: String, home: String) {
            self.uid = uid
            self.gid = gid
            self.name = name
            self.home = home
        }

        /// The user who ran `sudo` (SUDO_UID, SUDO_GID); nil when this process was not started
        /// through sudo.
        public static var invokingUser: Identity? {
            guard let uid = getenv("SUDO_UID").flatMap({ uid_t(String(cString: $0)) }),
                  let gid = getenv("SUDO_GID").flatMap({ gid_t(String(cString: $0)) }) else { return nil }
            return lookUp(uid: uid, gid: gid)
        }

        /// nobody (65534): for code run on behalf of nobody in particular.
        public static var nobody: Identity { lookUp(uid: 65_534, gid: 65_534) }

        static func lookUp(uid: uid_t, gid: gid_t) -> Identity {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: 4096)
            if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil {
                return Identity(uid: uid, gid: gid, name: String(cString: entry.pw_name), home: String(cString: entry.pw_dir))
            }
            return Identity(uid: uid, gid: gid, name: String(uid), home: "/")
        }

        /// A clean environment for this user: PATH, HOME, USER, LOGNAME, LANG; nothing of the
        /// caller's (root's variables, LD_PRELOAD, a PYTHONPATH) reaches the program.
        public var environment: [String] {
            ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=\(home)", "USER=\(name)", "LOGNAME=\(name)", "LANG=C.UTF-8"]
        }
    }

    /// Runs `arguments` (the program is looked up on PATH, then in /usr/sbin and /sbin, where
    /// `ip` and `nft` live). Standard output and error go to `output` (a descriptor this call
    /// does not close; nil: /dev/null), standard input comes from `standardInput` (nil:
    /// /dev/null). `session`: a session of its own (setsid), so that Ctrl-C on the terminal does
    /// not reach it; otherwise a process group of its own. `identity`: run as that user, with
    /// that user's clean environment.
    public init(_ arguments: [String], output: Int32? = nil, session: Bool = false, standardInput: Int32? = nil,
                identity: Identity? = nil) throws(HostError) {
        self.arguments = arguments
        let marker = identity.map { _ in "SOCKETLAB_RUN=\(getpid())-\(UInt64.random(in: 1...UInt64.max))" }
        self.marker = marker
        pid = try Self.spawn(arguments, input: standardInput, output: output, errors: output, session: session,
                             identity: identity, extraEnvironment: marker.map { [$0] } ?? [])
    }

    /// Runs `arguments` with its three standard descriptors given one by one (nil: /dev/null),
    /// in a process group of its own: a child that talks to its parent over its standard input
    /// and output (a pipe, a socketpair) and reports on its standard error.
    public init(_ arguments: [String], standardInput: Int32?, standardOutput: Int32?, standardError: Int32?) throws(HostError) {
        self.arguments = arguments
        marker = nil
        pid = try Self.spawn(arguments, input: standardInput, output: standardOutput, errors: standardError, session: false, identity: nil)
    }

    /// A shell command (`/bin/sh -c COMMAND`), as a student types it.
    public convenience init(shell command: String, output: Int32? = nil, identity: Identity? = nil) throws(HostError) {
        try self.init(["/bin/sh", "-c", command], output: output, session: true, identity: identity)
    }

    /// Makes SIGINT and SIGTERM end this process only after killing the process group of every
    /// program it started and has not reaped: a server that runs commands for others (remote
    /// serve) leaves none of them running behind it. The handler runs on a dispatch queue,
    /// not in signal context, so it may take the lock.
    public static func killChildrenOnSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                for pid in unreaped.withLock({ $0 }) { kill(-pid, SIGKILL) }
                exit(128 + number)
            }
            source.resume()
            signalSources.append(source)  // called once, at start-up, before any thread
        }
    }

    /// Kept alive for as long as the process runs.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// Whether the process is still running (it has not exited or crashed).
    public var isRunning: Bool {
        if reaped { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid { markReaped(raw) }
        return result == 0
    }

    /// Whether it, or anything it started, still runs: a shell that ran `server &` has
    /// exited, but its server has not.
    public var isRunningOrLeftBehind: Bool {
        isRunning || ((marker != nil || reapsOrphans) && !ProcessTree.leftBehind(by: pid, marker: marker, includeChildrenOf: orphanReaper, ours: others).isEmpty)
    }

    /// Waits until something accepts connections on `address`, at most `timeout`.
    public func waitUntilListening(_ address: SocketAddress, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !isRunningOrLeftBehind { return false }
            if let socket = try? Socket.connected(to: address, timeout: .milliseconds(200)) {
                try? socket.close()
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after `grace`; then everything the
    /// program left behind outside its group (see `ProcessTree`). Returns how many processes
    /// had escaped the group and were killed.
    @discardableResult
    public func stop(grace: Duration = .seconds(2)) -> Int {
        if isRunning {
            kill(-pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline && isRunning { usleep(20_000) }
            if isRunning {
                kill(-pid, SIGKILL)
                var raw: Int32 = 0
                if waitpid(pid, &raw, 0) == pid { markReaped(raw) }
            }
        }
        guard marker != nil || reapsOrphans else { return 0 }
        return ProcessTree.killAll(leftBy: pid, marker: marker, includeChildrenOf: orphanReaper, ours: others)
    }

    private func markReaped(_ raw: Int32) {
        reaped = true
        status = raw
        Self.unreaped.withLock { _ = $0.remove(pid) }
    }

    /// How it ended, once it has: `exited(N)` or `signalled(N)`; nil while it runs.
    public var exitStatus: Termination? {
        guard !isRunning else { return nil }
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }

    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
    }

    deinit { _ = stop() }

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
            pid = try spawn(arguments, input: nil, output: fds[1], errors: separateErrors ? nil : fds[1], session: false, identity: nil)
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
        unreaped.withLock { _ = $0.remove(pid) }
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

    private static func spawn(_ arguments: [String], input: Int32?, output: Int32?, errors: Int32?, session: Bool,
                              identity: Identity?, extraEnvironment: [String] = []) throws(HostError) -> pid_t {
        guard let program = arguments.first, let path = locate(program) else {
            throw .spawnFailed(program: arguments.first ?? "(nothing)", errno: .ENOENT)
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = identity.map { ($0.environment + extraEnvironment).map { strdup($0) } + [nil] }
        defer { environment?.forEach { free($0) } }
        // Spawned and registered under the lock: a `ProcessTree` look from another thread
        // that finds the new process in /proc then finds it among ours too, and never takes
        // it for an orphan of a student's server.
        let pid = unreaped.withLock { ours in
            let pid = path.withCString { path in
                argv.withUnsafeBufferPointer { argv in
                    if let environment {
                        return environment.withUnsafeBufferPointer { envp in
                            socketlab_spawn(path, argv.baseAddress, envp.baseAddress, Int32(bitPattern: identity!.uid), Int32(bitPattern: identity!.gid),
                                            input ?? -1, output ?? -1, errors ?? -1, session ? 1 : 0)
                        }
                    }
                    return socketlab_spawn(path, argv.baseAddress, nil, -1, -1, input ?? -1, output ?? -1, errors ?? -1, session ? 1 : 0)
                }
            }
            if pid > 0 { ours.insert(pid) }
            return pid
        }
        guard pid > 0 else { throw .spawnFailed(program: program, errno: Errno(rawValue: -pid)) }
        return pid
    }
}
