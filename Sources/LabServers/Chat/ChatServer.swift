import SocketCore

/// The Swift reference for Lab 06: a line-based chat room on one thread with poll(). Every
/// client has a line buffer in and a queue out (`ServerLoop`'s), so a client that stops
/// reading only grows its own queue (up to `queueLimit`, then it is dropped) and never stalls
/// the others.
///
/// The protocol (Labs/06-chat-server/README.md): `NICK name` joins (the others get
/// `* name joined`) or renames (`* old is now new`); `QUIT`, end of file or a reset leaves
/// (`* name left`); any other line goes to every other client as `name: line`.
public final class ChatServer: Sendable {
    private let loop: ServerLoop
    public var address: SocketAddress { loop.address }
    /// Bytes queued for one client before it is dropped as too slow.
    public var queueLimit: Int { loop.queueLimit }

    public init(listeningOn address: SocketAddress, queueLimit: Int = 64 << 20) throws(SocketError) {
        // highWater: a client's own queue holds only the few notices addressed to it while
        // it types, so reading from it never waits on it.
        loop = try ServerLoop(listeningOn: address, backlog: 512, highWater: 1 << 20, queueLimit: queueLimit)
    }

    /// Ends `run()`; safe to call from any thread, more than once.
    public func stop() { loop.stop() }

    struct Room: ServerService {
        struct Member {
            var nick: String?
            var inbox: [UInt8] = []
        }
        var members: [ClientID: Member] = [:]

        mutating func opened(_ client: ClientID, peer: SocketAddress, _ io: inout ServerIO) {
            members[client] = Member()
        }

        mutating func received(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO) {
            members[client]?.inbox += bytes
            while let member = members[client], let newline = member.inbox.firstIndex(of: UInt8(ascii: "\n")) {
                var line = String(decoding: member.inbox[..<newline], as: UTF8.self)
                if line.hasSuffix("\r") { line.removeLast() }
                members[client]!.inbox.removeSubrange(...newline)
                if !handle(line, from: client, &io) {
                    io.close(client)
                    return
                }
            }
        }

        mutating func endOfInput(from client: ClientID, _ io: inout ServerIO) { io.close(client) }

        mutating func closed(_ client: ClientID, _ end: ClientEnd, _ io: inout ServerIO) {
            guard let member = members.removeValue(forKey: client) else { return }
            if let nick = member.nick { toOthers(of: client, "* \(nick) left", &io) }
        }

        func toOthers(of client: ClientID, _ line: String, _ io: inout ServerIO) {
            let bytes = Array((line + "\n").utf8)
            for (other, member) in members where other != client && member.nick != nil { io.send(bytes, to: other) }
        }

        /// False when the client asked to leave.
        mutating func handle(_ line: String, from client: ClientID, _ io: inout ServerIO) -> Bool {
            if line.hasPrefix("NICK ") {
                var nick = Substring(line.dropFirst(5))
                while nick.first == " " { nick.removeFirst() }
                while nick.last == " " { nick.removeLast() }
                if let old = members[client]?.nick {
                    toOthers(of: client, "* \(old) is now \(nick)", &io)
                } else {
                    toOthers(of: client, "* \(nick) joined", &io)
                }
                members[client]?.nick = String(nick)
            } else if line == "QUIT" {
                return false
            } else if let nick = members[client]?.nick {
                toOthers(of: client, "\(nick): \(line)", &io)
            } else {
                io.send(Array("! send NICK <name> first\n".utf8), to: client)
            }
            return true
        }
    }

    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var room = Room()
        try loop.run(&room, log: log)
    }
}
