import Dispatch
import Foundation
import LabHost
import Packets
import SocketCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One client of the remote service, on its own thread: the challenge, the proof, the command,
/// then the relay — the program's output as frames, the client's frames as its input — and the
/// exit status. Whatever happens, the program's process group is gone when this returns.
final class RemoteSession {
    let server: RemoteServer
    let client: Socket
    let peer: SocketAddress
    let id: Int

    init(server: RemoteServer, client: Socket, peer: SocketAddress, id: Int) {
        self.server = server
        self.client = client
        self.peer = peer
        self.id = id
    }

    func serve() {
        defer { try? client.close() }
        do {
            try client.set(.receiveTimeout, server.configuration.handshakeTimeout)
            var reader = FrameReader(client)
            var random = SystemRandomNumberGenerator()
            let challenge = (0..<RemoteFrame.challengeLength).map { _ in UInt8.random(in: 0...255, using: &random) }
            try client.send(.hello(challenge: challenge))
            guard let proof = try reader.next(), proof.channel == .proof, server.configuration.token.accepts(proof.payload, for: challenge) else {
                let delay = server.delayAfterFailure(from: peer)
                server.log("\(peer): refused, wrong token (answered after \(delay))")
                Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                try? client.send(.error("authentication failed: the proof does not match this server's token"))
                return
            }
            server.forgetFailures(of: peer)
            try client.send(RemoteFrame(.welcome))
            guard let request = try reader.next(), let command = request.command else {
                try? client.send(.error("expected a command (a run frame with the program and its arguments)"))
                server.log("\(peer): no command")
                return
            }
            try client.set(.receiveTimeout, .zero)
            run(command.arguments, timeout: command.timeout, reader: reader)
        } catch {
            server.log("\(peer): \(error)")
        }
    }

    /// Starts the program and relays until it has ended and its output is drained.
    func run(_ arguments: [String], timeout requested: UInt32, reader: FrameReader) {
        let started = ContinuousClock.now
        let seconds = requested == 0 ? server.configuration.maxSeconds : min(requested, server.configuration.maxSeconds)
        let program = arguments[0]
        let line = arguments.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
        func finish(_ ending: RemoteFrame.Ending, output: Int = 0, errors: Int = 0) {
            try? client.send(.exit(ending))
            server.log("\(peer) run \(line): \(Self.describe(ending)) in \(secondsText(since: started)), \(output) bytes out, \(errors) bytes err")
        }
        guard server.allows(program) else { return finish(.notStarted(code: 126, reason: "\(program) is not allowed here (the server's --allow list)")) }
        guard ChildProcess.locate(program) != nil else { return finish(.notStarted(code: 127, reason: "no such program: \(program)")) }
        let pipes: (input: (reading: PipeEnd, writing: PipeEnd), output: (reading: PipeEnd, writing: PipeEnd), errors: (reading: PipeEnd, writing: PipeEnd))
        let child: ChildProcess
        do {
            pipes = (try PipeEnd.makePipe(), try PipeEnd.makePipe(), try PipeEnd.makePipe())
            child = try ChildProcess(arguments, standardInput: pipes.input.reading.descriptor, standardOutput: pipes.output.writing.descriptor,
                                     standardError: pipes.errors.writing.descriptor)
        } catch {
            return finish(.notStarted(code: 126, reason: "\(program) could not be started: \(error)"))
        }
        try? pipes.input.reading.close()
        try? pipes.output.writing.close()
        try? pipes.errors.writing.close()
        defer { child.stop(grace: .milliseconds(500)) }

        // The client's frames, on a thread of their own: stdin to the program; the connection
        // ending first means the client has gone, and the program goes too.
        let clientGone = Atomic(false)
        let readerDone = DispatchSemaphore(value: 0)
        let stdin = pipes.input.writing
        let pid = child.pid
        let socket = client
        Thread.detachNewThread { [reader] in
            var reader = reader
            var open = true
            while true {
                guard let frame = try? reader.next() else {
                    clientGone.store(true, ordering: .releasing)
                    kill(-pid, SIGKILL)
                    break
                }
                if frame.channel == .stdin && open {
                    if frame.payload.isEmpty {
                        try? stdin.close()
                        open = false
                    } else if !Self.writeAll(frame.payload, to: stdin) {
                        open = false  // the program stopped reading its input: the rest is dropped
                        try? stdin.close()
                    }
                }
            }
            try? stdin.close()
            _ = socket
            readerDone.signal()
        }

        // The program's output, as it comes, in the order it was written on each channel.
        try? pipes.output.reading.setNonBlocking(true)
        try? pipes.errors.reading.setNonBlocking(true)
        var outputs: [(PipeEnd, RemoteFrame.Channel)] = [(pipes.output.reading, .stdout), (pipes.errors.reading, .stderr)]
        var counts: [RemoteFrame.Channel: Int] = [.stdout: 0, .stderr: 0]
        let deadline = ContinuousClock.now + .seconds(Int64(seconds))
        var exitedAt: ContinuousClock.Instant?
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !outputs.isEmpty {
            var poller = Poller()
            for (end, _) in outputs { poller.watch(descriptor: end.descriptor, for: .readable) }
            _ = try? poller.wait(timeout: .milliseconds(100))
            for (index, (end, channel)) in outputs.enumerated().reversed() {
                let got = (try? buffer.withUnsafeMutableBytes { try end.read(into: $0) }) ?? -1
                if got > 0 {
                    counts[channel, default: 0] += got
                    if (try? client.send(RemoteFrame(channel, Array(buffer[..<got])))) == nil {
                        clientGone.store(true, ordering: .releasing)
                    }
                } else if got == 0 {
                    outputs.remove(at: index)
                }
            }
            if clientGone.load(ordering: .acquiring) { kill(-pid, SIGKILL) }
            let now = ContinuousClock.now
            if now >= deadline && !timedOut {
                timedOut = true
                kill(-pid, SIGTERM)
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) { kill(-pid, SIGKILL) }
            }
            // The program has exited but something it started holds its output open: give it
            // a second, then end the group.
            if exitedAt == nil && !child.isRunning { exitedAt = now }
            if let exitedAt, now - exitedAt > .seconds(1) { kill(-pid, SIGKILL) }
            if let exitedAt, now - exitedAt > .seconds(3) { break }
        }
        while child.isRunning && ContinuousClock.now < deadline + .seconds(3) { usleep(2000) }
        let ending: RemoteFrame.Ending
        if timedOut {
            ending = .timedOut(seconds: Int32(seconds))
        } else {
            switch child.exitStatus {
            case .exited(let code)?: ending = .exited(code)
            case .signalled(let signal)?: ending = .signalled(signal)
            case nil: ending = .signalled(SIGKILL)
            }
        }
        if clientGone.load(ordering: .acquiring) {
            server.log("\(peer) run \(line): the client went away; its process group was killed (\(Self.describe(ending)))")
        } else {
            finish(ending, output: counts[.stdout] ?? 0, errors: counts[.stderr] ?? 0)
        }
        try? client.shutdown(.both)
        _ = readerDone.wait(timeout: .now() + 5)
    }

    static func writeAll(_ bytes: [UInt8], to end: PipeEnd) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard let wrote = try? bytes.withUnsafeBytes({ try end.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }), wrote > 0 else { return false }
            offset += wrote
        }
        return true
    }

    static func describe(_ ending: RemoteFrame.Ending) -> String {
        switch ending {
        case .exited(let code): "exited \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .notStarted(let code, let reason): "not started (\(code): \(reason))"
        case .timedOut(let seconds): "timed out after \(seconds) s, process group killed"
        }
    }
}
