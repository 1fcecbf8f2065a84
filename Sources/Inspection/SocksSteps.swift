import Packets

/// One step of a SOCKS5 conversation (RFC 1928, RFC 1929) found in a segment's payload, in
/// the seed's eight steps: 1 the client connects, 2 asks to be let in (the greeting), 3 is
/// answered (the method, and a login when one is asked for), 4 names the host and port it
/// wants, 5 the proxy connects there (on a connection of its own), 6 reports the address it
/// bound, 7–8 the relay both ways.
public enum SocksStep: Hashable, Sendable {
    case greeting(methods: [SOCKS5.Method])
    case methodChosen(SOCKS5.Method)
    case login(username: String, passwordLength: Int)
    case loginStatus(succeeded: Bool)
    case request(SOCKS5.Command, SOCKS5.Address, port: UInt16)
    /// A request SOCKS5 has no answer for but REP 7 or REP 8: its command or address type
    /// bytes as sent.
    case unsupportedRequest(command: UInt8, addressType: UInt8)
    case reply(SOCKS5.Reply, SOCKS5.Address, port: UInt16)
    /// The bytes do not follow the protocol: what was wrong (decoding stops).
    case notSOCKS(String)

    /// The seed's step number.
    public var step: Int {
        switch self {
        case .greeting: 2
        case .methodChosen, .login, .loginStatus: 3
        case .request, .unsupportedRequest: 4
        case .reply: 6
        case .notSOCKS: 0
        }
    }

    /// The message's name for JSON (`"greeting"`, `"method"`, `"login"`, `"login_status"`,
    /// `"request"`, `"reply"`).
    public var message: String {
        switch self {
        case .greeting: "greeting"
        case .methodChosen: "method"
        case .login: "login"
        case .loginStatus: "login_status"
        case .request, .unsupportedRequest: "request"
        case .reply: "reply"
        case .notSOCKS: "not_socks"
        }
    }

    /// The sentence a student reads, in the seed's terms and the RFC's.
    public var sentence: String {
        switch self {
        case .greeting(let methods):
            return "2. The client asks to be let in (SOCKS5 greeting, RFC 1928 §3): it offers \(methods.map(\.description).joined(separator: ", "))."
        case .methodChosen(let method):
            switch method {
            case .noAcceptable: return "3. The proxy answers: no acceptable method (0xFF) — it will close the connection."
            case .usernamePassword: return "3. The proxy answers: username/password — a login follows (RFC 1929)."
            default: return "3. The proxy answers: \(method), so the client may send its request at once."
            }
        case .login(let username, let length):
            return "3. The client logs in as \(username.debugDescription) (RFC 1929, version 1); its \(length)-byte password crosses the wire in clear text, readable by anyone on the path."
        case .loginStatus(let succeeded):
            return succeeded ? "3. The proxy accepts the login (status 0)." : "3. The proxy refuses the login: RFC 1929 has it close the connection now."
        case .request(let command, let address, let port):
            let how: String
            switch address {
            case .domain: how = "domain name: the proxy resolves it"
            case .ipv4: how = "IPv4 address"
            case .ipv6: how = "IPv6 address"
            }
            return "4. The client names the host and port it wants: \(command) to \(address.text(port: port)) (\(how))."
        case .unsupportedRequest(let command, let type):
            if SOCKS5.Command(rawValue: command) == nil {
                return "4. The client asks for command \(command), which SOCKS5 does not have (1 CONNECT, 2 BIND, 3 UDP ASSOCIATE): the answer should be REP 7."
            }
            return "4. The client names an address of type \(type), which SOCKS5 does not have (1 IPv4, 3 domain name, 4 IPv6): the answer should be REP 8."
        case .reply(let reply, let address, let port):
            if reply == .succeeded {
                return "6. succeeded: the proxy's side is \(address.text(port: port)) (step 5, its own connection to the target, is on another connection); from here on it relays both ways (steps 7–8)."
            }
            return "6. \(reply) (REP \(reply.rawValue)): the proxy could not do it, and closes."
        case .notSOCKS(let why):
            return "Not SOCKS5 after all: \(why)."
        }
    }
}

/// Follows the first bytes of each direction of the connections that speak SOCKS5 — those to
/// the SOCKS ports (1080, IANA's, as tshark assumes, and any given with `--socks`) and those
/// whose first client bytes are a greeting — and reports each message in the segment that
/// completes it. Only in-order bytes are used; a gap ends the decoding of that connection.
/// Connections are forgotten once the reply is seen, so the table stays small.
struct SocksObserver {
    /// A few ports, looked through on every data segment: an array beats hashing here.
    var ports: [UInt16]

