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

/// The Ethernet II header (DIX): destination, source, type; with up to two VLAN tags between
/// the source and the type.
public struct EthernetHeader: Hashable, Sendable, BitwiseCopyable {
    public var destination: MACAddress
    public var source: MACAddress
    /// The protocol after all VLAN tags.
    public var etherType: EtherType
    public var outerTag: VLANTag?
    public var innerTag: VLANTag?
    /// 14, plus 4 per VLAN tag.
    public var length: Int
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

    /// Bytes before the network header.
    public var length: Int {
        switch self {
        case .ethernet(let header): header.length
        case .linuxCooked(let header): header.length
        case .null: 4
        case .raw: 0
        }
    }
}

extension LinkHeader {
    /// Decodes the link header and says which network protocol follows.
    static func decode(_ view: ByteView, linkType: LinkType) throws(DecodeError) -> (LinkHeader, NetworkProtocol) {
        switch linkType {
        case .ethernet:
            try view.require(14, at: 0, .ethernet)
            var header = EthernetHeader(
                destination: MACAddress(view, at: 0), source: MACAddress(view, at: 6),
                etherType: EtherType(view.u16(12)), outerTag: nil, innerTag: nil, length: 14)
            while header.etherType == .vlan || header.etherType == .qinq {
                guard header.innerTag == nil else { break }  // more than two tags: leave as is
                try view.require(4, at: header.length, .vlan)
                let tci = view.u16(header.length)
                let tag = VLANTag(
                    tagProtocol: header.etherType, priority: UInt8(tci >> 13),
                    dropEligible: tci & 0x1000 != 0, id: tci & 0x0FFF)
                if header.outerTag == nil { header.outerTag = tag } else { header.innerTag = tag }
                header.etherType = EtherType(view.u16(header.length + 2))
                header.length += 4
            }
            return (.ethernet(header), NetworkProtocol(header.etherType))
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
