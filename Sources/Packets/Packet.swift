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

/// A tunnel the frame's inner packet came through: the outermost one, with the addresses of
/// its outer IP header (the inner ones are the packet's own), and how many tunnels deep the
/// inner packet sits. The inspector follows the innermost TCP, as tshark does.
public struct Tunnel: Hashable, Sendable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        /// IP directly in IP (protocol 4 or 41): 4in4, 6in4, 4in6, 6in6.
        case ipInIP
        /// RFC 2784/2890 GRE, carrying IP or (bridging) an Ethernet frame.
        case gre
        /// Cisco's ERSPAN mirror over GRE: a copied Ethernet frame.
        case erspan
        /// RFC 7348 VXLAN over UDP port 4789: an Ethernet frame with a 24-bit network id.
        case vxlan
        /// RFC 8926 Geneve over UDP port 6081.
        case geneve
    }
    public var kind: Kind
    public var outerSource: IPAddress
    public var outerDestination: IPAddress
    /// 1 for one tunnel; more when a tunnel runs inside another.
    public var depth: Int
    /// The VXLAN or Geneve network id, or the GRE key.
    public var identifier: UInt32?

    public var name: String {
        switch kind {
        case .ipInIP: "IP-in-IP"
        case .gre: "GRE"
        case .erspan: "ERSPAN"
        case .vxlan: "VXLAN"
        case .geneve: "Geneve"
        }
    }
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
        @inlinable static var tunnel: Layers { Layers(rawValue: 512) }
        @inlinable static var tcpPorts: Layers { Layers(rawValue: 1024) }
        @inlinable static var transport: Layers { Layers(rawValue: 8 | 16 | 32 | 64 | 256 | 1024) }
    }
    @usableFromInline var present: Layers = []
    @usableFromInline var linkSlot = LinkHeader.raw
    @usableFromInline var ipv4Slot = IPv4Header.blank
    @usableFromInline var ipv6Slot = IPv6Header.blank
    @usableFromInline var tcpSlot = TCPHeader.blank
    @usableFromInline var udpSlot = UDPHeader.blank
    @usableFromInline var icmpSlot = ICMPHeader.blank
    @usableFromInline var icmpv6Slot = ICMPv6Header.blank
    @usableFromInline var tunnelSlot = Tunnel(kind: .gre, outerSource: .v4(IPv4Address(0)), outerDestination: .v4(IPv4Address(0)), depth: 0)
    private var cutPorts: (UInt16, UInt16) = (0, 0)
    private var otherEtherType = EtherType(0)
    private var otherProtocol = IPProtocol(0)
    /// Where this frame's bytes on the wire end: the original length, which a snaplen cut
    /// makes longer than what was captured. An IP length field is believed up to here.
    private var wireEnd = 0

    @inlinable public var link: LinkHeader? { present.contains(.link) ? linkSlot : nil }
    @inlinable public var ipv4: IPv4Header? { present.contains(.ipv4) ? ipv4Slot : nil }
    @inlinable public var ipv6: IPv6Header? { present.contains(.ipv6) ? ipv6Slot : nil }
    @inlinable public var tcp: TCPHeader? { present.contains(.tcp) ? tcpSlot : nil }
    @inlinable public var udp: UDPHeader? { present.contains(.udp) ? udpSlot : nil }
    @inlinable public var icmp: ICMPHeader? { present.contains(.icmp) ? icmpSlot : nil }
    @inlinable public var icmpv6: ICMPv6Header? { present.contains(.icmpv6) ? icmpv6Slot : nil }
    /// The ports of a TCP header cut before its 16th byte (too little to follow, as in
    /// tshark, which shows only these): `transport` is then `.other(.tcp)`.
    public var cutTCPPorts: (source: UInt16, destination: UInt16)? { present.contains(.tcpPorts) ? cutPorts : nil }
    /// The tunnel the packet came through; the other headers are then the innermost ones.
    @inlinable public var tunnel: Tunnel? { present.contains(.tunnel) ? tunnelSlot : nil }

    /// Equal when the same layers were decoded to the same values (stale slots do not count).
    public static func == (a: Packet, b: Packet) -> Bool {
        a.linkType == b.linkType && a.problem == b.problem && a.capturedLength == b.capturedLength
            && a.link == b.link && a.network == b.network && a.transport == b.transport && a.tunnel == b.tunnel
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
    /// `originalLength` is the frame's length on the wire (the record header's), when a
    /// snaplen cut left fewer bytes: IP lengths are believed up to it, as tshark believes them.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, verifyChecksums: Bool = true, originalLength: Int? = nil) {
        self.verifyChecksums = verifyChecksums
        self.linkType = linkType
        capturedLength = bytes.count
        wireEnd = max(originalLength ?? bytes.count, bytes.count)
        present = []
        problem = nil
        let view = ByteView(bytes: bytes)
        do throws(DecodeError) {
            let (link, next) = try LinkHeader.decode(view, linkType: linkType)
            linkSlot = link
            present.insert(.link)
            try decodeNetwork(next, view, at: link.length, end: wireEnd, depth: 0)
        } catch {
            problem = error
        }
    }

    /// Tunnels inside tunnels are followed this deep, no deeper: a crafted frame of nested
    /// IP-in-IP headers must not cost more than a few ordinary ones.
    static let maximumTunnelDepth = 4

    private mutating func decodeNetwork(_ next: NetworkProtocol, _ view: ByteView, at offset: Int, end: Int, depth: Int) throws(DecodeError) {
        switch next {
        case .ipv4: try decodeIPv4(view, at: offset, end: end, depth: depth)
        case .ipv6: try decodeIPv6(view, at: offset, end: end, depth: depth)
        case .other(let type):
            // Inside a tunnel (ARP in VXLAN, say) the outer headers stay the packet's.
            if depth == 0 {
                otherEtherType = type
                present.insert(.otherNetwork)
            }
        }
    }

    /// Notes a tunnel before its inner packet is decoded; only the outermost one is kept.
    private mutating func enterTunnel(_ kind: Tunnel.Kind, identifier: UInt32? = nil) {
        if present.contains(.tunnel) {
            tunnelSlot.depth += 1
            return
        }
        let outer: (IPAddress, IPAddress) = present.contains(.ipv4)
            ? (.v4(ipv4Slot.source), .v4(ipv4Slot.destination)) : (.v6(ipv6Slot.source), .v6(ipv6Slot.destination))
        tunnelSlot = Tunnel(kind: kind, outerSource: outer.0, outerDestination: outer.1, depth: 1, identifier: identifier)
        present.insert(.tunnel)
    }

    private mutating func decodeIPv4(_ view: ByteView, at offset: Int, end: Int, depth: Int) throws(DecodeError) {
        try ipv4Slot.decode(view, at: offset, reported: end - offset)
        // An inner header replaces the outer ones (the tunnel keeps the outer addresses).
        present.subtract(Layers.transport.union(.ipv6))
        present.insert(.ipv4)
        let ip = ipv4Slot
        if ip.lengthExceedsFrame {
            problem = DecodeError(.ipv4, at: offset + 2, .badLength(.ipv4TotalLengthPastFrame, value: ip.totalLength, limit: end - offset))
        }
        guard ip.fragmentOffset == 0 else {
            otherProtocol = ip.protocol
            present.insert(.otherTransport)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: verifyChecksums && !ip.moreFragments)
        try decodePayload(view, protocol: ip.protocol, at: offset + ip.headerLength, length: ip.payloadLength,
                          pseudo: pseudo, whole: !ip.moreFragments, depth: depth)
    }

    private mutating func decodeIPv6(_ view: ByteView, at offset: Int, end: Int, depth: Int) throws(DecodeError) {
        let decoded = try IPv6Header.decode(view, at: offset, reported: end - offset)
        ipv6Slot = decoded
        present.subtract(Layers.transport.union(.ipv4))
        present.insert(.ipv6)
        let ip = ipv6Slot
        if ip.lengthExceedsFrame {
            problem = DecodeError(.ipv6, at: offset + 4, .badLength(.ipv6PayloadLengthPastFrame, value: ip.payloadLength, limit: end - offset - 40))
        }
        if let fragment = ip.fragment, fragment.fragmentOffset != 0 {
            otherProtocol = ip.upperProtocol
            present.insert(.otherTransport)
            return
        }
        let pseudo = ip.pseudoHeader(verifiable: verifyChecksums && !ip.isFragment)
        try decodePayload(view, protocol: ip.upperProtocol, at: ip.upperOffset, length: ip.upperLength,
                          pseudo: pseudo, whole: !ip.isFragment, depth: depth)
    }

    /// What an IP header carries: a transport header, or a tunnel and the packet inside it.
    /// `whole` is false for the first fragment of several (its inner packet is incomplete).
    private mutating func decodePayload(
        _ view: ByteView, protocol: IPProtocol, at offset: Int, length given: Int, pseudo: PseudoHeader, whole: Bool, depth: Int
    ) throws(DecodeError) {
        let length = max(0, given)
        let end = offset + length
        if whole, depth < Self.maximumTunnelDepth {
            switch `protocol`.rawValue {
            case 4, 41:  // IPv4 or IPv6 inside
                enterTunnel(.ipInIP)
                return try decodeNetwork(`protocol`.rawValue == 4 ? .ipv4 : .ipv6, view, at: offset, end: end, depth: depth + 1)
            case 47:
                let gre = try GREHeader.decode(view, at: offset)
                guard let inner = gre.inner else { break }
                enterTunnel(gre.isERSPAN ? .erspan : .gre, identifier: gre.key)
                if inner == .ethernet {
                    let (ethernet, next) = try EthernetHeader.decode(view, at: offset + gre.length)
                    return try decodeNetwork(next, view, at: ethernet.length, end: end, depth: depth + 1)
                }
                return try decodeNetwork(inner == .ipv4 ? .ipv4 : .ipv6, view, at: offset + gre.length, end: end, depth: depth + 1)
            default: break
            }
        }
        try decodeTransport(view, protocol: `protocol`, at: offset, length: length, pseudo: pseudo, whole: whole)
        guard whole, depth < Self.maximumTunnelDepth, present.contains(.udp),
              let encapsulation = UDPEncapsulation.decode(view, udp: udpSlot) else { return }
        enterTunnel(encapsulation.kind, identifier: encapsulation.identifier)
        let udpEnd = udpSlot.offset + udpSlot.length
        switch encapsulation.inner {
        case .ethernet:
            let (ethernet, next) = try EthernetHeader.decode(view, at: encapsulation.innerOffset)
            try decodeNetwork(next, view, at: ethernet.length, end: udpEnd, depth: depth + 1)
        case .ipv4: try decodeNetwork(.ipv4, view, at: encapsulation.innerOffset, end: udpEnd, depth: depth + 1)
        case .ipv6: try decodeNetwork(.ipv6, view, at: encapsulation.innerOffset, end: udpEnd, depth: depth + 1)
        }
    }

    private mutating func decodeTransport(
        _ view: ByteView, protocol: IPProtocol, at offset: Int, length: Int, pseudo: PseudoHeader, whole: Bool
    ) throws(DecodeError) {
        switch `protocol` {
        case .tcp:
            let cut: DecodeError?
            do throws(DecodeError) {
                cut = try tcpSlot.decode(view, at: offset, length: length, pseudoHeader: pseudo)
            } catch {
                // Too little to follow; the ports, if there, are still shown (as tshark does).
                otherProtocol = .tcp
                present.insert(.otherTransport)
                if view.count - offset >= 4 {
                    cutPorts = (view.u16(offset), view.u16(offset + 2))
                    present.insert(.tcpPorts)
                }
                throw error
            }
            present.insert(.tcp)
            // A header cut short or with a bad option length keeps what was read, as tshark
            // does: the ports, numbers and flags still count. Say what was wrong.
            if let cut { problem = cut } else if tcpSlot.options.isMalformed { problem = tcpSlot.options.problem }
        case .udp:
            // A first fragment holds only part of the datagram its UDP length counts.
            udpSlot = try UDPHeader.decode(view, at: offset, ipLength: whole ? length : 65535, pseudoHeader: pseudo)
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

extension Packet {
    /// Whether the network header is an IPv4 or IPv6 fragment (one of several pieces).
    @inlinable public var isFragment: Bool {
        if present.contains(.ipv4) { return ipv4Slot.isFragment }
        if present.contains(.ipv6) { return ipv6Slot.isFragment }
        return false
    }

    /// Where the network header says its datagram ends in the frame: the IPv4 total length,
    /// the IPv6 payload length after the fixed header (0 in either: the bytes there). A
    /// fragment is whole only when the frame holds this much (tshark's rule for reassembly).
    public var claimedDatagramEnd: Int? {
        if let ip = ipv4 { return ip.offset + ip.totalLength }
        if let ip = ipv6 { return ip.offset + 40 + (ip.payloadLength == 0 ? ip.datagramPayloadLength : ip.payloadLength) }
        return nil
    }

    /// The fragment offset of the network header (0 for a first fragment or a whole datagram).
    public var firstFragmentOffset: Int {
        if let ip = ipv4 { return ip.fragmentOffset }
        return ipv6?.fragment?.fragmentOffset ?? 0
    }
}
