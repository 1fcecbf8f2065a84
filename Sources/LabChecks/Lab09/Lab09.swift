import Dispatch
import Foundation
import LabEngines
import LabHost
import LabServers
import PacketCapture
import Packets
import SocketCore
import TextOutput

/// Lab 09, a remote command: one `remote run` in the student's capture, frame by frame (the
/// challenge, the proof, the command, the program's output on its two channels, the exit
/// status), and a second one whose client was killed mid-run — what its kernel sent, and what
/// the server did next.
public enum Lab09 {
    public struct Truth: Sendable {
        public var challengeBytes: Int
        public var proofBytes: Int
        public var stdoutFrames: Int
        public var stdoutBytes: Int
        public var stderrBytes: Int
        public var exitStatus: Int32?
        public var frames: Int
        /// The killed client's last segment ("FIN" or "RST") and the server's answer.
        public var killedClientSends: String?
        public var serverThenSends: String?
    }

    struct Problem: LabBadInput {
        let description: String
    }

    /// One direction of a connection's bytes, in sequence order.
    struct Stream {
        var next: UInt32?
        var bytes: [UInt8] = []
        mutating func add(seq: UInt32, payload: ArraySlice<UInt8>) {
            let expected = next ?? seq
            let skip = Int(Int32(bitPattern: expected &- seq))
            guard skip >= 0, skip <= payload.count else { return }  // a gap: the rest is not decoded
            bytes += payload.dropFirst(skip)
            next = expected &+ UInt32(payload.count - skip)
        }
        var frames: [RemoteFrame] {
            var out: [RemoteFrame] = []
            var rest = bytes[...]
            while case .frame(let frame, let consumed) = RemoteFrame.parse(rest) {
                out.append(frame)
                rest = rest.dropFirst(consumed)
            }
            return out
        }
    }

    struct Connection {
        var up = Stream()
        var down = Stream()
        /// Closing flags in order: (from the client?, "FIN" or "RST").
        var closes: [(Bool, String)] = []
    }

