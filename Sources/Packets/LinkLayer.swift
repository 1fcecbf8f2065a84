/// A 48-bit IEEE MAC address, kept in the low 48 bits of a number.
public struct MACAddress: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    init(_ view: ByteView, at offset: Int) {
        value = UInt64(view.u16(offset)) << 32 | UInt64(view.u32(offset + 2))
    }

    /// `00:00:00:00:00:00` on loopback.
    public var description: String {
        (0..<6).map { i in
            let byte = UInt8(truncatingIfNeeded: value >> (40 - 8 * UInt64(i)))
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined(separator: ":")
    }
}

/// One 802.1Q tag: priority (PCP), drop eligible (DEI) and the VLAN id.
public struct VLANTag: Hashable, Sendable, BitwiseCopyable {
    /// 0x8100 (802.1Q) or 0x88A8 (802.1ad, the outer tag of Q-in-Q).
    public var tagProtocol: EtherType
    public var priority: UInt8
    public var dropEligible: Bool
    public var id: UInt16
}

/// An 802.2 LLC header (after an 802.3 length field), and the SNAP extension that carries an
/// EtherType inside it (DSAP = SSAP = 0xAA, control 0x03).
public struct LLCHeader: Hashable, Sendable, BitwiseCopyable {
    public var dsap: UInt8
    public var ssap: UInt8
    public var control: UInt8
    /// SNAP only: the organisation code and the protocol id (an EtherType when the code is 0).
    public var snapOUI: UInt32?
    public var snapProtocol: UInt16?

    /// What a student reads: "Spanning Tree (STP)" for DSAP 0x42, "SNAP" with its protocol…
    public var name: String {
        if snapOUI != nil, let pid = snapProtocol { return "SNAP, protocol \(EtherType(pid))" }
        switch dsap {
        case 0x42: return "Spanning Tree (STP)"
        case 0xE0: return "Novell IPX"
        case 0xF0: return "NetBIOS"
        case 0xFE: return "OSI (IS-IS, CLNP)"
        case 0x06: return "IP over LLC"
        default: return "LLC DSAP 0x" + hex2(dsap)
        }
    }
}

/// A PPPoE session header (RFC 2516) and the PPP protocol number after it.
public struct PPPoEHeader: Hashable, Sendable, BitwiseCopyable {
    public var sessionID: UInt16
    /// The PPPoE payload length field (PPP protocol and data).
    public var payloadLength: UInt16
    /// 0x0021 IPv4, 0x0057 IPv6, 0xC021 LCP…
    public var pppProtocol: UInt16
}

/// The Ethernet header: destination, source, then the type field. Between them and the
/// network header there may be any number of VLAN tags (802.1Q, 802.1ad Q-in-Q and deeper),
/// an 802.3 length with LLC/SNAP, a PPPoE session header, or an MPLS label stack: `length` is
/// where the network header starts, whatever came between.
public struct EthernetHeader: Hashable, Sendable, BitwiseCopyable {
    public var destination: MACAddress
    public var source: MACAddress
    /// The protocol the frame finally carries (after tags, SNAP or PPPoE): IPv4, IPv6, ARP…
    public var etherType: EtherType
    /// The first type field (bytes 12–13), as tshark's `eth.type` (absent for 802.3 frames).
    public var typeField: UInt16
    /// The outermost and the second VLAN tag; `tagCount` counts them all.
    public var outerTag: VLANTag?
    public var innerTag: VLANTag?
    public var tagCount: Int { Int(storedTagCount) }
    var storedTagCount: UInt8
    /// 802.3: the type field is a length (at most 1500), and LLC follows.
    public var llc: LLCHeader?
    public var pppoe: PPPoEHeader?
    /// MPLS labels before the network header (0: none), and the innermost label.
    public var mplsLabels: Int { Int(storedLabels) }
    var storedLabels: UInt8
    public var mplsBottomLabel: UInt32
    /// Bytes before the network header: 14 plus tags, LLC/SNAP, PPPoE or labels.
    public var length: Int

