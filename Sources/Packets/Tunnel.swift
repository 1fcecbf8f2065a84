/// What a tunnel header says comes next.
enum InnerPacket: Equatable {
    case ethernet, ipv4, ipv6
}

/// A GRE header (RFC 2784, with RFC 2890's key and sequence number, and version 1 as PPTP
/// uses it): flags say which optional words follow; the protocol type names what is inside.
struct GREHeader {
    var flags: UInt16
    var protocolType: UInt16
    var key: UInt32?
    /// Bytes from the start of the GRE header to the inner packet (ERSPAN's own header included).
    var length: Int
    /// What is inside, when SocketLab decodes it (PPTP's PPP is not followed).
    var inner: InnerPacket?
    var isERSPAN: Bool

    static func decode(_ view: ByteView, at offset: Int) throws(DecodeError) -> GREHeader {
        try view.require(4, at: offset, .gre)
        let flags = view.u16(offset)
        let protocolType = view.u16(offset + 2)
        let version = flags & 0x7
        let checksum = flags & 0x8000 != 0, routing = flags & 0x4000 != 0
        let hasKey = flags & 0x2000 != 0, hasSequence = flags & 0x1000 != 0
        var length = 4
        if checksum || routing { length += 4 }
        var key: UInt32?
        if hasKey {
            try view.require(length + 4, at: offset, .gre)
            key = view.u32(offset + length)
            length += 4
        }
        if hasSequence { length += 4 }
        if version == 1, flags & 0x0080 != 0 { length += 4 }  // PPTP's acknowledgement number
        try view.require(length, at: offset, .gre)
        var header = GREHeader(flags: flags, protocolType: protocolType, key: key, length: length, inner: nil, isERSPAN: false)
        // A routing list (RFC 1701) or an unknown version: not followed further.
        guard !routing, version == 0 else { return header }
        switch EtherType(protocolType) {
        case .ipv4: header.inner = .ipv4
        case .ipv6: header.inner = .ipv6
        case .transparentEthernet: header.inner = .ethernet
        case .erspanII:
            // Type II has the sequence number and an 8-byte ERSPAN header; type I has neither.
            header.isERSPAN = true
            if hasSequence { header.length += 8 }
            header.inner = .ethernet
        case .erspanIII:
            header.isERSPAN = true
            try view.require(header.length + 12, at: offset, .erspan)
            let frameType = view.u8(offset + header.length + 10) >> 1 & 0x1F
            let hasSubheader = view.u8(offset + header.length + 11) & 1 != 0
            header.length += 12 + (hasSubheader ? 8 : 0)
            if frameType == 0 { header.inner = .ethernet }
        default: break
        }
        return header
    }
}

/// A tunnel carried in UDP on its registered port: VXLAN (4789), VXLAN-GPE (4790), Geneve (6081).
struct UDPEncapsulation {
    var kind: Tunnel.Kind
    var identifier: UInt32
    var inner: InnerPacket
    /// Where the inner packet starts in the frame.
    var innerOffset: Int

    static let vxlanPort: UInt16 = 4789, vxlanGPEPort: UInt16 = 4790, genevePort: UInt16 = 6081

    /// The encapsulation this datagram carries, or nil. Like tshark, which tries the lower
    /// port's protocol first: a tunnel port loses to a well-known port (below 1024) on the
    /// other side, and wins against an ephemeral one.
    static func decode(_ view: ByteView, udp: UDPHeader) -> UDPEncapsulation? {
        let ports = (udp.sourcePort, udp.destinationPort)
        func isTunnel(_ port: UInt16) -> Bool { port == vxlanPort || port == vxlanGPEPort || port == genevePort }
        let port: UInt16
        if isTunnel(ports.1), !(ports.0 < 1024 && ports.0 < ports.1) {
            port = ports.1
        } else if isTunnel(ports.0), !(ports.1 < 1024 && ports.1 < ports.0) {
            port = ports.0
        } else {
            return nil
        }
        let offset = udp.payloadOffset
        let available = min(udp.length - 8, view.count - offset)
        guard available >= 8 else { return nil }
        switch port {
        case vxlanPort:
            return UDPEncapsulation(kind: .vxlan, identifier: view.u32(offset + 4) >> 8, inner: .ethernet, innerOffset: offset + 8)
        case vxlanGPEPort:
            let inner: InnerPacket
            switch view.u8(offset + 3) {
            case 1: inner = .ipv4
            case 2: inner = .ipv6
            case 3: inner = .ethernet
            default: return nil
            }
            return UDPEncapsulation(kind: .vxlan, identifier: view.u32(offset + 4) >> 8, inner: inner, innerOffset: offset + 8)
        default:
            guard view.u8(offset) >> 6 == 0 else { return nil }  // Geneve version 0 only
            let optionsLength = Int(view.u8(offset) & 0x3F) * 4
            let inner: InnerPacket
            switch EtherType(view.u16(offset + 2)) {
            case .transparentEthernet: inner = .ethernet
            case .ipv4: inner = .ipv4
            case .ipv6: inner = .ipv6
            default: return nil
            }
            guard 8 + optionsLength <= available else { return nil }
            return UDPEncapsulation(kind: .geneve, identifier: view.u32(offset + 4) >> 8, inner: inner, innerOffset: offset + 8 + optionsLength)
        }
    }
}
