#if canImport(Glibc)
import Glibc
#endif
import LabHost
import LabEngines
import PacketCapture
import Packets
import SocketCore

/// What a server lab runs: the student's command and port, who it runs as, and where the
/// capture and the server's own output go (`labcheck-NN.pcap`, `labcheck-NN-server.log`, or
/// the next free name: an existing file is never replaced, a symbolic link never followed).
public struct ServerLabOptions: Sendable {
    public var command: String
    public var port: UInt16
    public var capturePath: String
    public var logPath: String
    /// Who the student's server runs as. labcheck is root only for its capture (the handouts
    /// say `sudo labcheck 05 …`); the student's code runs as the student who typed sudo, with
    /// a clean environment, in a session of its own.
    public var runAs: RunAs = .invokingUser
    /// Lab 12: the login the student's proxy was started with, `USER:PASS` (nil: none).
    public var login: String?

    public enum RunAs: Sendable, Equatable {
        /// SUDO_UID/SUDO_GID; without sudo, root's code runs as nobody, and anyone else's as
        /// themselves.
        case invokingUser
        /// As this process runs (root, when asked for by `--as-root`).
        case thisProcess
    }

    public init(command: String, port: UInt16, lab: String) {
        self.command = command
        self.port = port
        capturePath = "labcheck-\(lab).pcap"
        logPath = "labcheck-\(lab)-server.log"
    }

    /// The identity the server gets, and a sentence for the report.
    var identity: (ChildProcess.Identity?, String) {
        switch runAs {
        case .thisProcess:
            return (nil, geteuid() == 0 ? "as root (--as-root)" : "as you")
        case .invokingUser:
            if let user = ChildProcess.Identity.invokingUser { return (user, "as \(user.name), who ran sudo") }
            if geteuid() == 0 { return (.nobody, "as nobody: labcheck runs as root without sudo, and a student's code never runs as root unless --as-root says so") }
            return (nil, "as you")
        }
    }
}

/// A server lab's start: the student's command running, listening on the port, and a
/// capture of its traffic if the privilege allows. The failure is the first check's verdict.
struct LabServer {
    let server: ChildProcess
    let log: OutputLog
    let recorder: CaptureRecorder?
    let address: SocketAddress

    /// Starts the server of `options` and runs `checks` against it; stops the server (and
    /// everything it started, the capture too) afterwards. A server that does not start is the
    /// one verdict; one that dies during the checks gets the last lines of its log in the report.
    static func run(_ options: ServerLabOptions, say: (String) -> Void, checks: (LabServer) -> [CheckResult]) -> [CheckResult] {
        // Whatever the student's server forks off becomes ours when its parent goes, so that
        // stopping it finds everything (`cmd &`, setsid, a double fork).
        ProcessTree.becomeSubreaper()
        let lab: LabServer
        switch start(options, say: say) {
        case .success(let started): lab = started
        case .failure(let failure): return [failure.result]
        }
        var results = checks(lab)
        lab.recorder?.stop()
        let crashed = lab.server.isRunningOrLeftBehind ? nil : lab.server.exitStatus
        let escaped = lab.server.stop()
        lab.log.finish()
        if let crashed {
            let lines = lab.log.tail(8)
            var where_ = ""
            if let recorder = lab.recorder,
               let last = lastAccepted(recorder.frames(from: 0), linkType: recorder.linkType, port: options.port) {
                where_ = "; the last connection it accepted is stream \(last.stream) of \(recorder.capture.writtenTo ?? options.capturePath) (tshark -Y 'tcp.stream == \(last.stream)', its SYN-ACK is frame \(last.frame))"
            }
            say("labcheck: your server ended during the checks (\(describe(crashed)))\(where_); its output is in \(lab.log.path)"
                + (lines.isEmpty ? "" : ", ending:\n" + lines.map { "      | " + $0 }.joined(separator: "\n")))
        }
        if escaped > 0 { say("labcheck: stopped \(escaped) process\(escaped == 1 ? "" : "es") your server left running outside its process group") }
        if stillListening(options.port) {
            results.append(.fail("port free afterwards", "something still accepts connections on port \(options.port) after labcheck stopped your server",
                                 hint: "a server that puts itself in the background (a trailing &, setsid, daemon()) escapes the command labcheck ran; run it in the foreground"))
        }
        say("labcheck: your server ran \(options.identity.1); its output is in \(lab.log.path)"
            + (lab.recorder.map { " and the capture in \($0.capture.writtenTo ?? options.capturePath)" } ?? ""))
        return results
    }