    /// Whether the type field is an 802.3 length rather than an EtherType.
    public var isIEEE8023: Bool { typeField <= 1500 }
}

extension EthernetHeader {
    /// Decodes the Ethernet header that starts at `base` (0 for a frame, or inside a tunnel:
    /// VXLAN, Geneve, GRE bridging) and whatever sits between it and the network header.
    @inline(__always)
    static func decode(_ view: ByteView, at base: Int) throws(DecodeError) -> (EthernetHeader, NetworkProtocol) {
        try view.require(14, at: base, .ethernet)
        let type = view.u16(base + 12)
        var header = EthernetHeader(
            destination: MACAddress(view, at: base), source: MACAddress(view, at: base + 6),
            etherType: EtherType(type), typeField: type, outerTag: nil, innerTag: nil, storedTagCount: 0,
            llc: nil, pppoe: nil, storedLabels: 0, mplsBottomLabel: 0, length: base + 14)
        // Tags of any depth: 802.1Q (0x8100), 802.1ad (0x88A8) and the older 0x9100.
        while header.etherType.isVLANTag {
            try view.require(4, at: header.length, .vlan)
            let tci = view.u16(header.length)
            let tag = VLANTag(
                tagProtocol: header.etherType, priority: UInt8(tci >> 13),
                dropEligible: tci & 0x1000 != 0, id: tci & 0x0FFF)
            if header.outerTag == nil { header.outerTag = tag } else if header.innerTag == nil { header.innerTag = tag }
            header.storedTagCount &+= 1
            header.etherType = EtherType(view.u16(header.length + 2))
            header.length += 4
        }
        if header.etherType.rawValue <= 1500 {
            // 802.3: a length, then LLC (and SNAP, which carries an EtherType again).
            try view.require(3, at: header.length, .llc)
            var llc = LLCHeader(dsap: view.u8(header.length), ssap: view.u8(header.length + 1),
                                control: view.u8(header.length + 2), snapOUI: nil, snapProtocol: nil)
            header.length += 3
            if llc.dsap == 0xAA, llc.ssap == 0xAA {
                try view.require(5, at: header.length, .llc)
                llc.snapOUI = UInt32(view.u8(header.length)) << 16 | UInt32(view.u16(header.length + 1))
                llc.snapProtocol = view.u16(header.length + 3)
                header.length += 5
            }
            header.llc = llc
            guard llc.snapOUI == 0, let pid = llc.snapProtocol else {
                return (header, .other(EtherType(0)))
            }
            header.etherType = EtherType(pid)
        }
        if header.etherType == .pppoeSession {
            try view.require(8, at: header.length, .pppoe)
            let ppp = view.u16(header.length + 6)
            header.pppoe = PPPoEHeader(sessionID: view.u16(header.length + 2), payloadLength: view.u16(header.length + 4), pppProtocol: ppp)
            header.length += 8
            return (header, NetworkProtocol(pppProtocol: ppp, otherwise: .pppoeSession))
        }
        if header.etherType == .mplsUnicast || header.etherType == .mplsMulticast {
            let stack = try MPLSStack.decode(view, at: header.length, type: header.etherType)
            header.storedLabels = UInt8(truncatingIfNeeded: min(stack.labels, 255))
            header.mplsBottomLabel = stack.bottomLabel
            header.length = stack.end
            return (header, stack.next)
        }
        return (header, NetworkProtocol(header.etherType))
    }
}

/// An MPLS label stack (RFC 3032), after Ethernet, PPP (protocol 0x0281) or Cisco HDLC.
struct MPLSStack {
    var labels: Int
    var bottomLabel: UInt32
    /// Where the payload starts.
    var end: Int
    var next: NetworkProtocol

