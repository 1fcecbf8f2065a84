/// Builds frames byte by byte for decoder tests: Ethernet, IPv4/IPv6, TCP/UDP/ICMP, with
/// correct lengths and checksums unless a test breaks them on purpose. Its checksum is a
/// plain RFC 1071 loop, independent of the one under test.
public enum FrameBuilder {
    public static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    public static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// RFC 1071, the slow and obvious way: sum 16-bit words, fold, complement.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    public static func ethernet(type: Int = 0x0800, vlans: [Int] = [], _ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
        for vlan in vlans { frame += [0x81, 0x00] + be16(vlan) }
        return frame + be16(type) + payload
    }

    public static let source4: [UInt8] = [10, 0, 0, 1]
    public static let destination4: [UInt8] = [10, 0, 0, 2]

    /// `reply: true` swaps the addresses (destination4 to source4), for the other direction.
    public static func ipv4(protocol proto: UInt8, options: [UInt8] = [], ttl: UInt8 = 64, id: Int = 0x1234,
                            flagsFragment: Int = 0x4000, reply: Bool = false, _ payload: [UInt8]) -> [UInt8] {
        let headerLength = 20 + options.count
        var header: [UInt8] = [UInt8(0x40 | headerLength / 4), 0x00] + be16(headerLength + payload.count)
            + be16(id) + be16(flagsFragment) + [ttl, proto, 0, 0]
            + (reply ? destination4 + source4 : source4 + destination4) + options
        let sum = checksum(header)
        header[10] = UInt8(sum >> 8)
        header[11] = UInt8(sum & 0xFF)
        return header + payload
    }

    public static let source6: [UInt8] = [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [1]
    public static let destination6: [UInt8] = [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [2]

    /// `extensions` are (next-header value of this extension, its bytes) in order.
    public static func ipv6(protocol proto: UInt8, extensions: [(UInt8, [UInt8])] = [], _ payload: [UInt8]) -> [UInt8] {
        var chain: [UInt8] = []
        var first = proto
        for (index, ext) in extensions.enumerated().reversed() {
            var bytes = ext.1
            bytes[0] = index == extensions.count - 1 ? proto : extensions[index + 1].0
            chain = bytes + chain
            first = ext.0
        }
        let body = chain + payload
        return [0x60, 0, 0, 0] + be16(body.count) + [first, 64] + source6 + destination6 + body
    }

    /// A TCP segment with a correct checksum over the IPv4 or IPv6 pseudo-header.
    public static func tcp(sourcePort: Int = 40000, destinationPort: Int = 80, seq: UInt32 = 1000, ack: UInt32 = 0,
                           flags: Int = 0x02, window: Int = 65535, options: [UInt8] = [], payload: [UInt8] = [],
                           ipv6: Bool = false) -> [UInt8] {
        let headerLength = 20 + options.count
        var segment = be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack)
            + [UInt8(headerLength / 4) << 4 | UInt8(flags >> 8 & 1), UInt8(flags & 0xFF)] + be16(window) + [0, 0, 0, 0]
            + options + payload
        let sum = checksum(pseudoHeader(protocol: 6, length: segment.count, ipv6: ipv6) + segment)
        segment[16] = UInt8(sum >> 8)
        segment[17] = UInt8(sum & 0xFF)
        return segment
    }

    public static func udp(sourcePort: Int = 40000, destinationPort: Int = 53, payload: [UInt8], ipv6: Bool = false) -> [UInt8] {
        var datagram = be16(sourcePort) + be16(destinationPort) + be16(8 + payload.count) + [0, 0] + payload
        let sum = checksum(pseudoHeader(protocol: 17, length: datagram.count, ipv6: ipv6) + datagram)
        datagram[6] = UInt8(sum >> 8)
        datagram[7] = UInt8(sum & 0xFF)
        return datagram
    }

    public static func icmp(type: UInt8, code: UInt8 = 0, rest: [UInt8] = [0, 0, 0, 0], body: [UInt8]) -> [UInt8] {
        var message = [type, code, 0, 0] + rest + body
        let sum = checksum(message)
        message[2] = UInt8(sum >> 8)
        message[3] = UInt8(sum & 0xFF)
        return message
    }

    public static func icmpv6(type: UInt8, code: UInt8 = 0, rest: [UInt8] = [0, 0, 0, 0], body: [UInt8]) -> [UInt8] {
        var message = [type, code, 0, 0] + rest + body
        let sum = checksum(pseudoHeader(protocol: 58, length: message.count, ipv6: true) + message)
        message[2] = UInt8(sum >> 8)
        message[3] = UInt8(sum & 0xFF)
        return message
    }

    static func pseudoHeader(protocol proto: UInt8, length: Int, ipv6: Bool) -> [UInt8] {
        ipv6 ? source6 + destination6 + be32(UInt32(length)) + [0, 0, 0, proto]
            : source4 + destination4 + [0, proto] + be16(length)
    }
}
