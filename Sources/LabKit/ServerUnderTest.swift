#if canImport(Glibc)
import Glibc
#endif
import SocketCore

/// A student's server, started from a shell command in its own process group (so that a
/// server started through a script or an interpreter is stopped whole) and stopped with
/// SIGTERM, then SIGKILL if it does not go within 2 s. Every wait has a time bound: a hung
/// server fails a check, it never hangs labcheck.
public final class ServerUnderTest {
    public let command: String
    public let pid: pid_t

    /// `log`: where the server's standard output and error go (its own prints would
    /// otherwise mix with the report).
    public init(command: String, log: String = "/dev/null") throws(SocketError) {
        self.command = command
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var child: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let status = posix_spawn(&child, "/bin/sh", &actions, &attributes, argv, environ)
        guard status == 0 else { throw SocketError.system(call: "posix_spawn(/bin/sh -c …)", errno: Errno(rawValue: status), address: nil) }
        pid = child
    }

    /// Whether the process is still running (it has not exited or crashed).
    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
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

    public func stop() {
        guard isRunning else { return }
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            if !isRunning { return }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    deinit { stop() }
}