    /// Labels until the bottom-of-stack bit; then, as tshark guesses, IP by its version.
    @inline(__always)
    static func decode(_ view: ByteView, at start: Int, type: EtherType) throws(DecodeError) -> MPLSStack {
        var stack = MPLSStack(labels: 0, bottomLabel: 0, end: start, next: .other(type))
        while true {
            try view.require(4, at: stack.end, .mpls)
            let entry = view.u32(stack.end)
            stack.labels += 1
            stack.bottomLabel = entry >> 12
            stack.end += 4
            if entry & 0x100 != 0 { break }
        }
        try view.require(1, at: stack.end, .mpls)
        stack.next = NetworkProtocol(ipVersion: view.u8(stack.end) >> 4, otherwise: type)
        return stack
    }
}

/// What packet type a Linux cooked header records: who the packet was for.
public enum CookedPacketType: UInt16, Sendable {
    case toUs = 0, broadcast = 1, multicast = 2, toOtherHost = 3, outgoing = 4
}

/// Linux cooked capture (SLL, 16 bytes; SLL2, 20 bytes): what `-i any` gives, since one
/// pseudo-device spans links of different kinds. It records the direction, not the MACs' roles.
public struct LinuxCookedHeader: Hashable, Sendable, BitwiseCopyable {
    /// 1 for SLL, 2 for SLL2.
    public var version: Int
    public var packetType: UInt16
    /// The ARPHRD_ type of the real interface: 1 Ethernet, 772 loopback.
    public var hardwareType: UInt16
    /// The link-layer source address (up to 8 bytes), for Ethernet the source MAC.
    public var linkAddressLength: Int
    public var linkAddress: UInt64
    public var protocolType: EtherType
    /// SLL2 only: the capturing interface's index (`ip link` numbers).
    public var interfaceIndex: UInt32?
    public var length: Int { version == 1 ? 16 : 20 }

    public var direction: CookedPacketType? { CookedPacketType(rawValue: packetType) }
}

/// The link-layer header of a frame.
public enum LinkHeader: Hashable, Sendable, BitwiseCopyable {
    case ethernet(EthernetHeader)
    case linuxCooked(LinuxCookedHeader)
    /// BSD loopback (DLT_NULL/DLT_LOOP): only an address family.
    case null(family: UInt32)
    /// Raw IP: no link header at all.
    case raw
    /// A link header of another kind (PPP, Cisco HDLC, OpenBSD pflog, Linux NFLOG): what it
    /// is, the protocol it announces, and its length.
    case other(OtherLinkHeader)

    /// Bytes before the network header.
    public var length: Int {
        switch self {
        case .ethernet(let header): header.length
        case .linuxCooked(let header): header.length
        case .null: 4
        case .raw: 0
        case .other(let header): header.length
        }
    }
}

/// PPP (DLT_PPP, DLT_PPP_SERIAL, DLT_PPP_ETHER), Cisco HDLC (DLT_C_HDLC), pflog (DLT_PFLOG),
/// NFLOG (DLT_NFLOG), Juniper without layer 2 and IP over InfiniBand: only what finding the
/// IP header needs.
public struct OtherLinkHeader: Hashable, Sendable, BitwiseCopyable {
    public var linkType: LinkType
    /// The PPP protocol, the HDLC EtherType, or the address family, as the header gives it.
    public var protocolNumber: UInt32
    public var length: Int
}

