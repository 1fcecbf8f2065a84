import Foundation
import Packets
import SocketCore

/// One client of the proxy, from its greeting to the end of the relay: the seed's eight
/// steps, each an RFC 1928 message (1 connect, 2 offer methods, 3 the choice, 4 the request,
/// 5 the proxy connects, 6 the reply with the bound address, 7–8 the relay both ways).
final class SocksConnection: Sendable {
    let proxy: SocksProxy
    let client: Socket
    let peer: SocketAddress
    let id: Int

    init(proxy: SocksProxy, client: Socket, peer: SocketAddress, id: Int) {
        self.proxy = proxy
        self.client = client
        self.peer = peer
        self.id = id
    }

    var configuration: SocksProxyConfiguration { proxy.configuration }

    /// The bytes read from the client and not yet used (a request may arrive with the first
    /// data right behind it).
    struct Input {
        var bytes: [UInt8] = []
        /// The longest message is a login: 3 + 255 + 255 bytes.
        static let limit = 1024
    }

    enum Outcome: Error { case closed(String) }

    func serve() {
        defer { try? client.close() }
        try? client.set(.receiveTimeout, configuration.handshakeTimeout)
        try? client.set(.sendTimeout, configuration.handshakeTimeout)
        var input = Input()
        do {
            try negotiate(&input)
            let request = try readRequest(&input)
            switch request.command {
            case .connect: try connect(request, leftover: input.bytes)
            case .bind: try bind(request)
            case .udpAssociate: try associate(request)
            }
        } catch let Outcome.closed(why) {
            proxy.log("\(peer): \(why)")
        } catch {
            proxy.log("\(peer): \(error)")
        }
    }

    /// Reads from the client until `parse` has a message (or EOF, or nonsense).
    func read<Message>(_ input: inout Input, what: String, _ parse: (ArraySlice<UInt8>) -> SOCKS5.Parse<Message>) throws -> Message {
        while true {
            switch parse(input.bytes[...]) {
            case .message(let message, let consumed):
                input.bytes.removeFirst(consumed)
                return message
            case .invalid(let why):
                throw Outcome.closed("\(what): \(why); closed")
            case .needMore:
                guard input.bytes.count < Input.limit else { throw Outcome.closed("\(what): longer than any SOCKS message; closed") }
                let more: [UInt8]
                do {
                    more = try client.receive(upTo: Input.limit - input.bytes.count)
                } catch {
                    if error.errno == .EAGAIN || error.errno == .EWOULDBLOCK { throw Outcome.closed("\(what): nothing for \(configuration.handshakeTimeout); closed") }
                    throw error
                }
                if more.isEmpty { throw Outcome.closed("closed the connection before its \(what) was complete") }
                input.bytes += more
            }
        }
    }

    /// Steps 2 and 3, and RFC 1929's login when the proxy has logins (then only that method).
    func negotiate(_ input: inout Input) throws {
        let greeting = try read(&input, what: "greeting", SOCKS5.Greeting.parse)
        let wanted: SOCKS5.Method = configuration.logins == nil ? .noAuthentication : .usernamePassword
        guard greeting.methods.contains(wanted) else {
            try client.send(SOCKS5.MethodSelection(.noAcceptable).encoded)
            throw Outcome.closed("offered \(greeting.methods.map(\.description).joined(separator: ", ")), the proxy needs \(wanted); answered 0xFF")
        }
        try client.send(SOCKS5.MethodSelection(wanted).encoded)
        guard let logins = configuration.logins else { return }
        let login = try read(&input, what: "login", SOCKS5.Login.parse)
        let user = String(decoding: login.username, as: UTF8.self)
        let accepted = logins[user].map { Self.sameBytes(Array($0.utf8), login.password) } ?? Self.sameBytes([], login.password + [0])
        if !accepted {
            // Slowed, so that guessing costs time; the connection is then closed (RFC 1929).
            usleep(200_000)
            try? client.send(SOCKS5.LoginStatus(succeeded: false).encoded)
            throw Outcome.closed("login as \(user.debugDescription) refused; closed")
        }
        try client.send(SOCKS5.LoginStatus(succeeded: true).encoded)
    }

    /// Compares in time that depends only on the lengths: a password is not found byte by byte.
    static func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Step 4. An unknown command or address type gets its reply code (7, 8) before the close.
    func readRequest(_ input: inout Input) throws -> SOCKS5.Request {
        do {
            return try read(&input, what: "request", SOCKS5.Request.parse)
        } catch Outcome.closed(let why) {
            if input.bytes.count >= 2, SOCKS5.Command(rawValue: input.bytes[1]) == nil {
                try? client.send(SOCKS5.ReplyMessage(.commandNotSupported).encoded)
            } else if input.bytes.count >= 4, ![1, 3, 4].contains(input.bytes[3]) {
                try? client.send(SOCKS5.ReplyMessage(.addressTypeNotSupported).encoded)
            }
            throw Outcome.closed(why)
        }
    }