    public static func truth(from path: String) throws -> Truth {
        var connections: [Connection] = []
        try CapturedConnections.forEachSegment(in: path) { segment in
            if segment.connection == connections.count { connections.append(Connection()) }
            let tcp = segment.tcp, payload = segment.payload[...]
            if !payload.isEmpty {
                if segment.fromClient { connections[segment.connection].up.add(seq: tcp.sequenceNumber, payload: payload) }
                else { connections[segment.connection].down.add(seq: tcp.sequenceNumber, payload: payload) }
            }
            if tcp.flags.contains(.rst) { connections[segment.connection].closes.append((segment.fromClient, "RST")) }
            else if tcp.flags.contains(.fin) { connections[segment.connection].closes.append((segment.fromClient, "FIN")) }
        }
        // The conversations that speak this protocol: the server's first frame is its hello.
        let remote = connections.filter { $0.down.frames.first?.challenge != nil }
        func ended(_ connection: Connection) -> Bool { connection.down.frames.contains { $0.channel == RemoteFrame.Channel.exit } }
        func ran(_ connection: Connection) -> Bool { connection.up.frames.contains { $0.channel == RemoteFrame.Channel.run } }
        guard let finished = remote.first(where: ended) else {
            throw Problem(description: "no remote run with an exit status in \(path): see the steps of the handout (labcheck 09 without --capture makes the capture)")
        }
        let down: [RemoteFrame] = finished.down.frames, up: [RemoteFrame] = finished.up.frames
        let stdout = down.filter { $0.channel == RemoteFrame.Channel.stdout }
        let stderr = down.filter { $0.channel == RemoteFrame.Channel.stderr }
        let proof = up.first { $0.channel == RemoteFrame.Channel.proof }
        let exit = down.first { $0.channel == RemoteFrame.Channel.exit }
        var truth = Truth(challengeBytes: down.first?.challenge?.count ?? 0, proofBytes: proof?.payload.count ?? 0,
                          stdoutFrames: stdout.count, stdoutBytes: stdout.reduce(0) { $0 + $1.payload.count },
                          stderrBytes: stderr.reduce(0) { $0 + $1.payload.count },
                          exitStatus: exit?.ending?.exitCode, frames: down.count + up.count)
        // The killed client: a run that ended with no exit frame, the client's side closing first.
        if let killed = remote.first(where: { !ended($0) && ran($0) }),
           let first = killed.closes.first(where: { $0.0 }) {
            truth.killedClientSends = first.1
            truth.serverThenSends = killed.closes.first(where: { !$0.0 })?.1
        }
        return truth
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func ask(_ q: String, _ key: String, _ expected: Int, hint: (Int64) -> String) {
            guard let answer = answers.integer(key) else { return results.append(answers.unanswered(q, key, expecting: .wholeNumber)) }
            results.append(answer == Int64(expected) ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        ask("Q1 bytes of the server's challenge", "challenge_bytes", truth.challengeBytes) { answer in
            answer == Int64(truth.challengeBytes + RemoteFrame.banner.utf8.count + 1) ? "that is the whole hello payload: the banner and its NUL come before the challenge"
                : answer == Int64(truth.challengeBytes + 5) ? "the first 5 bytes are the frame header (channel and length), not the challenge" : "the hello frame's payload after \"\(RemoteFrame.banner)\" and its NUL"
        }
        ask("Q2 bytes of the client's proof", "proof_bytes", truth.proofBytes) { answer in
            answer == 64 ? "64 is the proof written in hex; on the wire it is binary: SHA-256's 32 bytes" : "the proof frame's payload: an HMAC-SHA256, as long as one SHA-256 hash"
        }
        ask("Q3 stdout frames", "stdout_frames", truth.stdoutFrames) { _ in "count the frames whose channel byte is 0x21 in the server's direction" }
        ask("Q4 bytes the program wrote to stderr", "stderr_bytes", truth.stderrBytes) { _ in "the payload lengths of the channel 0x22 frames, added (the newline counts)" }
        if let status = truth.exitStatus {
            ask("Q5 the exit status in the exit frame", "exit_status", Int(status)) { _ in "the exit frame (0x30): a kind byte (0: exited), then the status as 4 bytes in network order" }
        }
        if let sends = truth.killedClientSends {
            for (q, key, value, hint) in [
                ("Q6 what the killed client's kernel sent", "killed_client_sends", sends,
                 "kill -9 gives the program no chance to do anything: its kernel closes the socket — FIN when nothing unread was waiting, RST when there was"),
                ("Q7 what the server sent next", "server_then_sends", truth.serverThenSends ?? "nothing",
                 "after the client's close the server kills the program's process group and closes its side: look at the server's next segment with a flag"),
            ] {
                guard let answer = answers.text(key) else {
                    results.append(answers.unanswered(q, key, expecting: .text))
                    continue
                }
                results.append(answer.uppercased() == value.uppercased() ? .pass(q, answer) : .fail(q, answer, hint: hint))
            }
        } else {
            results.append(.skipped("Q6 and Q7, the killed client", "the capture has no run whose client went away: step 5 of the handout"))
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        var lines = ["challenge_bytes = \(truth.challengeBytes)", "proof_bytes = \(truth.proofBytes)",
                     "stdout_frames = \(truth.stdoutFrames)", "stderr_bytes = \(truth.stderrBytes)"]
        if let status = truth.exitStatus { lines.append("exit_status = \(status)") }
        if let sends = truth.killedClientSends {
            lines.append("killed_client_sends = \"\(sends)\"")
            lines.append("server_then_sends = \"\(truth.serverThenSends ?? "nothing")\"")
        } else {
            lines.append("# killed_client_sends, server_then_sends: this capture has no killed client")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `labcheck 09` without `--capture`: a server on loopback, one run of the handout's
    /// command, one run whose client (a `remote run` beside this program) is killed mid-run.
    public static func makeCapture(to path: String) throws -> String {
        guard let directory = FreshFile.temporaryFolder("labcheck-09") else { throw Problem(description: "cannot make a temporary folder in /tmp") }
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let tokenPath = directory + "/token"
        var random = SystemRandomNumberGenerator()
        let token = (0..<24).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789"[Int.random(in: 0..<36, using: &random)] }
        _ = FileManager.default.createFile(atPath: tokenPath, contents: Data(String(token).utf8), attributes: [.posixPermissions: 0o600])
        var configuration = RemoteServerConfiguration(token: try RemoteToken(file: tokenPath))
        configuration.listen = .loopback(0)
        // The server says when it has killed the program of the client that went away: labcheck
        // waits for that, so that no `sleep` outlives it.
        let cleanedUp = DispatchSemaphore(value: 0)
        configuration.log = { line in if line.contains("the client went away") { cleanedUp.signal() } }
        let server = try RemoteServer(configuration)
        Thread.detachNewThread { server.run() }
        defer { server.stop() }
        let address = server.address
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        return try record(path, filter: "tcp port \(address.port ?? 0)") {
            _ = try RemoteClient.run(["sh", "-c", "echo out; echo err >&2; exit 3"], at: address, token: try RemoteToken(file: tokenPath), timeout: 0,
                                     input: nil, output: null, errors: null)
            let tool = (SocketError.programPath as NSString).deletingLastPathComponent + "/remote"
            if FileManager.default.isExecutableFile(atPath: tool) {
                let client = try ChildProcess([tool, "run", "\(address)", "--token-file", tokenPath, "--", "sleep", "30"])
                usleep(700_000)
                kill(client.pid, SIGKILL)
                _ = client.exitStatus
                _ = cleanedUp.wait(timeout: .now() + 5)
                usleep(200_000)
            }
        }
    }
}

extension Lab09: QuestionLab {
    public static let number = "09"
    public static let slug = "09-a-remote-command"
    public static let title = "A remote command"
    public static let topics = "framing on one connection, a challenge and an HMAC instead of a password, exit status, a client killed mid-run"

    public static func truth(from path: String, request: LabRequest) throws -> Truth { try truth(from: path) }
}

extension String {
    subscript(index: Int) -> Character { self[self.index(startIndex, offsetBy: index)] }
}