extension LinkHeader {
    /// Decodes the link header and says which network protocol follows.
    static func decode(_ view: ByteView, linkType: LinkType) throws(DecodeError) -> (LinkHeader, NetworkProtocol) {
        switch linkType {
        case .ethernet:
            let (header, next) = try EthernetHeader.decode(view, at: 0)
            return (.ethernet(header), next)
        case .linuxCooked:
            try view.require(16, at: 0, .linuxCooked)
            let header = LinuxCookedHeader(
                version: 1, packetType: view.u16(0), hardwareType: view.u16(2),
                linkAddressLength: Int(min(view.u16(4), 8)),
                linkAddress: UInt64(view.u32(6)) << 32 | UInt64(view.u32(10)),
                protocolType: EtherType(view.u16(14)), interfaceIndex: nil)
            return (.linuxCooked(header), NetworkProtocol(header.protocolType))
        case .linuxCooked2:
            try view.require(20, at: 0, .linuxCooked2)
            let header = LinuxCookedHeader(
                version: 2, packetType: UInt16(view.u8(10)), hardwareType: view.u16(8),
                linkAddressLength: Int(min(view.u8(11), 8)),
                linkAddress: UInt64(view.u32(12)) << 32 | UInt64(view.u32(16)),
                protocolType: EtherType(view.u16(0)), interfaceIndex: view.u32(4))
            return (.linuxCooked(header), NetworkProtocol(header.protocolType))
        case .null, .loop:
            try view.require(4, at: 0, .null)
            // DLT_NULL is in the capturing host's byte order, which a file does not record:
            // a family fits in 16 bits, so a value that does not is the other byte order.
            var family = view.u32Native(0)
            if family > 0xFFFF { family = family.byteSwapped }
            if linkType == .loop { family = UInt32(bigEndian: view.u32Native(0)) }
            return (.null(family: family), NetworkProtocol(addressFamily: family))
        case .ppp, .pppSerial:
            // HDLC-like framing (RFC 1662): address 0xFF and control 0x03, often compressed
            // away; then a protocol field of one byte (odd) or two.
            try view.require(1, at: 0, .link)
            var offset = view.count >= 2 && view.u8(0) == 0xFF && view.u8(1) == 0x03 ? 2 : 0
            try view.require(1, at: offset, .link)
            var proto = UInt16(view.u8(offset))
            if proto & 1 == 0 {
                try view.require(2, at: offset, .link)
                proto = view.u16(offset)
                offset += 2
            } else {
                offset += 1
            }
            var header = OtherLinkHeader(linkType: linkType, protocolNumber: UInt32(proto), length: offset)
            if proto == 0x281 || proto == 0x283 {
                // MPLS unicast and multicast (RFC 3032 §4.3): the labels belong to the link.
                let stack = try MPLSStack.decode(view, at: offset, type: proto == 0x281 ? .mplsUnicast : .mplsMulticast)
                header.length = stack.end
                return (.other(header), stack.next)
            }
            return (.other(header), NetworkProtocol(pppProtocol: proto, otherwise: EtherType(0)))
        case .ciscoHDLC:
            try view.require(4, at: 0, .link)
            let type = EtherType(view.u16(2))
            var header = OtherLinkHeader(linkType: linkType, protocolNumber: UInt32(type.rawValue), length: 4)
            if type == .mplsUnicast || type == .mplsMulticast {
                let stack = try MPLSStack.decode(view, at: 4, type: type)
                header.length = stack.end
                return (.other(header), stack.next)
            }
            return (.other(header), NetworkProtocol(type))
        case .pflog:
            // OpenBSD's pfloghdr: its length (padded to 4 bytes) first, the address family second.
            try view.require(2, at: 0, .link)
            let length = (Int(view.u8(0)) + 3) & ~3
            try view.require(max(length, 2), at: 0, .link)
            let family = UInt32(view.u8(1))
            return (.other(OtherLinkHeader(linkType: linkType, protocolNumber: family, length: length)), NetworkProtocol(addressFamily: family))
        case .nflog:
            // Linux NFLOG: family, version, resource id; then type-length-value attributes
            // (lengths in the host's byte order, little-endian here) until the payload (type 9).
            try view.require(4, at: 0, .link)
            let family = UInt32(view.u8(0))
            var offset = 4
            while offset + 4 <= view.count {
                let length = Int(view.u16(offset).byteSwapped), type = view.u16(offset + 2).byteSwapped & 0x7FFF
                guard length >= 4 else { break }
                if type == 9 {
                    let header = OtherLinkHeader(linkType: linkType, protocolNumber: family, length: offset + 4)
                    return (.other(header), NetworkProtocol(addressFamily: family))
                }
                offset += (length + 3) & ~3
            }
            throw DecodeError(.link, at: min(offset, view.count), .truncated(needed: 4, available: max(0, view.count - offset)))
        case .pppOverEthernet:
            // The PPPoE session header (RFC 2516: version and type, code, session, length),
            // then the PPP protocol.
            try view.require(8, at: 0, .pppoe)
            let proto = view.u16(6)
            let header = OtherLinkHeader(linkType: linkType, protocolNumber: UInt32(proto), length: 8)
            return (.other(header), NetworkProtocol(pppProtocol: proto, otherwise: .pppoeSession))
        case .juniperEthernet:
            // "MGC", a flags byte; with the extension flag (0x80) a 16-bit length of TLVs
            // follows. Then the Ethernet frame, or with "no layer 2" (0x02) a 4-byte family
            // and IP, told by its version as tcpdump and tshark do.
            try view.require(4, at: 0, .link)
            guard view.u16(0) == 0x4D47, view.u8(2) == 0x43 else {
                throw DecodeError(.link, at: 0, .unsupportedLinkType(linkType.rawValue))
            }
            let flags = view.u8(3)
            var offset = 4
            if flags & 0x80 != 0 {
                try view.require(2, at: 4, .link)
                offset = 6 + Int(view.u16(4))
            }
            if flags & 0x02 != 0 {
                offset += 4
                try view.require(1, at: offset, .link)
                let header = OtherLinkHeader(linkType: linkType, protocolNumber: UInt32(flags), length: offset)
                return (.other(header), NetworkProtocol(ipVersion: view.u8(offset) >> 4, otherwise: EtherType(0)))
            }
            let (header, next) = try EthernetHeader.decode(view, at: offset)
            return (.ethernet(header), next)
        case .ipOverInfiniBand:
            // 20 bytes of source and 20 of destination hardware address (queue pair and
            // GID), then RFC 4391's type and 2 reserved bytes.
            try view.require(44, at: 0, .link)
            let type = EtherType(view.u16(40))
            return (.other(OtherLinkHeader(linkType: linkType, protocolNumber: UInt32(type.rawValue), length: 44)), NetworkProtocol(type))
        case .ipv4:
            return (.raw, .ipv4)
        case .ipv6:
            return (.raw, .ipv6)
        default:
            guard linkType.isRawIP else {
                throw DecodeError(.link, at: 0, .unsupportedLinkType(linkType.rawValue))
            }
            guard view.count > 0 else { throw DecodeError(.ipv4, at: 0, .truncated(needed: 1, available: 0)) }
            return (.raw, view.u8(0) >> 4 == 6 ? .ipv6 : .ipv4)
        }
    }
}

