#if canImport(Glibc)
import Glibc
#endif
import LabHost
import LabEngines
import PacketCapture
import SocketCore

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
    let server: ChildProcess
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
        let server: ChildProcess
        do {
            server = try ChildProcess(shell: command, log: log)
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
