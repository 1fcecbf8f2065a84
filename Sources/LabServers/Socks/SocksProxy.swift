import ExitStatus
import Foundation
import Packets
import SocketCore
import Synchronization

/// A range of addresses in CIDR form (`10.0.0.0/8`, `::1/128`, or one address): what
/// `--allow` lets the proxy connect to.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `ADDRESS[/PREFIX]`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first else { return nil }
        let address: IPAddress
        if let v4 = IPv4Address(first) { address = .v4(v4) } else if let v6 = IPv6Address(first) { address = .v6(v6) } else { return nil }
        let bits = address.isIPv4 ? 32 : 128
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else { return nil }
        network = address
        prefixLength = prefix
    }

    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4(let net), .v4(let a)):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return net.value & mask == a.value & mask
        case (.v6(let net), .v6(let a)):
            func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << (64 - bits) }
            return net.high & mask(prefixLength) == a.high & mask(prefixLength)
                && net.low & mask(prefixLength - 64) == a.low & mask(prefixLength - 64)
        default:
            return false
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPAddress {
    var isIPv4: Bool { if case .v4 = self { true } else { false } }
    var isLoopback: Bool {
        switch self {
        case .v4(let a): a.value >> 24 == 127
        case .v6(let a): a == .loopback
        }
    }
}

extension SocketAddress {
    /// The IP part, for address checks (nil for Unix sockets).
    var ip: IPAddress? {
        switch self {
        case .ipv4(let a, _): .v4(a)
        case .ipv6(let a, _, _): .v6(a)
        case .unix: nil
        }
    }
    /// As SOCKS writes it in BND.ADDR (0.0.0.0 for the Unix addresses SOCKS has no form for).
    var socksAddress: SOCKS5.Address { ip.map(SOCKS5.Address.ipv4OrIPv6) ?? .ipv4(IPv4Address(0)) }
}

/// How the proxy runs: where it listens, who may use it, where it may connect, its limits.
public struct SocksProxyConfiguration: Sendable {
    public var listen: SocketAddress = .loopback(1080)
    /// RFC 1929 logins (username → password); nil: no authentication.
    public var logins: [String: String]?
    /// Targets allowed (empty: any).
    public var allow: [AddressRange] = []
    public var maxClients = 256
    public var idleTimeout: Duration = .seconds(300)
    /// For the greeting, the login and the request, each.
    public var handshakeTimeout: Duration = .seconds(10)
    public var connectTimeout: Duration = .seconds(10)
    /// One line per connection and per refusal; nil: quiet.
    public var log: (@Sendable (String) -> Void)?
    public init() {}
}

/// Why the proxy will not start.
public enum SocksProxyError: ExitStatusError, Sendable {
    public var exitStatus: ExitStatus { .badInput }

    /// An open proxy on a public address is abused within hours: refuse unless it
    /// authenticates or its targets are limited.
    case openProxy(SocketAddress)

    public var description: String {
        switch self {
        case .openProxy(let address):
            "refusing to listen on \(address) with no --auth and no --allow: an open proxy on a reachable address is found and abused within hours. Use --auth USER:PASS or --auth-file F, or --allow CIDR for the targets, or listen on 127.0.0.1 (the default)"
        }
    }
}

/// A SOCKS5 proxy (RFC 1928, with RFC 1929 logins): CONNECT, BIND and UDP ASSOCIATE, IPv4,
/// IPv6 and domain names, the right reply code for each failure, and a relay that passes a
/// half-close on. One thread per client: the greeting, login and request are short
/// exchanges with timeouts, and the relay then polls the two sockets with a bounded buffer
/// each way — simple to read next to the RFC, which is what a lab's reference is for.
public final class SocksProxy: Sendable {
    public let address: SocketAddress
    let configuration: SocksProxyConfiguration
    let threads: ClientThreads

    public init(_ configuration: SocksProxyConfiguration) throws {
        if let ip = configuration.listen.ip, !ip.isLoopback, configuration.logins == nil, configuration.allow.isEmpty {
            throw SocksProxyError.openProxy(configuration.listen)
        }
        self.configuration = configuration
        // Two sockets and two pipes a client; and a relay writes to sockets with splice(2),
        // which has no MSG_NOSIGNAL: a peer gone must be an EPIPE error, not SIGPIPE's death.
        Self.allowDescriptors(configuration.maxClients * 6 + 64)
        signal(SIGPIPE, SIG_IGN)
        let listener = try Socket.listening(on: configuration.listen, backlog: 512)
        address = try listener.localAddress
        let log = configuration.log
        threads = ClientThreads(listener: listener, limit: configuration.maxClients) { log?($0) }
    }

    /// Accepts clients until `stop()`, each on a thread of its own.
    public func run() {
        threads.run { client, peer, id in
            SocksConnection(proxy: self, client: client, peer: peer, id: id).serve()
        }
    }

    /// Each relayed client holds two descriptors; the soft limit is often 1,024. Raises it
    /// (up to the hard limit, which needs no privilege) so that `--max-clients` can be met.
    static func allowDescriptors(_ count: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(count) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(count))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Stops accepting (clients already relaying finish on their own).
    public func stop() { threads.stop() }

    func log(_ line: @autoclosure () -> String) {
        configuration.log?(line())
    }
}
