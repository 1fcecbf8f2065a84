/// A libpcap link-layer type (DLT_/LINKTYPE_ number): says what the first header of every
/// frame in a capture is. `pcap_datalink()` returns it for a live capture or a file.
public struct LinkType: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// DLT_NULL: BSD loopback, a 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(0)
    /// DLT_EN10MB: Ethernet (any speed), what `-i eth0` and `-i lo` give on Linux.
    public static let ethernet = LinkType(1)
    /// DLT_RAW: the frame starts with the IP header (12 on Linux, 14 on OpenBSD, 101 in files).
    public static let raw = LinkType(12)
    /// DLT_LOOP: OpenBSD loopback, like NULL but in network byte order.
    public static let loop = LinkType(108)
    /// DLT_LINUX_SLL: Linux "cooked" capture, what `-i any` gives.
    public static let linuxCooked = LinkType(113)
    /// DLT_IPV4 and DLT_IPV6: raw IP of one version.
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    /// DLT_LINUX_SLL2: Linux cooked capture v2 (adds the interface index), tcpdump's `-i any`.
    public static let linuxCooked2 = LinkType(276)

    public var isRawIP: Bool { [12, 14, 101].contains(rawValue) }

    /// The name libpcap uses (`pcap_datalink_val_to_name`), for messages.
    public var description: String {
        switch rawValue {
        case 0: "NULL"
        case 1: "EN10MB"
        case 12, 14, 101: "RAW"
        case 108: "LOOP"
        case 113: "LINUX_SLL"
        case 228: "IPV4"
        case 229: "IPV6"
        case 276: "LINUX_SLL2"
        default: "DLT \(rawValue)"
        }
    }
}

/// An EtherType (IEEE 802 protocol number): which protocol follows the link header.
public struct EtherType: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EtherType(0x0800)
    public static let arp = EtherType(0x0806)
    public static let vlan = EtherType(0x8100)
    public static let ipv6 = EtherType(0x86DD)
    public static let qinq = EtherType(0x88A8)

    public var description: String {
        switch self {
        case .ipv4: "IPv4"
        case .arp: "ARP"
        case .vlan: "802.1Q"
        case .ipv6: "IPv6"
        case .qinq: "802.1ad"
        default: "0x" + hex4(rawValue)
        }
    }
}