    init(ports: Set<UInt16>) { self.ports = ports.sorted() }

    struct Side {
        var next: UInt32?
        var bytes: [UInt8] = []
    }

    struct Conversation {
        var client: Endpoint
        var fromClient = Side()
        var fromProxy = Side()
        var chosen: SOCKS5.Method?
        var greetingSeen = false
        var loginDone = false
        var requestDone = false
        var statusDone = false
        var finished = false
    }

    var conversations: [ConversationKey: Conversation] = [:]
    static let maximumConversations = 10_000
    static let maximumBytes = 1024

    /// A cheap first look, on every data segment: nothing to do unless a SOCKS connection is
    /// being followed, the segment touches a SOCKS port, or it could be a greeting.
    @inline(__always)
    func mayCare(about segment: ReadPipeline.Segment, firstByte: UInt8, length: Int) -> Bool {
        !conversations.isEmpty || firstByte == SOCKS5.version && length <= 257
            || ports.contains(segment.destination.port) || ports.contains(segment.source.port)
    }

    /// The steps this segment completes (empty for almost every segment).
    mutating func observe(source: Endpoint, destination: Endpoint, seq: UInt32, payload: UnsafeRawBufferPointer) -> [SocksStep] {
        guard !payload.isEmpty else { return [] }
        let key = ConversationKey(source, destination)
        var conversation: Conversation
        if let known = conversations[key] {
            conversation = known
        } else {
            // A new one: bytes to a SOCKS port that start as a greeting does (version 5; the
            // rest may come in later pieces), or anywhere a payload that is exactly a greeting.
            // (After a conversation's reply its relayed bytes are not looked at again.)
            guard payload[0] == SOCKS5.version else { return [] }
            let greetingShaped = payload.count >= 3 && Int(payload[1]) + 2 == payload.count
            guard ports.contains(destination.port) || greetingShaped, conversations.count < Self.maximumConversations else { return [] }
            guard !ports.contains(source.port) else { return [] }  // the proxy's side first: not from the start
            conversation = Conversation(client: source)
        }
        let fromClient = source == conversation.client
        var side = fromClient ? conversation.fromClient : conversation.fromProxy
        // In order only: the part of a retransmission already seen is skipped; a gap ends it.
        let expected = side.next ?? seq
        let skip = Int(Int32(bitPattern: expected &- seq))
        if skip < 0 {
            conversations[key] = nil
            return []
        }
        if skip < payload.count, side.bytes.count < Self.maximumBytes {
            side.bytes += payload[skip..<min(payload.count, skip + Self.maximumBytes - side.bytes.count)]
        }
        side.next = expected &+ UInt32(max(0, payload.count - skip))
        if fromClient { conversation.fromClient = side } else { conversation.fromProxy = side }
        let steps = fromClient ? Self.clientSteps(&conversation) : Self.proxySteps(&conversation)
        if conversation.finished || steps.contains(where: { if case .notSOCKS = $0 { true } else { false } }) {
            conversations[key] = nil
        } else {
            conversations[key] = conversation
        }
        return steps
    }

    /// The greeting, a login, the request: each as soon as its bytes are all there.
    static func clientSteps(_ c: inout Conversation) -> [SocksStep] {
        var steps: [SocksStep] = []
        while !c.fromClient.bytes.isEmpty, !c.requestDone {
            let bytes = c.fromClient.bytes[...]
            if !c.greetingSeen {
                switch SOCKS5.Greeting.parse(bytes) {
                case .message(let greeting, let used):
                    c.fromClient.bytes.removeFirst(used)
                    c.greetingSeen = true
                    steps.append(.greeting(methods: greeting.methods))
                    continue
                case .needMore: return steps
                case .invalid(let why): return steps + [.notSOCKS(why)]
                }
            }
            if bytes.first == SOCKS5.authVersion, !c.loginDone {
                switch SOCKS5.Login.parse(bytes) {
                case .message(let login, let used):
                    c.fromClient.bytes.removeFirst(used)
                    c.loginDone = true
                    steps.append(.login(username: String(decoding: login.username, as: UTF8.self), passwordLength: login.password.count))
                    continue
                case .needMore: return steps
                case .invalid(let why): return steps + [.notSOCKS(why)]
                }
            }
            switch SOCKS5.Request.parse(bytes) {
            case .message(let request, let used):
                c.fromClient.bytes.removeFirst(used)
                c.requestDone = true
                steps.append(.request(request.command, request.address, port: request.port))
            case .needMore: return steps
            case .invalid(let why):
                // Version 5 but a command or an address type SOCKS5 lacks: still a request.
                if bytes.count >= 4, bytes[bytes.startIndex] == SOCKS5.version,
                   SOCKS5.Command(rawValue: bytes[bytes.startIndex + 1]) == nil || ![1, 3, 4].contains(bytes[bytes.startIndex + 3]) {
                    c.requestDone = true
                    steps.append(.unsupportedRequest(command: bytes[bytes.startIndex + 1], addressType: bytes[bytes.startIndex + 3]))
                    c.fromClient.bytes.removeAll()
                    return steps
                }
                return steps + [.notSOCKS(why)]
            }
        }
        if c.requestDone { c.fromClient.bytes.removeAll() }  // the relayed stream from here on
        return steps
    }

