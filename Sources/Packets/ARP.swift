/// An ARP packet for IPv4 over Ethernet (RFC 826): who has an address, and the answer. The
/// failover lab sends it as a gratuitous ARP (RFC 5227's announcement: a request whose sender
/// and target address are both the address being claimed), so that every host on the link
/// moves its cache entry for the virtual address to the new master's MAC at once, instead of
/// sending to the dead one until the entry times out. Pure bytes in, bytes out; never traps.
public struct ARPPacket: Hashable, Sendable {
    public enum Operation: UInt16, Sendable {
        case request = 1
        case reply = 2
    }
    public var operation: Operation
    public var senderMAC: MACAddress
    public var senderAddress: IPv4Address
    public var targetMAC: MACAddress
    public var targetAddress: IPv4Address

    /// The 28 bytes of an Ethernet/IPv4 ARP packet.
    public static let length = 28

    public init(operation: Operation, senderMAC: MACAddress, senderAddress: IPv4Address, targetMAC: MACAddress, targetAddress: IPv4Address) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderAddress = senderAddress
        self.targetMAC = targetMAC
        self.targetAddress = targetAddress
    }

    /// RFC 5227 §3 announcement: "I am `address`", to everyone.
    public static func announcement(of address: IPv4Address, from mac: MACAddress) -> ARPPacket {
        ARPPacket(operation: .request, senderMAC: mac, senderAddress: address, targetMAC: MACAddress(0), targetAddress: address)
    }

    /// RFC 5227 §2.1.1 probe: "who has `address`?" with sender address 0.0.0.0, so that no
    /// host's cache learns anything from the question.
    public static func probe(for address: IPv4Address, from mac: MACAddress) -> ARPPacket {
        ARPPacket(operation: .request, senderMAC: mac, senderAddress: IPv4Address(0), targetMAC: MACAddress(0), targetAddress: address)
    }

    /// A gratuitous ARP: it names its own sender address as the target (request or reply, as
    /// tshark's `arp.isgratuitous`).
    public var isGratuitous: Bool { senderAddress == targetAddress && senderAddress.value != 0 }

    /// Decodes the ARP packet at the start of `bytes` (after the Ethernet header); nil when
    /// it is short or not Ethernet/IPv4 ARP.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        let view = ByteView(bytes: bytes)
        guard view.count >= Self.length, view.u16(0) == 1, view.u16(2) == 0x0800, view.u8(4) == 6, view.u8(5) == 4,
              let operation = Operation(rawValue: view.u16(6)) else { return nil }
        self.operation = operation
        senderMAC = MACAddress(view, at: 8)
        senderAddress = IPv4Address(view.u32(14))
        targetMAC = MACAddress(view, at: 18)
        targetAddress = IPv4Address(view.u32(24))
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [0, 1, 0x08, 0x00, 6, 4, 0, UInt8(operation.rawValue)]
        bytes += senderMAC.bytes + senderAddress.bytes + targetMAC.bytes + targetAddress.bytes
        return bytes
    }

    /// The whole Ethernet frame: broadcast, from `senderMAC`, EtherType 0x0806.
    public func broadcastFrame() -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 6) + senderMAC.bytes + [0x08, 0x06] + encoded()
    }
}

extension MACAddress {
    /// The six bytes, first on the wire first.
    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> (40 - 8 * UInt64($0))) } }

    /// `02:00:0a:63:01:01` (two hex digits a byte, colons or dashes); nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        self.init(value)
    }

    /// The six bytes, as `ioctl(SIOCGIFHWADDR)` returns them.
    public init(bytes: [UInt8]) {
        self.init(bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
}

/// IPv6's gratuitous ARP: an unsolicited neighbour advertisement (RFC 4861 §7.2.6) to all nodes
/// (ff02::1), with the Override flag set so that every neighbour cache replaces the address's
/// old link-layer address with this one, and the target link-layer address option carrying it.
/// The source is the address itself, which the interface holds by then.
public enum UnsolicitedNeighborAdvertisement {
    public static let allNodes = IPv6Address("ff02::1")!

    /// The whole Ethernet frame: to 33:33:00:00:00:01 (all nodes' multicast MAC), EtherType
    /// 0x86DD, IPv6 with hop limit 255 (RFC 4861 makes receivers drop anything less), ICMPv6
    /// type 136 with its checksum over the pseudo-header.
    public static func frame(announcing address: IPv6Address, from mac: MACAddress) -> [UInt8] {
        var icmp: [UInt8] = [136, 0, 0, 0, 0x20, 0, 0, 0] + address.bytes + [2, 1] + mac.bytes
        var sum = InternetChecksum()
        sum.add(address.bytes)
        sum.add(allNodes.bytes)
        sum.add(word32: UInt32(icmp.count))
        sum.add(word32: 58)
        sum.add(icmp)
        let checksum = sum.value
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xFF)
        let ipv6: [UInt8] = [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xFF), 58, 255] + address.bytes + allNodes.bytes
        return [0x33, 0x33, 0, 0, 0, 1] + mac.bytes + [0x86, 0xDD] + ipv6 + icmp
    }
}
