#if canImport(Glibc)
import Glibc
#endif

/// The three address families a lab uses: `AF_INET`, `AF_INET6`, `AF_UNIX`.
public enum AddressFamily: Sendable, Hashable, CustomStringConvertible {
    case ipv4, ipv6, unix

    public var rawValue: Int32 {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }
    public var description: String {
        switch self {
        case .ipv4: return "AF_INET"
        case .ipv6: return "AF_INET6"
        case .unix: return "AF_UNIX"
        }
    }
}

/// Where a Unix-domain socket lives.
public enum UnixPath: Hashable, Sendable {
    /// A file in the file system, e.g. `/tmp/chat.sock`; `ls -l` shows it with type `s`.
    case path(String)
    /// A Linux abstract name: no file, gone when the last socket closes. Written `@name`.
    case abstract(String)
    /// No name at all: the client side of a connection, or either end of a socketpair.
    case unnamed
}

/// A socket address — the Swift face of `struct sockaddr_in`, `sockaddr_in6` and `sockaddr_un`.
///
/// It parses and prints the way people write addresses: `127.0.0.1:9000`, `[::1]:9000`,
/// `[fe80::1%eth0]:22`, `unix:/tmp/chat.sock`, `unix:@abstract`.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4Address, port: UInt16)
    case ipv6(IPv6Address, port: UInt16, scopeID: UInt32)
    case unix(UnixPath)

    /// The longest Unix path `sockaddr_un.sun_path` holds, without its terminating NUL.
    public static let maxUnixPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    public static func ipv4(_ address: IPv4Address, _ port: UInt16) -> SocketAddress { .ipv4(address, port: port) }
    public static func ipv6(_ address: IPv6Address, _ port: UInt16) -> SocketAddress { .ipv6(address, port: port, scopeID: 0) }
    /// 127.0.0.1 or ::1 with a port.
    public static func loopback(_ port: UInt16, family: AddressFamily = .ipv4) -> SocketAddress {
        family == .ipv6 ? .ipv6(.loopback, port) : .ipv4(.loopback, port)
    }
    /// 0.0.0.0 or :: with a port — "every address of this machine", what a server binds.
    public static func any(_ port: UInt16, family: AddressFamily = .ipv4) -> SocketAddress {
        family == .ipv6 ? .ipv6(.any, port) : .ipv4(.any, port)
    }

    public var family: AddressFamily {
        switch self {
        case .ipv4: return .ipv4
        case .ipv6: return .ipv6
        case .unix: return .unix
        }
    }

    /// The port of an IP address; nil for Unix addresses.
    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _): return port
        case .unix: return nil
        }
    }

    /// The same address with another port (e.g. the one the kernel picked for port 0).
    public func with(port: UInt16) -> SocketAddress {
        switch self {
        case .ipv4(let ip, _): return .ipv4(ip, port: port)
        case .ipv6(let ip, _, let scope): return .ipv6(ip, port: port, scopeID: scope)
        case .unix: return self
        }
    }

    /// The host part as text, without port or brackets: `127.0.0.1`, `::1`, `fe80::1%eth0`.
    public var host: String {
        switch self {
        case .ipv4(let ip, _): return ip.description
        case .ipv6(let ip, _, let scope): return ip.description + Self.zone(scope)
        case .unix(let path): return Self.text(path)
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let ip, let port): return "\(ip):\(port)"
        case .ipv6(let ip, let port, let scope): return "[\(ip)\(Self.zone(scope))]:\(port)"
        case .unix(let path): return "unix:" + Self.text(path)
        }
    }

    private static func text(_ path: UnixPath) -> String {
        switch path {
        case .path(let path): return path
        case .abstract(let name): return "@" + name
        case .unnamed: return "(unnamed)"
        }
    }

    private static func zone(_ scope: UInt32) -> String {
        guard scope != 0 else { return "" }
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        if if_indextoname(scope, &name) != nil { return "%" + String(cBuffer: name) }
        return "%\(scope)"
    }
}

// MARK: - Parsing text

