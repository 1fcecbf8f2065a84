import SocketCore

/// The Swift reference for Lab 06: a line-based chat room on one thread with poll(). Every
/// client has a line buffer in and a queue out (`ServerLoop`'s), so a client that stops
/// reading only grows its own queue (up to `queueLimit`, then it is dropped with a notice to
/// the room) and never stalls the others.
///
/// The protocol (Labs/06-chat-server/README.md): `NICK name` joins (the others get
/// `* name joined`) or renames (`* old is now new`); `QUIT`, end of file or a reset leaves
/// (`* name left`); any other line goes to every other client as `name: line`. What the
/// reference also enforces, because its clients are students' programs: a nick is 1 to 32
/// letters, digits, `_`, `-` or `.`, and no one else's (ignoring case); a line is at most
/// `maxLineLength` bytes of UTF-8 without control characters (terminal escapes are how one
/// client would paint another's screen); an empty line sends nothing. A refused line gets
/// `! why` back, to its sender only; a line over the limit ends the connection.
public final class ChatServer: Sendable {
    private let loop: ServerLoop
    public var address: SocketAddress { loop.address }
    /// Bytes queued for one client before it is dropped as too slow.
    public var queueLimit: Int { loop.queueLimit }
    /// The longest line, in bytes without its newline; a client sending a longer one is dropped.
    public let maxLineLength: Int

    public init(listeningOn address: SocketAddress, queueLimit: Int = 64 << 20, maxLineLength: Int = 8192,
                stallLimit: Duration = .seconds(60)) throws(SocketError) {
        // highWater = queueLimit: a member that talks without reading is not paused (its lines
        // would stop reaching the room) but dropped once its queue passes the limit.
        loop = try ServerLoop(listeningOn: address, backlog: 512, highWater: queueLimit, queueLimit: queueLimit, stallLimit: stallLimit)
        self.maxLineLength = maxLineLength
    }

    /// Ends `run()`; safe to call from any thread, more than once.
    public func stop() { loop.stop() }

    struct Room: ServerService {
        struct Member {
            var nick: String?
            /// Bytes received and not yet cut into lines; `scanned` of them hold no newline.
            var inbox: [UInt8] = []
            var scanned = 0
        }
        var members: [ClientID: Member] = [:]
        /// Lower-cased nicks in use, for "taken".
        var nicks: Set<String> = []
        let maxLineLength: Int

        mutating func opened(_ client: ClientID, peer: SocketAddress, _ io: inout ServerIO) {
            members[client] = Member()
        }

        /// Cuts complete lines with one pass over the new bytes and one removal per chunk:
        /// a flood of empty lines costs linear time, not a shift of the buffer per line.
        mutating func received(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO) {
            guard var member = members[client] else { return }
            member.inbox += bytes
            var start = 0
            var index = member.scanned
            var lines: [ArraySlice<UInt8>] = []
            while index < member.inbox.count {
                if member.inbox[index] == UInt8(ascii: "\n") {
                    lines.append(member.inbox[start..<index])
                    start = index + 1
                }
                index += 1
            }
            let partial = member.inbox.count - start
            let rest = member.inbox[start...]
            member.inbox = []
            member.scanned = 0
            members[client] = member
            for line in lines {
                guard line.count <= maxLineLength else {
                    refuse(client, "line of \(line.count) bytes is over the limit of \(maxLineLength); goodbye", &io)
                    io.close(client)
                    return
                }
                var bytes = line
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                if bytes.isEmpty { continue }  // an empty line sends nothing
                if !handle(bytes, from: client, &io) {
                    io.close(client)
                    return
                }
            }
            if partial > maxLineLength {
                refuse(client, "line of more than \(maxLineLength) bytes with no end; goodbye", &io)
                io.close(client)
                return
            }
            members[client]?.inbox = Array(rest)
            members[client]?.scanned = partial
        }

        mutating func endOfInput(from client: ClientID, _ io: inout ServerIO) { io.close(client) }

        mutating func closed(_ client: ClientID, _ end: ClientEnd, _ io: inout ServerIO) {
            guard let member = members.removeValue(forKey: client) else { return }
            guard let nick = member.nick else { return }
            nicks.remove(nick.lowercased())
            if case .tooSlow = end {
                toOthers(of: client, "* \(nick) left (dropped: it stopped reading)", &io)
            } else {
                toOthers(of: client, "* \(nick) left", &io)
            }
        }

        func toOthers(of client: ClientID, _ line: String, _ io: inout ServerIO) {
            let bytes = Array((line + "\n").utf8)
            for (other, member) in members where other != client && member.nick != nil { io.send(bytes, to: other) }
        }

        func refuse(_ client: ClientID, _ why: String, _ io: inout ServerIO) {
            io.send(Array("! \(why)\n".utf8), to: client)
        }

        static func validNick(_ nick: Substring) -> Bool {
            (1...32).contains(nick.count) && nick.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".")
            }
        }

        /// False when the client asked to leave.
        mutating func handle(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO) -> Bool {
            guard let line = String(validating: bytes, as: UTF8.self) else {
                refuse(client, "lines must be UTF-8 text; that one was not sent", &io)
                return true
            }
            if line.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) {
                refuse(client, "control characters (terminal escapes among them) are not sent", &io)
                return true
            }
            if line.hasPrefix("NICK ") {
                var nick = Substring(line.dropFirst(5))
                while nick.first == " " { nick.removeFirst() }
                while nick.last == " " { nick.removeLast() }
                guard Self.validNick(nick) else {
                    refuse(client, "a nick is 1 to 32 letters, digits, _ - or .", &io)
                    return true
                }
                let old = members[client]?.nick
                if nick.lowercased() != old?.lowercased() {
                    guard !nicks.contains(nick.lowercased()) else {
                        refuse(client, "nick \(nick) is taken", &io)
                        return true
                    }
                    if let old { nicks.remove(old.lowercased()) }
                    nicks.insert(nick.lowercased())
                }
                if let old {
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
                refuse(client, "send NICK <name> first", &io)
            }
            return true
        }
    }

    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var room = Room(maxLineLength: maxLineLength)
        try loop.run(&room, log: log)
    }
}