    /// The stream (numbered as tshark's tcp.stream: by first appearance of each connection)
    /// of the last connection the server answered with SYN-ACK, and that frame.
    static func lastAccepted(_ frames: [CapturedFrame], linkType: LinkType, port: UInt16) -> (stream: Int, frame: Int)? {
        var streams: [String: Int] = [:]
        var last: (Int, Int)?
        for frame in frames {
            let packet = frame.decode(linkType)
            guard let tcp = packet.tcp, let source = packet.sourceAddress, let destination = packet.destinationAddress else { continue }
            let ends = ["\(source):\(tcp.sourcePort)", "\(destination):\(tcp.destinationPort)"].sorted()
            let key = ends.joined(separator: "-")
            // A new SYN on a 4-tuple seen before is a new stream too (tshark does the same).
            if tcp.flags.contains(.syn) && !tcp.flags.contains(.ack) && streams[key] != nil && tcp.destinationPort == port {
                streams[key] = nil
            }
            let stream = streams[key] ?? {
                let next = streams.count == 0 ? 0 : (streams.values.max() ?? -1) + 1
                streams[key] = next
                return next
            }()
            if tcp.sourcePort == port && tcp.flags.contains(.syn) && tcp.flags.contains(.ack) { last = (stream, frame.number) }
        }
        return last.map { (stream: $0.0, frame: $0.1) }
    }

    static func describe(_ end: ChildProcess.Termination) -> String {
        switch end {
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "killed by signal \(signal)" + (signal == SIGSEGV ? " (SIGSEGV, a crash)" : signal == SIGPIPE ? " (SIGPIPE: it wrote to a closed connection)" : "")
        }
    }

    /// Whether anything accepts connections on the port now.
    static func stillListening(_ port: UInt16) -> Bool {
        guard let socket = try? Socket.connected(to: .ipv4(.loopback, port), timeout: .milliseconds(300)) else { return false }
        try? socket.close()
        return true
    }

    static func start(_ options: ServerLabOptions, say: (String) -> Void) -> Result<LabServer, CheckResult.Failure> {
        let address = SocketAddress.ipv4(.loopback, options.port)
        if stillListening(options.port) {
            return .failure(.init(.fail("start", "something already listens on 127.0.0.1:\(options.port), before your server started",
                                        hint: "stop whatever holds the port (ss -ltnp 'sport = :\(options.port)' shows it), or choose another --port")))
        }
        let log: OutputLog
        do {
            log = try OutputLog(path: options.logPath)
        } catch {
            return .failure(.init(.fail("start", "\(error)", hint: "run labcheck in a folder you can write to: it keeps your server's output and the capture there")))
        }
        let (identity, who) = options.identity
        let server: ChildProcess
        do {
            server = try ChildProcess(shell: options.command, output: log.writeDescriptor, identity: identity)
            server.reapsOrphans = true
            log.childStarted()
        } catch {
            log.childStarted()
            return .failure(.init(.fail("start", "could not run \(options.command.debugDescription): \(error)",
                                        hint: "the command runs as /bin/sh -c \"…\"; try it in a terminal first")))
        }
        guard server.waitUntilListening(address, timeout: .seconds(10)) else {
            let ended = server.isRunningOrLeftBehind ? nil : server.exitStatus
            // Before stopping it: which port did it listen on, if any?
            let otherPorts = KernelTCPTable.listeningPorts(of: [server.pid] + ProcessTree.leftBehind(by: server.pid, marker: server.marker))
            server.stop()
            log.finish()
            let lines = log.tail(5)
            let evidence = lines.isEmpty ? "" : "; its last lines: " + lines.joined(separator: " / ")
            if let ended {
                return .failure(.init(.fail("start", "your server ended (\(describe(ended))) before accepting connections on 127.0.0.1:\(options.port); it ran \(who), its output is in \(log.path)\(evidence)",
                                            hint: identity == nil ? "run the command yourself and read its error"
                                                : "run the command yourself; if it cannot read its files as \(identity!.name), pass --as-root")))
            }
            if !otherPorts.isEmpty {
                let list = otherPorts.map { "\($0)" }.joined(separator: ", ")
                return .failure(.init(.fail("start", "nothing listens on port \(options.port): your server listens on port\(otherPorts.count == 1 ? "" : "s") \(list) instead (it was still running; labcheck stopped it); its output is in \(log.path)",
                                            hint: "give your server the port labcheck was told (--port \(options.port)), or tell labcheck the port your server uses: --port \(otherPorts[0])")))
            }
            return .failure(.init(.fail("start", "nothing listens on port \(options.port) after 10 s: your server was still running, listening on no TCP port (labcheck stopped it); its output is in \(log.path)\(evidence)",
                                        hint: "the server must call listen() on port \(options.port) (127.0.0.1 or 0.0.0.0) soon after it starts: is it waiting for something first? try: nc 127.0.0.1 \(options.port)")))
        }
        var captureOptions = LiveCapture.Options()
        captureOptions.filter = "tcp port \(options.port)"
        captureOptions.writeTo = options.capturePath
        captureOptions.writeMode = .fresh
        // Batches, not immediate mode: many small segments fit the ring (see LiveCapture).
        captureOptions.immediate = false
        captureOptions.batchTimeout = 50
        let recorder: CaptureRecorder?
        do {
            recorder = try CaptureRecorder(captureOptions)
        } catch {
            recorder = nil
            if case .unwritableFile = error {
                say("labcheck: no capture: \(error)")
            } else {
                say("labcheck: no capture (needs root or CAP_NET_RAW); the checks that read it are skipped")
            }
        }
        return .success(LabServer(server: server, log: log, recorder: recorder, address: address))
    }
}