    /// The method choice, the login's status, the reply.
    static func proxySteps(_ c: inout Conversation) -> [SocksStep] {
        var steps: [SocksStep] = []
        while !c.fromProxy.bytes.isEmpty, !c.finished {
            let bytes = c.fromProxy.bytes[...]
            if c.chosen == nil {
                switch SOCKS5.MethodSelection.parse(bytes) {
                case .message(let selection, let used):
                    c.fromProxy.bytes.removeFirst(used)
                    c.chosen = selection.method
                    steps.append(.methodChosen(selection.method))
                    if selection.method == .noAcceptable { c.finished = true }
                    continue
                case .needMore: return steps
                case .invalid(let why): return steps + [.notSOCKS(why)]
                }
            }
            if c.chosen == .usernamePassword, !c.statusDone {
                switch SOCKS5.LoginStatus.parse(bytes) {
                case .message(let status, let used):
                    c.fromProxy.bytes.removeFirst(used)
                    c.statusDone = true
                    steps.append(.loginStatus(succeeded: status.succeeded))
                    if !status.succeeded { c.finished = true }
                    continue
                case .needMore: return steps
                case .invalid(let why): return steps + [.notSOCKS(why)]
                }
            }
            switch SOCKS5.ReplyMessage.parse(bytes) {
            case .message(let reply, _):
                c.finished = true
                steps.append(.reply(reply.reply, reply.address, port: reply.port))
            case .needMore: return steps
            case .invalid(let why): return steps + [.notSOCKS(why)]
            }
        }
        return steps
    }
}

extension JSONLines {
    /// `,"socks":[{"step":2,"message":"greeting","methods":[…]},…]` on a packet record.
    static func write(_ steps: [SocksStep], to out: inout OutputBuffer) {
        out.append(",\"socks\":[")
        for (index, step) in steps.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.append("{\"step\":")
            out.number(step.step)
            out.append(",\"message\":")
            out.quoted(step.message)
            switch step {
            case .greeting(let methods):
                out.append(",\"methods\":[")
                for (i, method) in methods.enumerated() {
                    if i > 0 { out.byte(UInt8(ascii: ",")) }
                    out.number(method.rawValue)
                }
                out.byte(UInt8(ascii: "]"))
            case .methodChosen(let method):
                out.append(",\"method\":")
                out.number(method.rawValue)
            case .login(let username, let length):
                out.append(",\"username\":")
                out.quoted(username)
                out.append(",\"password_length\":")
                out.number(length)
            case .loginStatus(let succeeded):
                out.append(succeeded ? ",\"succeeded\":true" : ",\"succeeded\":false")
            case .request(let command, let address, let port):
                out.append(",\"command\":")
                out.number(command.rawValue)
                out.append(",\"command_name\":")
                out.quoted(command.description)
                addressFields(address, port: port, to: &out)
            case .unsupportedRequest(let command, let type):
                out.append(",\"command\":")
                out.number(command)
                out.append(",\"address_type_code\":")
                out.number(type)
            case .reply(let reply, let address, let port):
                out.append(",\"reply\":")
                out.number(reply.rawValue)
                out.append(",\"reply_text\":")
                out.quoted(reply.description)
                addressFields(address, port: port, to: &out)
            case .notSOCKS(let why):
                out.append(",\"why\":")
                out.quoted(why)
            }
            out.byte(UInt8(ascii: "}"))
        }
        out.byte(UInt8(ascii: "]"))
    }

    private static func addressFields(_ address: SOCKS5.Address, port: UInt16, to out: inout OutputBuffer) {
        out.append(",\"address_type\":")
        out.quoted(address.typeName)
        out.append(",\"address\":")
        out.quoted(address.description)
        out.append(",\"port\":")
        out.number(port)
    }
}
