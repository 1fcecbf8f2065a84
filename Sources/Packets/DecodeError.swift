/// Why a packet could not be decoded further: which layer, at which byte of the frame, and what
/// was wrong. Decoding never traps; it stops at the first inconsistency and keeps every layer
/// decoded before it (see `Packet.problem`).
public struct DecodeError: Error, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var layer: Layer
    /// Byte offset from the start of the captured frame where the bad field or header begins.
    public var offset: Int
    public var problem: Problem

    public init(_ layer: Layer, at offset: Int, _ problem: Problem) {
        self.layer = layer
        self.offset = offset
        self.problem = problem
    }

    public enum Layer: String, Hashable, Sendable, BitwiseCopyable {
        case link = "link layer", ethernet = "Ethernet", vlan = "802.1Q VLAN tag"
        case llc = "802.2 LLC", pppoe = "PPPoE", mpls = "MPLS label"
        case gre = "GRE", vxlan = "VXLAN", geneve = "Geneve", erspan = "ERSPAN"
        case linuxCooked = "Linux cooked (SLL)", linuxCooked2 = "Linux cooked v2 (SLL2)"
        case null = "BSD loopback", ipv4 = "IPv4", ipv4Options = "IPv4 options", ipv6 = "IPv6"
        case ipv6Extension = "IPv6 extension header", tcp = "TCP", tcpOptions = "TCP options"
        case udp = "UDP", icmp = "ICMP", icmpv6 = "ICMPv6"
    }

    /// What was wrong. Plain numbers only, so a `Packet` holding one stays bitwise-copyable.
    public enum Problem: Hashable, Sendable, BitwiseCopyable {
        /// The header needs `needed` bytes from its start; the capture holds only `available`.
        case truncated(needed: Int, available: Int)
        /// The version nibble is not the one the link layer announced.
        case wrongVersion(expected: Int, found: Int)
        /// A length field that cannot be right: its value, and the limit it broke.
        case badLength(Field, value: Int, limit: Int)
        /// A link type this decoder does not know (the number libpcap reports).
        case unsupportedLinkType(Int32)
    }

    /// The length fields decoding checks, each with the rule a student can look up.
    public enum Field: Hashable, Sendable, BitwiseCopyable {
        case ipv4HeaderLength, ipv4TotalLength, ipv6ExtensionLength, tcpDataOffset, udpLength
        /// The IP length claims more bytes than the wire held (not a snaplen cut: the frame's
        /// original length is shorter too). The payload is what is there.
        case ipv4TotalLengthPastFrame, ipv6PayloadLengthPastFrame
        /// A TCP option's length byte is below 2, runs past the header, or is not the fixed
        /// size its kind has.
        case tcpOptionTooShort(kind: UInt8), tcpOptionPastEnd(kind: UInt8), tcpOptionWrongSize(kind: UInt8)
    }

    public var description: String {
        let what: String
        switch problem {
        case .truncated(let needed, let available):
            what = "needs \(needed) bytes, only \(available) captured (a short packet or a small snaplen)"
        case .wrongVersion(let expected, let found):
            what = "version field is \(found), expected \(expected)"
        case .badLength(let field, let value, let limit):
            what = Self.explain(field, value: value, limit: limit)
        case .unsupportedLinkType(let dlt):
            what = "link type \(LinkType(dlt)) (\(dlt)) is not one SocketLab decodes (it reads Ethernet, Linux cooked SLL and SLL2, BSD loopback, raw IP, PPP and PPPoE, Cisco HDLC, pflog, NFLOG, Juniper Ethernet and IP over InfiniBand)"
        }
        return "\(layer.rawValue) at byte \(offset): \(what)"
    }

    private static func explain(_ field: Field, value: Int, limit: Int) -> String {
        switch field {
        case .ipv4HeaderLength:
            "IHL is \(value): the header is at least 5 words (20 bytes)"
        case .ipv4TotalLength:
            "total length is \(value): smaller than the \(limit)-byte header"
        case .ipv4TotalLengthPastFrame:
            "total length is \(value), but the frame held only \(limit) bytes from the IPv4 header on: the payload is what is there"
        case .ipv6PayloadLengthPastFrame:
            "payload length is \(value), but the frame held only \(limit) bytes after the IPv6 header: the payload is what is there"
        case .ipv6ExtensionLength:
            "header extension length is \(value): runs past the IPv6 payload length \(limit)"
        case .tcpDataOffset:
            value < 5
                ? "data offset is \(value): the header is at least 5 words (20 bytes)"
                : "data offset is \(value): the \(value * 4)-byte header is longer than the \(limit)-byte segment"
        case .udpLength:
            value < 8
                ? "length is \(value): it counts the 8-byte header, so at least 8"
                : "length is \(value): longer than the \(limit) bytes the IP header leaves for UDP"
        case .tcpOptionTooShort(let kind):
            "length of option kind \(kind) is \(value): an option's length counts its kind and length bytes, so at least 2"
        case .tcpOptionPastEnd(let kind):
            "length of option kind \(kind) is \(value): runs past the end of the TCP header"
        case .tcpOptionWrongSize(let kind):
            "length of option kind \(kind) is \(value): that option has a fixed size"
        }
    }
}