extension SocketAddress {
    /// Parses a numeric address: `1.2.3.4:80`, `[::1]:80`, `[fe80::1%lo]:80`, `unix:/path`,
    /// `unix:@name`. Host names need a lookup: use `resolve(_:)` for those.
    public init(_ text: String) throws(SocketError) {
        if text.hasPrefix("unix:") {
            self = try .unix(path: String(text.dropFirst(5)), input: text)
            return
        }
        let (host, port) = try Self.splitHostPort(text)
        guard let address = try Self.numericHost(host, port: port, input: text) else {
            throw .badAddress(input: text, reason: "\"\(host)\" is not a numeric IP address such as 127.0.0.1 or [::1]")
        }
        self = address
    }

    /// A Unix-domain address; a leading `@` makes it a Linux abstract name.
    public static func unix(path: String) throws(SocketError) -> SocketAddress {
        try unix(path: path, input: "unix:" + path)
    }

    private static func unix(path: String, input: String) throws(SocketError) -> SocketAddress {
        guard !path.isEmpty, path != "@" else {
            throw .badAddress(input: input, reason: "empty Unix socket path")
        }
        guard path.utf8.count <= maxUnixPathLength else {
            throw .badAddress(input: input, reason: "Unix socket path is \(path.utf8.count) bytes, \(path.utf8.count - maxUnixPathLength) too many: sun_path holds at most \(maxUnixPathLength) and the NUL")
        }
        if path.hasPrefix("@") { return .unix(.abstract(String(path.dropFirst()))) }
        return .unix(.path(path))
    }

    /// Splits `host:port` / `[v6]:port` and checks the port; the host is returned unchecked.
    static func splitHostPort(_ text: String) throws(SocketError) -> (host: String, port: UInt16) {
        guard !text.isEmpty else { throw .badAddress(input: text, reason: "empty address") }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .badAddress(input: text, reason: "missing ']' after the IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw .badAddress(input: text, reason: "missing port: write [\(host)]:PORT")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .badAddress(input: text, reason: "missing port: write \(text):PORT, e.g. 127.0.0.1:9000")
            }
            host = text[..<colon]
            if host.contains(":") {
                throw .badAddress(input: text, reason: "an IPv6 address with a port needs brackets: [\(host)]:\(text[text.index(after: colon)...])")
            }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .badAddress(input: text, reason: "missing host before the port") }
        return (String(host), try parsePort(portText, input: text))
    }

    /// A port number: decimal digits, 0 to 65535.
    public static func parsePort(_ text: some StringProtocol, input: String? = nil) throws(SocketError) -> UInt16 {
        let input = input ?? String(text)
        guard !text.isEmpty else { throw .badAddress(input: input, reason: "missing port number") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .badAddress(input: input, reason: "port \"\(text)\" is not a number")
        }
        guard text.count <= 5, let value = Int(text), value <= Int(UInt16.max) else {
            throw .badAddress(input: input, reason: "port \(text) is out of range 0–65535")
        }
        return UInt16(value)
    }

    /// nil when `host` is not numeric; throws when it looks numeric but is wrong.
    private static func numericHost(_ host: String, port: UInt16, input: String) throws(SocketError) -> SocketAddress? {
        if host.contains(":") {
            var literal = Substring(host), scope: UInt32 = 0
            if let percent = host.firstIndex(of: "%") {
                literal = host[..<percent]
                let zone = String(host[host.index(after: percent)...])
                if let number = UInt32(zone) {
                    scope = number
                } else {
                    scope = if_nametoindex(zone)
                    guard scope != 0 else {
                        throw .badAddress(input: input, reason: "no network interface named \"\(zone)\" (see `ip link`)")
                    }
                }
            }
            guard let ip = IPv6Address(String(literal)) else {
                throw .badAddress(input: input, reason: "\"\(literal)\" is not an IPv6 address")
            }
            return .ipv6(ip, port: port, scopeID: scope)
        }
        if let ip = IPv4Address(host) { return .ipv4(ip, port: port) }
        if host.allSatisfy({ $0.isNumber || $0 == "." }) {
            throw .badAddress(input: input, reason: "\"\(host)\" is not an IPv4 address (four numbers 0–255, e.g. 127.0.0.1)")
        }
        return nil
    }
}

