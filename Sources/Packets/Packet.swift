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
    public var problem: DecodeError?
    /// Bytes the capture holds for this frame.
    public var capturedLength: Int

    // Each header has a slot that holds the last value written; `present` says which slots
    // this frame filled. Starting a new frame is one store to `present`, where setting nine
    // optionals to nil would rewrite several hundred bytes per frame.
    // (@usableFromInline and @inlinable: reading a header from another module must not copy
    // the whole packet to call an accessor.)
    @usableFromInline struct Layers: OptionSet, Hashable, Sendable, BitwiseCopyable {
        @usableFromInline var rawValue: UInt16
        @inlinable init(rawValue: UInt16) { self.rawValue = rawValue }
        @inlinable static var link: Layers { Layers(rawValue: 1) }
        @inlinable static var ipv4: Layers { Layers(rawValue: 2) }
        @inlinable static var ipv6: Layers { Layers(rawValue: 4) }
        @inlinable static var tcp: Layers { Layers(rawValue: 8) }
        @inlinable static var udp: Layers { Layers(rawValue: 16) }
        @inlinable static var icmp: Layers { Layers(rawValue: 32) }
        @inlinable static var icmpv6: Layers { Layers(rawValue: 64) }
        @inlinable static var otherNetwork: Layers { Layers(rawValue: 128) }
        @inlinable static var otherTransport: Layers { Layers(rawValue: 256) }
    }
    @usableFromInline var present: Layers = []
    @usableFromInline var linkSlot = LinkHeader.raw
    @usableFromInline var ipv4Slot = IPv4Header.blank
    @usableFromInline var ipv6Slot = IPv6Header.blank
    @usableFromInline var tcpSlot = TCPHeader.blank
    @usableFromInline var udpSlot = UDPHeader.blank
    @usableFromInline var icmpSlot = ICMPHeader.blank
    @usableFromInline var icmpv6Slot = ICMPv6Header.blank
    private var otherEtherType = EtherType(0)
    private var otherProtocol = IPProtocol(0)

    @inlinable public var link: LinkHeader? { present.contains(.link) ? linkSlot : nil }
    @inlinable public var ipv4: IPv4Header? { present.contains(.ipv4) ? ipv4Slot : nil }
    @inlinable public var ipv6: IPv6Header? { present.contains(.ipv6) ? ipv6Slot : nil }
    @inlinable public var tcp: TCPHeader? { present.contains(.tcp) ? tcpSlot : nil }
    @inlinable public var udp: UDPHeader? { present.contains(.udp) ? udpSlot : nil }
    @inlinable public var icmp: ICMPHeader? { present.contains(.icmp) ? icmpSlot : nil }
    @inlinable public var icmpv6: ICMPv6Header? { present.contains(.icmpv6) ? icmpv6Slot : nil }

    /// Equal when the same layers were decoded to the same values (stale slots do not count).
    public static func == (a: Packet, b: Packet) -> Bool {
        a.linkType == b.linkType && a.problem == b.problem && a.capturedLength == b.capturedLength
            && a.link == b.link && a.network == b.network && a.transport == b.transport
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(linkType)
        hasher.combine(capturedLength)
        hasher.combine(network)
        hasher.combine(transport)
    }

    /// The network-layer header, whichever it is.
    public var network: NetworkHeader? {
        if present.contains(.ipv4) { return .ipv4(ipv4Slot) }
        if present.contains(.ipv6) { return .ipv6(ipv6Slot) }
        return present.contains(.otherNetwork) ? .other(otherEtherType) : nil
    }

    /// The transport-layer header, whichever it is.
    public var transport: TransportHeader? {
        if present.contains(.tcp) { return .tcp(tcpSlot) }
        if present.contains(.udp) { return .udp(udpSlot) }
        if present.contains(.icmp) { return .icmp(icmpSlot) }
        if present.contains(.icmpv6) { return .icmpv6(icmpv6Slot) }
        return present.contains(.otherTransport) ? .other(otherProtocol) : nil
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

    /// Whether the last `decode` verified the transport checksums.
    public private(set) var verifyChecksums = true

    /// Decodes a frame into this value, replacing what it held. For a loop over millions of
    /// frames: one `Packet` reused in place is never copied. `verifyChecksums: false` leaves
    /// the TCP, UDP and ICMP checksums unverified (status `.unverified`): summing every payload
    /// is a quarter of the decoding, and a reader that never shows the verdict can skip it.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, verifyChecksums: Bool = true) {
        self.verifyChecksums = verifyChecksums
        self.linkType = linkType
        capturedLength = bytes.count
        present = []
        problem = nil
        let view = ByteView(bytes: bytes)
        do throws(DecodeError) {
            let (link, next) = try LinkHeader.decode(view, linkType: linkType)
            linkSlot = link
            present.insert(.link)
            switch next {
            case .ipv4: try decodeIPv4(view, at: link.length)
            case .ipv6: try decodeIPv6(view, at: link.length)
            case .other(let type):
                otherEtherType = type
                present.insert(.otherNetwork)
            }
        } catch {
            problem = error
        }
    }

    private mutating func decodeIPv4(_ view: ByteView, at offset: Int) throws(DecodeError) {
        try ipv4Slot.decode(view, at: offset)
        present.insert(.ipv4)
        let ip = ipv4Slot
        guard ip.fragmentOffset == 0 else {
            otherProtocol = ip.protocol
            present.insert(.otherTransport)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: verifyChecksums && !ip.moreFragments)
        try decodeTransport(view, protocol: ip.protocol, at: offset + ip.headerLength, length: ip.payloadLength, pseudo: pseudo)
    }

    private mutating func decodeIPv6(_ view: ByteView, at offset: Int) throws(DecodeError) {
        ipv6Slot = try IPv6Header.decode(view, at: offset)
        present.insert(.ipv6)
        let ip = ipv6Slot
        if let fragment = ip.fragment, fragment.fragmentOffset != 0 {
            otherProtocol = ip.upperProtocol
            present.insert(.otherTransport)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: verifyChecksums && !ip.isFragment)
        try decodeTransport(view, protocol: ip.upperProtocol, at: ip.upperOffset, length: ip.upperLength, pseudo: pseudo)
    }

    private mutating func decodeTransport(
        _ view: ByteView, protocol: IPProtocol, at offset: Int, length: Int, pseudo: PseudoHeader
    ) throws(DecodeError) {
        switch `protocol` {
        case .tcp:
            try tcpSlot.decode(view, at: offset, length: length, pseudoHeader: pseudo)
            present.insert(.tcp)
            // A bad option length leaves the header usable: keep it, and say what was wrong.
            if tcpSlot.options.isMalformed { problem = tcpSlot.options.problem }
        case .udp:
            udpSlot = try UDPHeader.decode(view, at: offset, ipLength: length, pseudoHeader: pseudo)
            present.insert(.udp)
        case .icmp:
            icmpSlot = try ICMPHeader.decode(view, at: offset, length: length, verifiable: pseudo.verifiable)
            present.insert(.icmp)
        case .icmpv6:
            icmpv6Slot = try ICMPv6Header.decode(view, at: offset, length: length, pseudoHeader: pseudo)
            present.insert(.icmpv6)
        default:
            otherProtocol = `protocol`
            present.insert(.otherTransport)
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
