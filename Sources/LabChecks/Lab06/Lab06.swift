#if canImport(Glibc)
import Glibc
#endif
import LabHost
import LabEngines
import PacketCapture
import SocketCore

/// Lab 06, a chat server with poll/select in any language, checked as a black box: joins,
/// messages, renames and departures announced; every message to every other client once
/// and in order per sender; a client that stops reading does not stall the room.
public enum Lab06 {
    /// One test client: lines out, lines in, every read with a time bound.
    final class Client {
        let socket: Socket
        var stream: MessageStream

        init(_ address: SocketAddress, nick: String?, receiveBuffer: Int? = nil) throws {
            let socket = try Socket.tcp(.ipv4)
            if let receiveBuffer { try socket.set(.receiveBufferSize, receiveBuffer) }
            try socket.connect(to: address, timeout: .seconds(3))
            try socket.set(.receiveTimeout, .milliseconds(200))
            try socket.set(.sendTimeout, .seconds(20))
            self.socket = socket
            stream = MessageStream(socket, maxMessageSize: 1 << 20)
            if let nick { try stream.writeLine("NICK \(nick)") }
        }

        func say(_ line: String) throws { try stream.writeLine(line) }

        /// Lines until `done` says enough or `limit` passes.
        func read(for limit: Duration, until done: ([String]) -> Bool = { _ in false }) -> [String] {
            var lines: [String] = []
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline && !done(lines) {
                do {
                    guard let line = try stream.readLine() else { break }
                    lines.append(line)
                } catch {
                    if case .system(_, let errno, _) = error, errno == .EAGAIN { continue }
                    break
                }
            }
            return lines
        }

        /// Waits for one exact line (at most `limit`); true if it came.
        func expect(_ line: String, within limit: Duration = .seconds(3)) -> Bool {
            read(for: limit) { $0.contains(line) }.contains(line)
        }

