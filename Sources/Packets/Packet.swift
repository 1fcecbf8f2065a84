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
/// A `Packet` holds numbers and offsets, not the frame's bytes, and is bitwise-copyable:
/// decoding a million-frame capture allocates nothing per frame. Payload bytes are read from
/// the frame by offset. Each header has its own stored slot (`ipv4`, `tcp`…), so decoding
/// writes every header once, in place; `network` and `transport` give the enum views.
public struct Packet: Hashable, Sendable, BitwiseCopyable {
    public var linkType: LinkType
    public var link: LinkHeader?
    public private(set) var ipv4: IPv4Header?
    public private(set) var ipv6: IPv6Header?
    public private(set) var tcp: TCPHeader?
    public private(set) var udp: UDPHeader?
    public private(set) var icmp: ICMPHeader?
    public private(set) var icmpv6: ICMPv6Header?
    /// A link payload that is not IP (ARP…), or an IP payload SocketLab does not decode.
    private var otherEtherType: EtherType?
    private var otherProtocol: IPProtocol?
    public var problem: DecodeError?
    /// Bytes the capture holds for this frame.
    public var capturedLength: Int

    /// The network-layer header, whichever it is.
    public var network: NetworkHeader? {
        if let ipv4 { return .ipv4(ipv4) }
        if let ipv6 { return .ipv6(ipv6) }
        return otherEtherType.map { .other($0) }
    }

    /// The transport-layer header, whichever it is.
    public var transport: TransportHeader? {
        if let tcp { return .tcp(tcp) }
        if let udp { return .udp(udp) }
        if let icmp { return .icmp(icmp) }
        if let icmpv6 { return .icmpv6(icmpv6) }
        return otherProtocol.map { .other($0) }
    }

    /// Decodes one captured frame whose first header is `linkType`'s.
    public init(decoding bytes: UnsafeRawBufferPointer, linkType: LinkType) {
        self.init()
        decode(bytes, linkType: linkType)
    }

    public init(decoding bytes: [UInt8], linkType: LinkType) {
        self.init()
        bytes.withUnsafeBytes { decode($0, linkType: linkType) }
    }

    /// A packet with nothing decoded yet, to reuse with `decode(_:linkType:)`.
    public init() {
        linkType = .ethernet
        capturedLength = 0
    }

    /// Decodes a frame into this value, replacing what it held. For a loop over millions of
    /// frames: one `Packet` reused in place is never copied.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) {
        self.linkType = linkType
        capturedLength = bytes.count
        link = nil
        ipv4 = nil
        ipv6 = nil
        tcp = nil
        udp = nil
        icmp = nil
        icmpv6 = nil
        otherEtherType = nil
        otherProtocol = nil
        problem = nil
        let view = ByteView(bytes: bytes)
        do throws(DecodeError) {
            let (link, next) = try LinkHeader.decode(view, linkType: linkType)
            self.link = link
            switch next {
            case .ipv4: try decodeIPv4(view, at: link.length)
            case .ipv6: try decodeIPv6(view, at: link.length)
            case .other(let type): otherEtherType = type
            }
        } catch {
            problem = error
        }
    }

    private mutating func decodeIPv4(_ view: ByteView, at offset: Int) throws(DecodeError) {
        ipv4 = try IPv4Header.decode(view, at: offset)
        let ip = ipv4.unsafelyUnwrapped
        guard ip.fragmentOffset == 0 else {
            otherProtocol = ip.protocol
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: !ip.moreFragments)
        try decodeTransport(view, protocol: ip.protocol, at: offset + ip.headerLength, length: ip.payloadLength, pseudo: pseudo)
    }

    private mutating func decodeIPv6(_ view: ByteView, at offset: Int) throws(DecodeError) {
        ipv6 = try IPv6Header.decode(view, at: offset)
        let ip = ipv6.unsafelyUnwrapped
        if let fragment = ip.fragment, fragment.fragmentOffset != 0 {
            otherProtocol = ip.upperProtocol
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
            tcp = try TCPHeader.decode(view, at: offset, length: length, pseudoHeader: pseudo)
            // A bad option length leaves the header usable: keep it, and say what was wrong.
            if tcp.unsafelyUnwrapped.options.isMalformed { problem = tcp.unsafelyUnwrapped.options.problem }
        case .udp:
            udp = try UDPHeader.decode(view, at: offset, ipLength: length, pseudoHeader: pseudo)
        case .icmp:
            icmp = try ICMPHeader.decode(view, at: offset, length: length, verifiable: pseudo.verifiable)
        case .icmpv6:
            icmpv6 = try ICMPv6Header.decode(view, at: offset, length: length, pseudoHeader: pseudo)
        default:
            otherProtocol = `protocol`
        }
    }
}

extension Packet {
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
