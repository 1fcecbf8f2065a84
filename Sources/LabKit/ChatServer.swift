import SocketCore

/// The Swift reference for Lab 06: a line-based chat room on one thread with poll(). Every
/// client has a line buffer in and a queue out, so a client that stops reading only grows its
/// own queue (up to `queueLimit`, then it is dropped) and never stalls the others.
///
/// The protocol (Labs/06-chat-server/README.md): `NICK name` joins (the others get
/// `* name joined`) or renames (`* old is now new`); `QUIT`, end of file or a reset leaves
/// (`* name left`); any other line goes to every other client as `name: line`.
public final class ChatServer: Sendable {
    public let address: SocketAddress
    private let listener: Socket
    /// Bytes queued for one client before it is dropped as too slow.
    public let queueLimit: Int

    public init(listeningOn address: SocketAddress, queueLimit: Int = 64 << 20) throws(SocketError) {
        listener = try Socket.listening(on: address, backlog: 512)
        try listener.setNonBlocking(true)
        self.address = try listener.localAddress
        self.queueLimit = queueLimit
    }

    private struct Client {
        let socket: Socket
        var nick: String?
        var inbox: [UInt8] = []
        var outbox: [UInt8] = []
    }

    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var poller = Poller()
        poller.watch(listener, for: .readable)
        var clients: [Int32: Client] = [:]
        var chunk = [UInt8](repeating: 0, count: 64 << 10)

        func queue(_ line: String, to descriptor: Int32) {
            guard clients[descriptor] != nil else { return }
            clients[descriptor]!.outbox += Array((line + "\n").utf8)
            poller.watch(clients[descriptor]!.socket, for: [.readable, .writable])
        }
        func toOthers(of descriptor: Int32, _ line: String) {
            for (other, client) in clients where other != descriptor && client.nick != nil { queue(line, to: other) }
        }
        func leave(_ descriptor: Int32) {
            guard let client = clients.removeValue(forKey: descriptor) else { return }
            poller.remove(client.socket)
            try? client.socket.close()
            if let nick = client.nick { toOthers(of: descriptor, "* \(nick) left") }
        }
        /// False when the client asked to leave.
        func handle(_ line: String, from descriptor: Int32) -> Bool {
            if line.hasPrefix("NICK ") {
                let nick = String(line.dropFirst(5)).trimmingCharacters(in: " ")
                if let old = clients[descriptor]?.nick { toOthers(of: descriptor, "* \(old) is now \(nick)") } else { toOthers(of: descriptor, "* \(nick) joined") }
                clients[descriptor]?.nick = nick
            } else if line == "QUIT" {
                return false
            } else if let nick = clients[descriptor]?.nick {
                toOthers(of: descriptor, "\(nick): \(line)")
            } else {
                queue("! send NICK <name> first", to: descriptor)
            }
            return true
        }

        while true {
            for event in try poller.wait() {
                if event.descriptor == listener.descriptor {
                    while let (socket, peer) = try? listener.accept() {
                        try? socket.setNonBlocking(true)
                        clients[socket.descriptor] = Client(socket: socket)
                        poller.watch(socket, for: .readable)
                        log("\(peer): connected")
                    }
                    continue
                }
                let descriptor = event.descriptor
                guard let socket = clients[descriptor]?.socket else { continue }
                do throws(SocketError) {
                    if event.events.contains(.writable), let outbox = clients[descriptor]?.outbox, !outbox.isEmpty {
                        let sent = try outbox.withBytes { (buffer) throws(SocketError) in try socket.sendSome(buffer) }
                        clients[descriptor]!.outbox.removeFirst(sent)
                        if clients[descriptor]!.outbox.isEmpty { poller.watch(socket, for: .readable) }
                    }
                    if !event.events.isDisjoint(with: [.readable, .error, .hangup]) {
                        let got = try chunk.withMutableBytes { (buffer) throws(SocketError) in try socket.receive(into: buffer) }
                        if got == 0 { leave(descriptor); continue }
                        clients[descriptor]!.inbox += chunk[..<got]
                        while let newline = clients[descriptor]?.inbox.firstIndex(of: UInt8(ascii: "\n")) {
                            var line = String(decoding: clients[descriptor]!.inbox[..<newline], as: UTF8.self)
                            if line.hasSuffix("\r") { line.removeLast() }
                            clients[descriptor]!.inbox.removeSubrange(...newline)
                            if !handle(line, from: descriptor) { leave(descriptor); break }
                        }
                    }
                } catch let error where error.errno == .EAGAIN {
                    continue
                } catch {
                    log("\(error)")
                    leave(descriptor)
                    continue
                }
                // A client that has stopped reading for good is dropped, not waited for.
                for (other, client) in clients where client.outbox.count > queueLimit {
                    log("dropping a client that stopped reading (\(client.outbox.count) bytes queued)")
                    leave(other)
                }
            }
        }
    }
}
