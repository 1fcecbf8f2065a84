/// The network-layer header of a frame.
public enum NetworkHeader: Hashable, Sendable, BitwiseCopyable {
    case ipv4(IPv4Header)
    case ipv6(IPv6Header)
    /// Something else the link layer carries (ARP, LLDP…): only its EtherType.
    case other(EtherType)
}

/// The transport-layer header of a frame.
public enum TransportHeader: Hashable, Sendable, BitwiseCopyable {
    case tcp(TCPHeader)
    case udp(UDPHeader)
    case icmp(ICMPHeader)
    case icmpv6(ICMPv6Header)
    /// A protocol SocketLab does not decode, or a non-first IP fragment.
    case other(IPProtocol)
}

/// One frame decoded as far as it goes: link, network and transport headers, and the first
/// problem met. Decoding never traps and never throws: a header that is short or inconsistent
/// sets `problem` (naming the layer and the byte) and leaves every layer before it in place.
///
/// A `Packet` holds numbers and offsets, not the frame's bytes: decoding a million-frame
/// capture allocates nothing per frame. Payload bytes are read from the frame by offset.
public struct Packet: Hashable, Sendable, BitwiseCopyable {
    public var linkType: LinkType
    public var link: LinkHeader?
    public var network: NetworkHeader?
    public var transport: TransportHeader?
    public var problem: DecodeError?
    /// Bytes the capture holds for this frame.
    public var capturedLength: Int

    /// Decodes one captured frame whose first header is `linkType`'s.
    public init(decoding bytes: UnsafeRawBufferPointer, linkType: LinkType) {
        self.init()
        decode(bytes, linkType: linkType)
    }

    /// A packet with nothing decoded yet, to reuse with `decode(_:linkType:)`.
    public init() {
        linkType = .ethernet
        capturedLength = 0
    }

    /// Decodes a frame into this value, replacing what it held. For a loop over millions of
    /// frames: one `Packet` reused in place is never copied, where returning a new one each
    /// time costs a few hundred bytes of copying per frame.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) {
        self.linkType = linkType
        capturedLength = bytes.count
        link = nil
        network = nil
        transport = nil
        problem = nil
        let view = ByteView(bytes: bytes)
        do throws(DecodeError) {
            let (link, next) = try LinkHeader.decode(view, linkType: linkType)
            self.link = link
            switch next {
            case .ipv4: try decodeIPv4(view, at: link.length)
            case .ipv6: try decodeIPv6(view, at: link.length)
            case .other(let type): network = .other(type)
            }
        } catch {
            problem = error
        }
    }

    public init(decoding bytes: [UInt8], linkType: LinkType) {
        self = bytes.withUnsafeBytes { Packet(decoding: $0, linkType: linkType) }
    }

    private mutating func decodeIPv4(_ view: ByteView, at offset: Int) throws(DecodeError) {
        let ip = try IPv4Header.decode(view, at: offset)
        network = .ipv4(ip)
        let start = offset + ip.headerLength
        guard ip.fragmentOffset == 0 else {
            transport = .other(ip.protocol)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: !ip.moreFragments)
        try decodeTransport(view, protocol: ip.protocol, at: start, length: ip.payloadLength, pseudo: pseudo)
    }

    private mutating func decodeIPv6(_ view: ByteView, at offset: Int) throws(DecodeError) {
        let ip = try IPv6Header.decode(view, at: offset)
        network = .ipv6(ip)
        if let fragment = ip.fragment, fragment.fragmentOffset != 0 {
            transport = .other(ip.upperProtocol)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: !ip.isFragment)
        try decodeTransport(view, protocol: ip.upperProtocol, at: ip.upperOffset, length: ip.upperLength, pseudo: pseudo)
    }

    private mutating func decodeTransport(
        _ view: ByteView, protocol: IPProtocol, at offset: Int, length: Int, pseudo: PseudoHeader
    ) throws(DecodeError) {
        switch `protocol` {
        case .tcp:
            let tcp = try TCPHeader.decode(view, at: offset, length: length, pseudoHeader: pseudo)
            transport = .tcp(tcp)
            // A bad option length leaves the header usable: keep it, and say what was wrong.
            if tcp.options.isMalformed { problem = tcp.options.problem }
        case .udp:
            transport = .udp(try UDPHeader.decode(view, at: offset, ipLength: length, pseudoHeader: pseudo))
        case .icmp:
            transport = .icmp(try ICMPHeader.decode(view, at: offset, length: length, verifiable: pseudo.verifiable))
        case .icmpv6:
            transport = .icmpv6(try ICMPv6Header.decode(view, at: offset, length: length, pseudoHeader: pseudo))
        default:
            transport = .other(`protocol`)
        }
    }
}

extension Packet {
    public var ipv4: IPv4Header? { if case .ipv4(let ip) = network { ip } else { nil } }
    public var ipv6: IPv6Header? { if case .ipv6(let ip) = network { ip } else { nil } }
    public var tcp: TCPHeader? { if case .tcp(let tcp) = transport { tcp } else { nil } }
    public var udp: UDPHeader? { if case .udp(let udp) = transport { udp } else { nil } }
    public var icmp: ICMPHeader? { if case .icmp(let icmp) = transport { icmp } else { nil } }
    public var icmpv6: ICMPv6Header? { if case .icmpv6(let icmp) = transport { icmp } else { nil } }

    /// Source and destination addresses as text, whichever IP version.
    public var sourceAddress: String? {
        switch network {
        case .ipv4(let ip): ip.source.description
        case .ipv6(let ip): ip.source.description
        default: nil
        }
    }
    public var destinationAddress: String? {
        switch network {
        case .ipv4(let ip): ip.destination.description
        case .ipv6(let ip): ip.destination.description
        default: nil
        }
    }
    /// TTL (IPv4) or hop limit (IPv6).
    public var hopLimit: UInt8? {
        switch network {
        case .ipv4(let ip): ip.ttl
        case .ipv6(let ip): ip.hopLimit
        default: nil
        }
    }
}
