/// Why a packet could not be decoded further: which layer, at which byte of the frame, and what
/// was wrong. Decoding never traps; it stops at the first inconsistency and keeps every layer
/// decoded before it (see `Packet.problem`).
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var layer: Layer
    /// Byte offset from the start of the captured frame where the bad field or header begins.
    public var offset: Int
    public var problem: Problem

    public init(_ layer: Layer, at offset: Int, _ problem: Problem) {
        self.layer = layer
        self.offset = offset
        self.problem = problem
    }

    public enum Layer: String, Hashable, Sendable {
        case link = "link layer", ethernet = "Ethernet", vlan = "802.1Q VLAN tag"
        case linuxCooked = "Linux cooked (SLL)", linuxCooked2 = "Linux cooked v2 (SLL2)"
        case null = "BSD loopback", ipv4 = "IPv4", ipv4Options = "IPv4 options", ipv6 = "IPv6"
        case ipv6Extension = "IPv6 extension header", tcp = "TCP", tcpOptions = "TCP options"
        case udp = "UDP", icmp = "ICMP", icmpv6 = "ICMPv6"
    }

    public enum Problem: Hashable, Sendable {
        /// The header needs `needed` bytes from its start; the capture holds only `available`.
        case truncated(needed: Int, available: Int)
        /// The version nibble is not the one the link layer announced.
        case wrongVersion(expected: Int, found: Int)
        /// A length field (IHL, data offset, option length…) that cannot be right.
        case badLength(field: String, value: Int, reason: String)
        /// A link type this decoder does not know (the number libpcap reports).
        case unsupportedLinkType(Int32)
    }

    public var description: String {
        let what: String
        switch problem {
        case .truncated(let needed, let available):
            what = "needs \(needed) bytes, only \(available) captured (a short packet or a small snaplen)"
        case .wrongVersion(let expected, let found):
            what = "version field is \(found), expected \(expected)"
        case .badLength(let field, let value, let reason):
            what = "\(field) is \(value): \(reason)"
        case .unsupportedLinkType(let dlt):
            what = "link type \(dlt) is not one SocketLab decodes (Ethernet, Linux cooked, loopback, raw IP)"
        }
        return "\(layer.rawValue) at byte \(offset): \(what)"
    }
}