        /// Whether the server closes this connection (EOF) within `limit`, whatever it sends first.
        func closedByServer(within limit: Duration) -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                do {
                    guard try stream.readLine() != nil else { return true }
                } catch {
                    if case .system(_, let errno, _) = error, errno == .EAGAIN { continue }
                    return true  // a reset is a close too
                }
            }
            return false
        }

        func close() { try? socket.close() }
    }

    public static func run(_ options: ServerLabOptions, say: (String) -> Void = { _ in }) -> [CheckResult] {
        LabServer.run(options, say: say, checks: checks)
    }

    static func checks(_ lab: LabServer) -> [CheckResult] {
        let (server, address) = (lab.server, lab.address)
        var results: [CheckResult] = []
        results += basics(address)
        results.append(everyMessageOnce(address, clients: 20, messages: 10))
        results.append(slowClient(address))
        let alive = server.isRunningOrLeftBehind && ((try? Client(address, nick: "last")).map { client in defer { client.close() }; return true } ?? false)
        results.append(alive ? .pass("still up at the end", "a new client could still join")
                             : .fail("still up at the end", server.isRunningOrLeftBehind ? "no longer accepts clients" : "the server process has exited",
                                     hint: "a reset or vanished client must cost the server only that connection"))
        return results
    }

    /// Join, message, rename, quit and vanish: each announced to the others.
    static func basics(_ address: SocketAddress) -> [CheckResult] {
        var results: [CheckResult] = []
        guard let alice = try? Client(address, nick: "alice") else {
            return [.fail("join announced", "could not connect", hint: "the server must accept connections")]
        }
        defer { alice.close() }
        _ = alice.read(for: .milliseconds(300))
        guard let bob = try? Client(address, nick: "bob") else {
            return [.fail("join announced", "a second client could not connect", hint: "accept every connection, not just the first")]
        }
        defer { bob.close() }
        results.append(alice.expect("* bob joined")
            ? .pass("join announced", "alice got \"* bob joined\"")
            : .fail("join announced", "alice did not get \"* bob joined\" within 3 s", hint: "when a client sends NICK name for the first time, send \"* name joined\" to every other client"))

        try? alice.say("hello everyone")
        let heard = bob.expect("alice: hello everyone")
        let echoed = alice.read(for: .milliseconds(300)).contains("alice: hello everyone")
        results.append(heard && !echoed
            ? .pass("message to the others", "bob got \"alice: hello everyone\"; alice did not get her own line back")
            : .fail("message to the others", heard ? "alice got her own message back" : "bob did not get \"alice: hello everyone\" within 3 s",
                    hint: heard ? "send a message to every client except its sender" : "prefix each line with the sender's nick and \": \", and send it to every other client"))

        try? alice.say("NICK alicia")
        results.append(bob.expect("* alice is now alicia")
            ? .pass("nick change announced", "bob got \"* alice is now alicia\"")
            : .fail("nick change announced", "bob did not get \"* alice is now alicia\"", hint: "a second NICK renames: announce \"* old is now new\""))

        try? bob.say("QUIT")
        let quitAnnounced = alice.expect("* bob left")
        let quitCloses = bob.closedByServer(within: .seconds(2))
        let carol = try? Client(address, nick: "carol")
        _ = alice.read(for: .milliseconds(300))
        if let carol {
            try? carol.socket.set(.linger, .abort)
            carol.close()  // vanishes with RST, no QUIT
        }
        let vanishAnnounced = alice.expect("* carol left")
        results.append(quitAnnounced && vanishAnnounced && quitCloses
            ? .pass("departures announced", "\"* bob left\" after QUIT (and bob's connection closed), \"* carol left\" after carol's connection was reset")
            : .fail("departures announced", !quitAnnounced ? "alice did not get \"* bob left\" after bob's QUIT"
                        : !quitCloses ? "the server kept bob's connection open after his QUIT" : "nothing when carol's connection was reset",
                    hint: quitAnnounced && !quitCloses ? "QUIT means the client is done: announce \"* name left\", then close its connection (the protocol says so)"
                        : "QUIT, end of file (recv returns 0) and a reset (ECONNRESET) all mean the client left: announce \"* name left\" and close"))
        return results
    }

    /// `clients` clients each send `messages` numbered lines in one write; every other
    /// client must get each exactly once, in the order its sender sent them.
    static func everyMessageOnce(_ address: SocketAddress, clients count: Int, messages: Int) -> CheckResult {
        let name = "\(count) clients, every message once, in order"
        var clients: [Client] = []
        defer { for client in clients { client.close() } }
        for i in 0..<count {
            guard let client = try? Client(address, nick: "n\(i)") else {
                return .fail(name, "only \(i) of \(count) clients could connect", hint: "accept many connections: a bigger listen() backlog, and accept() whenever the listener is readable")
            }
            clients.append(client)
        }
        for client in clients { _ = client.read(for: .milliseconds(100)) }  // the join notices
        for (i, client) in clients.enumerated() {
            // All of one client's lines in one send(): they arrive merged, as under load.
            let burst = (0..<messages).map { "m n\(i) \($0)\n" }.joined()
            try? client.socket.send(Array(burst.utf8))
        }
        let expected = (count - 1) * messages
        let deadline = ContinuousClock.now + .seconds(10)
        var missing = 0, duplicated = 0, misordered = 0, echoedBack = 0
        for (i, client) in clients.enumerated() {
            let left = max(.milliseconds(100), deadline - ContinuousClock.now)
            let own = "n\(i):"
            // Only the others' lines count towards "all arrived": a server that also sends a
            // client its own lines must not make the reading stop early.
            let lines = client.read(for: left) { $0.filter { $0.hasPrefix("n") && !$0.hasPrefix(own) }.count >= expected }
            var next = [Int](repeating: 0, count: count)
            var seen = Set<String>()
            for line in lines where line.hasPrefix("n") {
                if line.hasPrefix(own) { echoedBack += 1; continue }
                if !seen.insert(line).inserted { duplicated += 1; continue }
                // "n3: m n3 7"
                let parts = line.split(separator: " ")
                guard parts.count == 4, let sender = Int(parts[2].dropFirst()), let k = Int(parts[3]), sender < count else { continue }
                if k != next[sender] { misordered += 1 }
                next[sender] = k + 1
            }
            missing += expected - seen.count
        }
        if echoedBack > 0 {
            return .fail(name, "\(echoedBack) lines came back to the client that sent them (of \(count * messages) sent)",
                         hint: "send a message to every client except its sender: the sender has it already")
        }
        if missing == 0 && duplicated == 0 && misordered == 0 {
            return .pass(name, "\(count) clients × \(messages) lines: every client got all \(expected) lines of the others, once, in order")
        }
        return .fail(name, "\(missing) lines missing, \(duplicated) duplicated, \(misordered) out of order (of \(count * expected) deliveries)",
                     hint: "TCP merges lines: one recv() can hold many lines, or half of one. Keep a buffer per client, cut complete lines at \\n, keep the rest for the next recv()")
    }

    /// A client that joins and never reads; another sends 3 MB of lines; a third must get
    /// them all.
    static func slowClient(_ address: SocketAddress) -> CheckResult {
        let name = "a slow client does not stall the others"
        guard let slow = try? Client(address, nick: "slow", receiveBuffer: 4096),
              let sender = try? Client(address, nick: "x"), let receiver = try? Client(address, nick: "y") else {
            return .fail(name, "could not connect three clients", hint: "accept every connection")
        }
        defer { slow.close(); sender.close(); receiver.close() }
        _ = receiver.read(for: .milliseconds(300))
        let lines = 30_000
        let filler = String(repeating: "z", count: 90)
        let socket = sender.socket
        let writer = Peer { () -> Int in
            var sent = 0
            for k in 0..<lines {
                guard (try? socket.send(Array("\(k) \(filler)\n".utf8))) != nil else { break }
                sent += 1
            }
            return sent
        }
        let got = receiver.read(for: .seconds(20)) { $0.count >= lines }.filter { $0.hasPrefix("x: ") }.count
        let sent = (try? writer.value(timeout: .seconds(25))) ?? 0
        if got >= lines { return .pass(name, "with one client not reading, another still got all \(lines) lines (\(lines * 94 / 1000) kB) of a third") }
        return .fail(name, "y got \(got) of \(lines) lines from x (x could send \(sent)) while slow never read",
                     hint: "a blocking send() to a client that does not read waits for ever, and the whole room with it: queue its bytes and wait for poll() to say it is writable (drop it if the queue grows too large)")
    }
}

extension Lab06: ServerLab {
    public static let number = "06"
    public static let slug = "06-chat-server"
    public static let title = "A chat server"
    public static let topics = "any language; poll/select, line framing, slow readers"
}