    /// The target's addresses: a name resolved here, by the proxy (that is what ATYP 3 is for).
    func addresses(of address: SOCKS5.Address, port: UInt16) throws(ReplyFailure) -> [SocketAddress] {
        var candidates: [SocketAddress]
        switch address {
        case .ipv4(let a): candidates = [.ipv4(a, port)]
        case .ipv6(let a): candidates = [.ipv6(a, port)]
        case .domain(let name):
            do {
                candidates = try SocketAddress.resolve(host: name, port: port)
            } catch {
                throw ReplyFailure(.hostUnreachable, "\(name) does not resolve (\(error))")
            }
        }
        if !configuration.allow.isEmpty {
            candidates = candidates.filter { candidate in candidate.ip.map { ip in configuration.allow.contains { $0.contains(ip) } } ?? false }
            if candidates.isEmpty { throw ReplyFailure(.notAllowed, "\(address.text(port: port)) is outside --allow") }
        }
        return candidates
    }

    struct ReplyFailure: Error {
        var reply: SOCKS5.Reply
        var why: String
        init(_ reply: SOCKS5.Reply, _ why: String) {
            self.reply = reply
            self.why = why
        }
    }

    /// The reply code for a failed connect(), by its errno (RFC 1928 §6).
    static func reply(for error: SocketError) -> SOCKS5.Reply {
        switch error.errno {
        case .ECONNREFUSED?: .connectionRefused
        case .ENETUNREACH?: .networkUnreachable
        case .EHOSTUNREACH?, .ETIMEDOUT?: .hostUnreachable
        case .EACCES?, .EPERM?: .notAllowed
        default: .generalFailure
        }
    }

    /// Steps 5 and 6 for CONNECT, then the relay.
    func connect(_ request: SOCKS5.Request, leftover: [UInt8]) throws {
        let started = ContinuousClock.now
        let target: Socket
        do {
            target = try open(request)
        } catch let failure {
            try? client.send(SOCKS5.ReplyMessage(failure.reply).encoded)
            throw Outcome.closed("CONNECT \(request.address.text(port: request.port)): \(failure.why); answered \(failure.reply.rawValue) (\(failure.reply))")
        }
        defer { try? target.close() }
        let pipes = try relayPipes()
        let bound = (try? target.localAddress) ?? .ipv4(IPv4Address(0), 0)
        try client.send(SOCKS5.ReplyMessage(.succeeded, bound.socksAddress, port: bound.port ?? 0).encoded)
        let targetText = (try? target.peerAddress).map(\.description) ?? "?"
        // What the client sent right behind its request goes first.
        if !leftover.isEmpty { try target.send(leftover) }
        let (up, down, end) = Relay(a: client, b: target, pipes: pipes, idle: configuration.idleTimeout).run(already: leftover.count)
        proxy.log("\(peer) CONNECT \(request.address.text(port: request.port)) (\(targetText)): \(up) bytes up, \(down) down, \(secondsText(since: started)), \(end)")
    }

    /// The relay's pipes, or REP 1 and the reason (out of descriptors, most likely).
    func relayPipes() throws -> Relay.Pipes {
        do {
            return try Relay.Pipes()
        } catch {
            try? client.send(SOCKS5.ReplyMessage(.generalFailure).encoded)
            throw Outcome.closed("no pipe for the relay (\(error)); answered 1 (general failure)")
        }
    }

    func open(_ request: SOCKS5.Request) throws(ReplyFailure) -> Socket {
        var last = ReplyFailure(.hostUnreachable, "no address to try")
        for address in try addresses(of: request.address, port: request.port) {
            do throws(SocketError) {
                let socket = try Socket.tcp(address.family)
                do throws(SocketError) {
                    try socket.connect(to: address, timeout: configuration.connectTimeout)
                    return socket
                } catch {
                    try? socket.close()
                    throw error
                }
            } catch {
                last = ReplyFailure(Self.reply(for: error), "\(address): \(error)")
            }
        }
        throw last
    }

