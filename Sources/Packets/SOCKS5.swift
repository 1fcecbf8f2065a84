import NetworkAddresses

/// SOCKS version 5 (RFC 1928) and its username/password sub-negotiation (RFC 1929): every
/// message, encoded and decoded. Decoding is incremental, as a byte stream arrives: a parse
/// says the message, how many bytes it took, that more bytes are needed, or what is wrong.
/// It lives in Packets because the proxy speaks it and the inspector reads it from captures.
public enum SOCKS5 {
    public static let version: UInt8 = 5
    /// RFC 1929 §2: the sub-negotiation has a version of its own, 1 (not 5).
    public static let authVersion: UInt8 = 1

    /// Authentication methods (RFC 1928 §3).
    public struct Method: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(_ rawValue: UInt8) { self.rawValue = rawValue }
        public static let noAuthentication = Method(0x00)
        public static let gssapi = Method(0x01)
        public static let usernamePassword = Method(0x02)
        public static let noAcceptable = Method(0xFF)
        public var description: String {
            switch rawValue {
            case 0x00: "no authentication"
            case 0x01: "GSSAPI"
            case 0x02: "username/password"
            case 0xFF: "no acceptable method"
            case 0x03...0x7F: "IANA method 0x" + hex2(rawValue)
            default: "private method 0x" + hex2(rawValue)
            }
        }
    }

    /// Request commands (RFC 1928 §4).
    public enum Command: UInt8, Sendable, CustomStringConvertible {
        case connect = 1, bind = 2, udpAssociate = 3
        public var description: String {
            switch self {
            case .connect: "CONNECT"
            case .bind: "BIND"
            case .udpAssociate: "UDP ASSOCIATE"
            }
        }
    }

    /// Reply codes (RFC 1928 §6).
    public enum Reply: UInt8, Sendable, CustomStringConvertible {
        case succeeded = 0, generalFailure, notAllowed, networkUnreachable, hostUnreachable, connectionRefused,
             ttlExpired, commandNotSupported, addressTypeNotSupported
        public var description: String {
            switch self {
            case .succeeded: "succeeded"
            case .generalFailure: "general SOCKS server failure"
            case .notAllowed: "connection not allowed by ruleset"
            case .networkUnreachable: "network unreachable"
            case .hostUnreachable: "host unreachable"
            case .connectionRefused: "connection refused"
            case .ttlExpired: "TTL expired"
            case .commandNotSupported: "command not supported"
            case .addressTypeNotSupported: "address type not supported"
            }
        }
    }

    /// DST.ADDR / BND.ADDR: ATYP 1 (IPv4), 3 (a domain name), 4 (IPv6).
    public enum Address: Hashable, Sendable, CustomStringConvertible {
        case ipv4(IPv4Address)
        case domain(String)
        case ipv6(IPv6Address)

        public var typeName: String {
            switch self {
            case .ipv4: "IPv4"
            case .domain: "domain name"
            case .ipv6: "IPv6"
            }
        }

        public var description: String {
            switch self {
            case .ipv4(let address): address.description
            case .domain(let name): name
            case .ipv6(let address): address.description
            }
        }

        /// `host:port` as a URL writes it (`[::1]:80` for IPv6).
        public func text(port: UInt16) -> String {
            if case .ipv6 = self { return "[\(self)]:\(port)" }
            return "\(self):\(port)"
        }

        var encoded: [UInt8] {
            switch self {
            case .ipv4(let address): [1] + withUnsafeBytes(of: address.value.bigEndian) { Array($0) }
            case .domain(let name):
                // A name is at most 255 bytes (one length byte); longer names are cut here and
                // refused by `Request.encoded`'s callers before they get so far.
                [3, UInt8(min(name.utf8.count, 255))] + Array(name.utf8.prefix(255))
            case .ipv6(let address): [4] + withUnsafeBytes(of: address.high.bigEndian) { Array($0) } + withUnsafeBytes(of: address.low.bigEndian) { Array($0) }
            }
        }
    }

    /// What a parse of a prefix of the stream gives.
    public enum Parse<Message> {
        case message(Message, consumed: Int)
        case needMore
        case invalid(String)
    }

    /// RFC 1928 §3: VER, NMETHODS, METHODS.
    public struct Greeting: Hashable, Sendable {
        public var methods: [Method]
        public init(methods: [Method]) { self.methods = methods }
        public var encoded: [UInt8] { [version, UInt8(methods.count)] + methods.map(\.rawValue) }

        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<Greeting> {
            guard let first = bytes.first else { return .needMore }
            guard first == version else { return .invalid("version \(first), not 5 (a SOCKS4 client, or not SOCKS at all)") }
            guard bytes.count >= 2 else { return .needMore }
            let count = Int(bytes[bytes.startIndex + 1])
            guard count > 0 else { return .invalid("the greeting offers no method") }
            guard bytes.count >= 2 + count else { return .needMore }
            let methods = bytes[(bytes.startIndex + 2)..<(bytes.startIndex + 2 + count)].map(Method.init)
            return .message(Greeting(methods: methods), consumed: 2 + count)
        }
    }

    /// RFC 1928 §3: the server's choice, VER and METHOD.
    public struct MethodSelection: Hashable, Sendable {
        public var method: Method
        public init(_ method: Method) { self.method = method }
        public var encoded: [UInt8] { [version, method.rawValue] }

        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<MethodSelection> {
            guard bytes.count >= 2 else { return bytes.first.map { $0 == version ? .needMore : .invalid("version \($0), not 5") } ?? .needMore }
            guard bytes[bytes.startIndex] == version else { return .invalid("version \(bytes[bytes.startIndex]), not 5") }
            return .message(MethodSelection(Method(bytes[bytes.startIndex + 1])), consumed: 2)
        }
    }

    /// RFC 1929 §2: VER (1), ULEN, UNAME, PLEN, PASSWD.
    public struct Login: Hashable, Sendable {
        public var username: [UInt8]
        public var password: [UInt8]
        public init(username: [UInt8], password: [UInt8]) {
            self.username = username
            self.password = password
        }
        public var encoded: [UInt8] {
            [authVersion, UInt8(min(username.count, 255))] + username.prefix(255) + [UInt8(min(password.count, 255))] + password.prefix(255)
        }

        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<Login> {
            guard let first = bytes.first else { return .needMore }
            guard first == authVersion else {
                return .invalid("the username/password sub-negotiation has version \(first); RFC 1929 says 1")
            }
            let start = bytes.startIndex
            guard bytes.count >= 2 else { return .needMore }
            let userLength = Int(bytes[start + 1])
            guard bytes.count >= 3 + userLength else { return .needMore }
            let passwordLength = Int(bytes[start + 2 + userLength])
            guard bytes.count >= 3 + userLength + passwordLength else { return .needMore }
            let username = Array(bytes[(start + 2)..<(start + 2 + userLength)])
            let password = Array(bytes[(start + 3 + userLength)..<(start + 3 + userLength + passwordLength)])
            return .message(Login(username: username, password: password), consumed: 3 + userLength + passwordLength)
        }
    }

    /// RFC 1929 §2: the server's verdict, VER (1) and STATUS (0 is success).
    public struct LoginStatus: Hashable, Sendable {
        public var succeeded: Bool
        public init(succeeded: Bool) { self.succeeded = succeeded }
        public var encoded: [UInt8] { [authVersion, succeeded ? 0 : 1] }

        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<LoginStatus> {
            guard bytes.count >= 2 else { return .needMore }
            // Accept 5 as the version too: several proxies send it, against RFC 1929.
            return .message(LoginStatus(succeeded: bytes[bytes.startIndex + 1] == 0), consumed: 2)
        }
    }

    /// Parses ATYP, the address and the port at the start of `bytes`.
    static func parseAddress(_ bytes: ArraySlice<UInt8>) -> Parse<(Address, UInt16)> {
        guard let type = bytes.first else { return .needMore }
        let start = bytes.startIndex
        let length: Int
        switch type {
        case 1: length = 1 + 4 + 2
        case 4: length = 1 + 16 + 2
        case 3:
            guard bytes.count >= 2 else { return .needMore }
            length = 2 + Int(bytes[start + 1]) + 2
        default: return .invalid("address type \(type) (SOCKS5 has 1 IPv4, 3 domain name, 4 IPv6)")
        }
        guard bytes.count >= length else { return .needMore }
        func be(_ at: Int, _ count: Int) -> UInt64 { bytes[(start + at)..<(start + at + count)].reduce(0) { $0 << 8 | UInt64($1) } }
        let address: Address
        switch type {
        case 1: address = .ipv4(IPv4Address(UInt32(be(1, 4))))
        case 4: address = .ipv6(IPv6Address(high: be(1, 8), low: be(9, 8)))
        default:
            let name = bytes[(start + 2)..<(start + length - 2)]
            guard !name.isEmpty else { return .invalid("an empty domain name") }
            address = .domain(String(decoding: name, as: UTF8.self))
        }
        return .message((address, UInt16(be(length - 2, 2))), consumed: length)
    }

    /// A request or a reply: VER, a code, RSV, then the address and port.
    static func parseAddressed<Code, Message>(
        _ bytes: ArraySlice<UInt8>, code: (UInt8) -> Code?, codeName: String, _ make: (Code, Address, UInt16) -> Message
    ) -> Parse<Message> {
        guard let first = bytes.first else { return .needMore }
        guard first == version else { return .invalid("version \(first), not 5") }
        guard bytes.count >= 4 else { return .needMore }
        let start = bytes.startIndex
        guard let value = code(bytes[start + 1]) else { return .invalid("\(codeName) \(bytes[start + 1])") }
        switch parseAddress(bytes[(start + 3)...]) {
        case .needMore: return .needMore
        case .invalid(let why): return .invalid(why)
        case .message(let (address, port), let consumed): return .message(make(value, address, port), consumed: 3 + consumed)
        }
    }

    /// RFC 1928 §4: VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT.
    public struct Request: Hashable, Sendable {
        public var command: Command
        public var address: Address
        public var port: UInt16
        public init(_ command: Command, _ address: Address, port: UInt16) {
            self.command = command
            self.address = address
            self.port = port
        }
        public var encoded: [UInt8] { [version, command.rawValue, 0] + address.encoded + [UInt8(port >> 8), UInt8(port & 0xFF)] }

        /// The command byte too is checked: an unknown one is `.invalid` with the byte, so a
        /// server can answer REP 7; an unknown address type likewise (REP 8).
        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<Request> {
            parseAddressed(bytes, code: Command.init(rawValue:), codeName: "command") { Request($0, $1, port: $2) }
        }
    }

    /// RFC 1928 §6: VER, REP, RSV, ATYP, BND.ADDR, BND.PORT.
    public struct ReplyMessage: Hashable, Sendable {
        public var reply: Reply
        public var address: Address
        public var port: UInt16
        public init(_ reply: Reply, _ address: Address = .ipv4(IPv4Address(0)), port: UInt16 = 0) {
            self.reply = reply
            self.address = address
            self.port = port
        }
        public var encoded: [UInt8] { [version, reply.rawValue, 0] + address.encoded + [UInt8(port >> 8), UInt8(port & 0xFF)] }

        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<ReplyMessage> {
            parseAddressed(bytes, code: Reply.init(rawValue:), codeName: "reply code") { ReplyMessage($0, $1, port: $2) }
        }
    }

    /// RFC 1928 §7: the header before each UDP datagram relayed: RSV (2), FRAG, ATYP,
    /// DST.ADDR, DST.PORT, then the data.
    public struct UDPHeader: Hashable, Sendable {
        public var fragment: UInt8
        public var address: Address
        public var port: UInt16
        public init(fragment: UInt8 = 0, _ address: Address, port: UInt16) {
            self.fragment = fragment
            self.address = address
            self.port = port
        }
        public var encoded: [UInt8] { [0, 0, fragment] + address.encoded + [UInt8(port >> 8), UInt8(port & 0xFF)] }

        /// The header and where the data starts (a datagram is whole: no `.needMore`).
        public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse<UDPHeader> {
            guard bytes.count >= 4 else { return .invalid("a datagram of \(bytes.count) bytes, shorter than the SOCKS UDP header") }
            let start = bytes.startIndex
            switch parseAddress(bytes[(start + 3)...]) {
            case .needMore: return .invalid("a datagram cut inside its SOCKS UDP header")
            case .invalid(let why): return .invalid(why)
            case .message(let (address, port), let consumed):
                return .message(UDPHeader(fragment: bytes[start + 2], address, port: port), consumed: 3 + consumed)
            }
        }
    }
}
