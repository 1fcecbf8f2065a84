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
    /// DLT_PPP and DLT_PPP_SERIAL: PPP, with or without HDLC-like framing.
    public static let ppp = LinkType(9)
    public static let pppSerial = LinkType(50)
    /// DLT_C_HDLC: Cisco HDLC, an EtherType after address and control.
    public static let ciscoHDLC = LinkType(104)
    /// DLT_PFLOG: OpenBSD's packet filter log.
    public static let pflog = LinkType(117)
    /// DLT_NFLOG: Linux netfilter's log (`-i nflog`).
    public static let nflog = LinkType(239)
    /// DLT_PPP_ETHER: PPPoE session frames without their Ethernet header (BSD's pppoe).
    public static let pppOverEthernet = LinkType(51)
    /// DLT_JUNIPER_ETHER: a Juniper router's capture of an Ethernet port ("MGC" header first).
    public static let juniperEthernet = LinkType(178)
    /// DLT_IPOIB: IP over InfiniBand (RFC 4391), with the 44-byte pseudo-header Linux writes.
    public static let ipOverInfiniBand = LinkType(242)

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
        case 9: "PPP"
        case 50: "PPP_SERIAL"
        case 104: "C_HDLC"
        case 117: "PFLOG"
        case 239: "NFLOG"
        case 51: "PPP_ETHER"
        case 178: "JUNIPER_ETHER"
        case 242: "IPOIB"
        case 6: "IEEE802 (Token Ring)"
        case 10: "FDDI"
        case 105: "IEEE802_11 (Wi-Fi)"
        case 119: "PRISM_HEADER (Wi-Fi)"
        case 127: "IEEE802_11_RADIO (Wi-Fi with radiotap)"
        case 143: "DOCSIS"
        case 147...162: "USER\(rawValue - 147)"
        case 192: "PPI"
        case 195, 215, 230: "IEEE802_15_4"
        case 201: "BLUETOOTH_HCI_H4_WITH_PHDR"
        case 220: "USB_LINUX_MMAPPED"
        case 249: "USBPCAP"
        case 251: "BLUETOOTH_LE_LL"
        case 253: "NETLINK"
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
    /// The pre-standard Q-in-Q tag some switches still send.
    public static let qinqLegacy = EtherType(0x9100)
    public static let pppoeDiscovery = EtherType(0x8863)
    public static let pppoeSession = EtherType(0x8864)
    public static let mplsUnicast = EtherType(0x8847)
    public static let mplsMulticast = EtherType(0x8848)
    /// GRE's protocol for an Ethernet frame inside (transparent Ethernet bridging).
    public static let transparentEthernet = EtherType(0x6558)
    public static let erspanII = EtherType(0x88BE)
    public static let erspanIII = EtherType(0x22EB)

    var isVLANTag: Bool { self == .vlan || self == .qinq || self == .qinqLegacy }

    public var description: String {
        switch rawValue {
        case 0x0800: "IPv4"
        case 0x0806: "ARP"
        case 0x8100: "802.1Q"
        case 0x86DD: "IPv6"
        case 0x88A8: "802.1ad"
        case 0x9100: "802.1Q-in-Q"
        case 0x8035: "RARP"
        case 0x8863: "PPPoE discovery"
        case 0x8864: "PPPoE session"
        case 0x8847, 0x8848: "MPLS"
        case 0x888E: "802.1X (EAPOL)"
        case 0x88CC: "LLDP"
        case 0x8809: "slow protocols (LACP)"
        case 0x88F7: "PTP"
        case 0x8808: "Ethernet flow control"
        case 0x6558: "Ethernet bridging"
        case 0x88BE: "ERSPAN"
        case 0x22EB: "ERSPAN III"
        case 0x0842: "Wake-on-LAN"
        case 0x88E5: "MACsec"
        case 0x893A: "IEEE 1905"
        case 0x8137: "IPX"
        default: "0x" + hex4(rawValue)
        }
    }
}
