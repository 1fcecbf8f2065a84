import Packets

/// One end of a conversation: an address and a port.
public struct Endpoint: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `127.0.0.1.8080` for IPv4 and `::1.8080` for IPv6, as tcpdump writes them: for people.
    public var description: String { "\(address).\(port)" }

    /// `127.0.0.1:8080` and `[::1]:8080` (RFC 3986's authority form): for programs, in JSON,
    /// where tcpdump's form cannot be split safely for IPv6.
    public var machineReadable: String {
        switch address {
        case .v4: "\(address):\(port)"
        case .v6: "[\(address)]:\(port)"
        }
    }
}

/// A TCP 4-tuple without a direction: both packets of a conversation map to the same key.
struct ConversationKey: Hashable {
    var low: Endpoint
    var high: Endpoint

    init(_ a: Endpoint, _ b: Endpoint) {
        if Self.ordered(a, b) { (low, high) = (a, b) } else { (low, high) = (b, a) }
    }

    /// Looked up once per segment: fold both endpoints into three words instead of hashing
    /// each field of two enums.
    func hash(into hasher: inout Hasher) {
        let (x, y) = (low.address.rank, high.address.rank)
        hasher.combine(x.low &+ x.high &* 31 &+ UInt64(low.port) << 48)
        hasher.combine(y.low &+ y.high &* 31 &+ UInt64(high.port) << 48)
    }

    /// A total order on endpoints: IPv4 before IPv6, then by address, then by port.
    private static func ordered(_ a: Endpoint, _ b: Endpoint) -> Bool {
        let (x, y) = (a.address.rank, b.address.rank)
        return (x.family, x.high, x.low, a.port) <= (y.family, y.high, y.low, b.port)
    }
}

extension Packet {
    /// Source and destination endpoints of a TCP segment.
    var tcpEndpoints: (source: Endpoint, destination: Endpoint)? {
        guard let tcp else { return nil }
        if let ip = ipv4 {
            return (Endpoint(.v4(ip.source), tcp.sourcePort), Endpoint(.v4(ip.destination), tcp.destinationPort))
        }
        if let ip = ipv6 {
            return (Endpoint(.v6(ip.source), tcp.sourcePort), Endpoint(.v6(ip.destination), tcp.destinationPort))
        }
        return nil
    }
}

extension IPAddress {
    var rank: (family: UInt8, high: UInt64, low: UInt64) {
        switch self {
        case .v4(let address): (4, 0, UInt64(address.value))
        case .v6(let address): (6, address.high, address.low)
        }
    }
}

extension Packet {
    /// The IP datagram's length (header included): a frame's size when the caller does not
    /// know the length on the wire.
    var ipLength: Int {
        if let ip = ipv4 { return ip.totalLength }
        if let ip = ipv6 { return 40 + Int(ip.payloadLength) }
        return 0
    }
}