/// Which network-layer protocol a link header announces.
enum NetworkProtocol {
    case ipv4, ipv6, other(EtherType)

    init(_ type: EtherType) {
        switch type {
        case .ipv4: self = .ipv4
        case .ipv6: self = .ipv6
        default: self = .other(type)
        }
    }

    /// PPP's protocol field (RFC 1332: 0x0021 IPv4; RFC 5072: 0x0057 IPv6).
    @inline(__always)
    init(pppProtocol: UInt16, otherwise: EtherType) {
        switch pppProtocol {
        case 0x0021: self = .ipv4
        case 0x0057: self = .ipv6
        default: self = .other(otherwise)
        }
    }

    /// IP told by its version nibble, as tshark guesses after MPLS or a header without a type.
    @inline(__always)
    init(ipVersion: UInt8, otherwise: EtherType) {
        switch ipVersion {
        case 4: self = .ipv4
        case 6: self = .ipv6
        default: self = .other(otherwise)
        }
    }

    /// BSD address families: AF_INET is 2 everywhere; AF_INET6 is 10 on Linux, 24 on
    /// NetBSD/OpenBSD, 28 on FreeBSD and 30 on macOS.
    init(addressFamily family: UInt32) {
        switch family {
        case 2: self = .ipv4
        case 10, 24, 28, 30: self = .ipv6
        default: self = .other(EtherType(UInt16(truncatingIfNeeded: family)))
        }
    }
}