// MARK: - Name resolution

extension SocketAddress {
    /// `getaddrinfo(3)`: every address of `host:port`, IPv4 and IPv6, in the resolver's order
    /// (which is the order a client should try them in). A numeric address needs no lookup.
    public static func resolve(_ text: String, type: SocketType = .stream) throws(SocketError) -> [SocketAddress] {
        if text.hasPrefix("unix:") { return [try SocketAddress(text)] }
        let (host, port) = try splitHostPort(text)
        return try resolve(host: host, port: port, type: type)
    }

    /// `getaddrinfo(3)` for a host name and a port.
    public static func resolve(host: String, port: UInt16, type: SocketType = .stream) throws(SocketError) -> [SocketAddress] {
        let input = "\(host):\(port)"
        if let numeric = try numericHost(host, port: port, input: input) { return [numeric] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = type.rawValue
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            throw .resolution(host: host, code: code, message: String(cString: gai_strerror(code)))
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var node = list
        while let info = node?.pointee {
            if let address = SocketAddress(info.ai_addr, length: info.ai_addrlen), !found.contains(address) {
                found.append(address)
            }
            node = info.ai_next
        }
        guard !found.isEmpty else {
            throw .resolution(host: host, code: EAI_NONAME, message: "no addresses")
        }
        return found
    }
}

// MARK: - sockaddr conversion

extension SocketAddress {
    /// Reads a `struct sockaddr` the kernel filled in (accept, recvfrom, getsockname…).
    package init?(_ raw: UnsafePointer<sockaddr>?, length: socklen_t) {
        guard let raw else { return nil }
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
            self = .ipv4(IPv4Address(sin.sin_addr), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
            self = .ipv6(IPv6Address(sin6.sin6_addr), port: UInt16(bigEndian: sin6.sin6_port), scopeID: sin6.sin6_scope_id)
        case AF_UNIX:
            let header = MemoryLayout<sa_family_t>.size
            let count = Int(length) - header
            guard count > 0 else {
                self = .unix(.unnamed)
                return
            }
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(raw) + header, count: count)
            if bytes[0] == 0 {
                self = .unix(.abstract(String(decoding: bytes.dropFirst(), as: UTF8.self)))
            } else {
                let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
                self = .unix(.path(String(decoding: bytes[..<end], as: UTF8.self)))
            }
        default:
            return nil
        }
    }

    init?(storage: sockaddr_storage, length: socklen_t) {
        var storage = storage
        let address = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        guard let address else { return nil }
        self = address
    }

    /// Lends the address to a C call as `(const struct sockaddr *, socklen_t)`.
    func withSockAddr<Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var storage = sockaddr_storage()
        let length: socklen_t = withUnsafeMutableBytes(of: &storage) { raw in
            switch self {
            case .ipv4(let ip, let port):
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                sin.sin_addr = ip.inAddr
                raw.storeBytes(of: sin, as: sockaddr_in.self)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            case .ipv6(let ip, let port, let scope):
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                sin6.sin6_addr = ip.in6Addr
                sin6.sin6_scope_id = scope
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            case .unix(let path):
                raw.storeBytes(of: sa_family_t(AF_UNIX), as: sa_family_t.self)
                let header = MemoryLayout<sa_family_t>.size
                let name: [UInt8]
                switch path {
                case .path(let text): name = Array(text.utf8) + [0]
                case .abstract(let text): name = [0] + Array(text.utf8)  // no NUL: the length says where it ends
                case .unnamed: name = []
                }
                let count = min(name.count, MemoryLayout<sockaddr_un>.size - header)
                for i in 0..<count { raw[header + i] = name[i] }
                return socklen_t(header + count)
            }
        }
        return try withUnsafePointer(to: &storage) { (pointer) throws(Failure) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(Failure) -> Result in
                try body(address, length)
            }
        }
    }
}
