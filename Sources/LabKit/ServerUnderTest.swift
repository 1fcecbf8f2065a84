#if canImport(Glibc)
import Glibc
#endif
import Capture
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

/// What a server lab runs: the student's command and port, and where the capture and the
/// server's own output go (`labcheck-NN.pcap`, `labcheck-NN-server.log`).
public struct ServerLabOptions: Sendable {
    public var command: String
    public var port: UInt16
    public var capturePath: String
    public var logPath: String

    public init(command: String, port: UInt16, lab: String) {
        self.command = command
        self.port = port
        capturePath = "labcheck-\(lab).pcap"
        logPath = "labcheck-\(lab)-server.log"
    }
}

/// A server lab's start: the student's command running, listening on the port, and a
/// capture of its traffic if the privilege allows. The failure is the first check's verdict.
struct LabServer {
    let server: ServerUnderTest
    let recorder: CaptureRecorder?
    let address: SocketAddress

    /// Starts the server of `options` and runs `checks` against it; stops the server (and the
    /// capture, if the checks left it running) afterwards. A server that does not start is the
    /// one verdict.
    static func run(_ options: ServerLabOptions, say: (String) -> Void, checks: (LabServer) -> [CheckResult]) -> [CheckResult] {
        let lab: LabServer
        switch start(command: options.command, port: options.port, log: options.logPath, capture: options.capturePath) {
        case .success(let started): lab = started
        case .failure(let failure): return [failure.result]
        }
        defer {
            lab.recorder?.stop()
            lab.server.stop()
        }
        if lab.recorder == nil { say("labcheck: no capture (needs root or CAP_NET_RAW); the checks that read it are skipped") }
        return checks(lab)
    }

    static func start(command: String, port: UInt16, log: String, capture: String) -> Result<LabServer, CheckResult.Failure> {
        // The capture file is this run's: an older one must not be pointed to when the server
        // never starts and nothing is captured.
        unlink(capture)
        let address = SocketAddress.ipv4(.loopback, port)
        let server: ServerUnderTest
        do {
            server = try ServerUnderTest(command: command, log: log)
        } catch {
            return .failure(.init(.fail("start", "could not run \(command.debugDescription): \(error)",
                                        hint: "the command runs as /bin/sh -c \"…\"; try it in a terminal first")))
        }
        guard server.waitUntilListening(address, timeout: .seconds(10)) else {
            server.stop()
            return .failure(.init(.fail("start", "nothing accepted connections on 127.0.0.1:\(port) within 10 s"
                                            + (server.isRunning ? "" : "; the server exited (its output is in \(log))"),
                                        hint: "the server must listen on port \(port) (127.0.0.1 or 0.0.0.0); run the command yourself and try: nc 127.0.0.1 \(port)")))
        }
        var options = LiveCapture.Options()
        options.filter = "tcp port \(port)"
        options.writeTo = capture
        // Batches, not immediate mode: many small segments fit the ring (see LiveCapture).
        options.immediate = false
        options.batchTimeout = 50
        return .success(LabServer(server: server, recorder: try? CaptureRecorder(options), address: address))
    }
}