    /// BIND (RFC 1928 §4): listen for one connection from the target, report where (the
    /// first reply) and who came (the second), then relay.
    func bind(_ request: SOCKS5.Request) throws {
        let local = try client.localAddress
        let listener: Socket
        do {
            listener = try Socket.listening(on: local.with(port: 0), backlog: 1)
        } catch {
            try? client.send(SOCKS5.ReplyMessage(.generalFailure).encoded)
            throw Outcome.closed("BIND: cannot listen (\(error))")
        }
        defer { try? listener.close() }
        let bound = try listener.localAddress
        try client.send(SOCKS5.ReplyMessage(.succeeded, bound.socksAddress, port: bound.port ?? 0).encoded)
        var poller = Poller()
        poller.watch(listener, for: .readable)
        poller.watch(client, for: .readable)
        guard let ready = try? poller.wait(timeout: .seconds(120)), ready.contains(where: { $0.descriptor == listener.descriptor }) else {
            try? client.send(SOCKS5.ReplyMessage(.ttlExpired).encoded)
            throw Outcome.closed("BIND: nobody connected to \(bound) in time (or the client left)")
        }
        let (incoming, from) = try listener.accept()
        defer { try? incoming.close() }
        // RFC 1928: DST.ADDR says who is expected (all zeros: anyone); another host is refused.
        let expected = request.address
        let anyone = expected == .ipv4(IPv4Address(0)) || expected == .ipv6(.any)
        if case .domain = expected {} else if !anyone, let ip = from.ip, SOCKS5.Address.ipv4OrIPv6(ip) != expected {
            try? client.send(SOCKS5.ReplyMessage(.notAllowed).encoded)
            throw Outcome.closed("BIND: \(from) connected, but \(expected) was expected")
        }
        let pipes = try relayPipes()
        try client.send(SOCKS5.ReplyMessage(.succeeded, from.socksAddress, port: from.port ?? 0).encoded)
        let (up, down, end) = Relay(a: client, b: incoming, pipes: pipes, idle: configuration.idleTimeout).run()
        proxy.log("\(peer) BIND \(bound) ← \(from): \(up) bytes up, \(down) down, \(end)")
    }

    /// UDP ASSOCIATE (RFC 1928 §7): a UDP port for the client; each datagram it sends there
    /// carries a header naming the target, and each reply comes back with one naming its
    /// sender. Fragments (FRAG ≠ 0) are dropped, as the RFC allows. The association lasts as
    /// long as the TCP connection.
    func associate(_ request: SOCKS5.Request) throws {
        let local = try client.localAddress
        let relay: Socket
        do {
            relay = try Socket(family: local.family, type: .datagram)
            try relay.bind(to: local.with(port: 0))
        } catch {
            try? client.send(SOCKS5.ReplyMessage(.generalFailure).encoded)
            throw Outcome.closed("UDP ASSOCIATE: no UDP socket (\(error))")
        }
        defer { try? relay.close() }
        let bound = try relay.localAddress
        try client.send(SOCKS5.ReplyMessage(.succeeded, bound.socksAddress, port: bound.port ?? 0).encoded)
        // Datagrams are accepted only from the client's own address (and port, if it said).
        var clientEndpoint: SocketAddress? = request.port != 0 ? peer.with(port: request.port) : nil
        var poller = Poller()
        poller.watch(client, for: .readable)
        poller.watch(relay, for: .readable)
        var sent = 0, received = 0, dropped = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        loop: while true {
            let ready = try poller.wait(timeout: configuration.idleTimeout)
            if ready.isEmpty { break }
            for event in ready {
                if event.descriptor == client.descriptor {
                    // The control connection: anything but EOF is ignored; EOF ends it.
                    let bytes = (try? client.receive(upTo: 4096)) ?? []
                    if bytes.isEmpty { break loop }
                    continue
                }
                let (size, from) = try buffer.withUnsafeMutableBytes { try relay.receiveFrom(into: $0) }
                guard let sender = from else { continue }
                let datagram = buffer[..<size]
                if sender.ip == peer.ip, clientEndpoint == nil || clientEndpoint == sender {
                    clientEndpoint = sender
                    guard case .message(let header, let consumed) = SOCKS5.UDPHeader.parse(datagram), header.fragment == 0,
                          let target = try? addresses(of: header.address, port: header.port).first else {
                        dropped += 1
                        continue
                    }
                    _ = try? relay.send(Array(datagram[consumed...]), to: target)
                    sent += 1
                } else if let clientEndpoint {
                    let header = SOCKS5.UDPHeader(sender.socksAddress, port: sender.port ?? 0)
                    _ = try? relay.send(header.encoded + datagram, to: clientEndpoint)
                    received += 1
                } else {
                    dropped += 1
                }
            }
        }
        proxy.log("\(peer) UDP ASSOCIATE \(bound): \(sent) datagrams out, \(received) back, \(dropped) dropped")
    }
}

extension SOCKS5.Address {
    static func ipv4OrIPv6(_ ip: IPAddress) -> SOCKS5.Address {
        switch ip {
        case .v4(let a): .ipv4(a)
        case .v6(let a): .ipv6(a)
        }
    }
}
