/// What sits around an IP packet on links and in tunnels nobody here uses but other people's
/// captures hold: VLAN stacks, PPPoE, 802.3 with LLC/SNAP, MPLS, Linux SLL, GRE and ERSPAN,
/// IP-in-IP, VXLAN and Geneve; and IP fragments. Each is built by the book (the RFC or IEEE
/// layout), so that tshark, the oracle, decodes it.
extension FrameBuilder {
    public static let outer4a: [UInt8] = [192, 168, 0, 1]
    public static let outer4b: [UInt8] = [192, 168, 0, 2]
    public static let outer6a: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    public static let outer6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    /// The EtherType for an IP packet, from its version nibble.
    public static func etherType(of ip: [UInt8]) -> Int { ip.first.map { $0 >> 4 == 6 ? 0x86DD : 0x0800 } ?? 0x0800 }

    /// An Ethernet frame around an IP packet (the type from its version).
    public static func ethernet(carrying ip: [UInt8]) -> [UInt8] { ethernet(type: etherType(of: ip), ip) }

    /// Tags of any depth, outermost first, each with its own tag protocol (0x8100 802.1Q,
    /// 0x88A8 802.1ad, 0x9100 the older Q-in-Q).
    public static func ethernet(tags: [(tpid: Int, vlan: Int)], carrying ip: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
        for (index, tag) in tags.enumerated() {
            if index == 0 { frame += be16(tag.tpid) }
            frame += be16(tag.vlan) + be16(index + 1 < tags.count ? tags[index + 1].tpid : etherType(of: ip))
        }
        return frame + ip
    }

    /// RFC 2516 PPPoE session: version/type 0x11, code 0, session id, length, PPP protocol.
    public static func pppoe(session: Int = 0x1234, _ ip: [UInt8]) -> [UInt8] {
        let ppp = etherType(of: ip) == 0x86DD ? 0x0057 : 0x0021
        return ethernet(type: 0x8864, [0x11, 0] + be16(session) + be16(ip.count + 2) + be16(ppp) + ip)
    }

    /// 802.3: a length instead of a type, then LLC (DSAP, SSAP, control) and SNAP (OUI 0,
    /// the EtherType) in front of an IP packet.
    public static func ieee8023Snap(_ ip: [UInt8]) -> [UInt8] {
        let body: [UInt8] = [0xAA, 0xAA, 0x03, 0, 0, 0] + be16(etherType(of: ip)) + ip
        return ethernet(type: body.count, body)
    }

    /// 802.3 with plain LLC: a spanning-tree BPDU (DSAP = SSAP = 0x42).
    public static func spanningTreeBPDU() -> [UInt8] {
        let body: [UInt8] = [0x42, 0x42, 0x03] + [UInt8](repeating: 0, count: 35)
        return [0x01, 0x80, 0xC2, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x01] + be16(body.count) + body
    }

    /// Linux cooked capture v1 (DLT_LINUX_SLL, 16 bytes): packet type, ARPHRD, address.
    public static func linuxCooked(packetType: Int = 0, _ ip: [UInt8]) -> [UInt8] {
        be16(packetType) + be16(1) + be16(6) + [0x02, 0, 0, 0, 0, 0x01, 0, 0] + be16(etherType(of: ip)) + ip
    }

    /// An MPLS label stack (RFC 3032), the last entry with the bottom-of-stack bit.
    public static func mpls(labels: [Int], _ ip: [UInt8]) -> [UInt8] {
        ethernet(type: 0x8847, labelStack(labels) + ip)
    }

    /// PPP (DLT_PPP, HDLC-like framing FF 03) with an MPLS label stack: protocol 0x0281.
    public static func pppMPLS(labels: [Int], _ ip: [UInt8]) -> [UInt8] {
        [0xFF, 0x03] + be16(0x0281) + labelStack(labels) + ip
    }

    /// The label entries, TTL 64, the last with the bottom-of-stack bit.
    static func labelStack(_ labels: [Int]) -> [UInt8] {
        labels.enumerated().flatMap { index, label in
            be32(UInt32(label) << 12 | (index == labels.count - 1 ? 0x100 : 0) | 64)
        }
    }

    /// DLT_PPP_ETHER: the PPPoE session header and PPP protocol, no Ethernet header.
    public static func pppOverEthernet(session: Int = 0x2345, _ ip: [UInt8]) -> [UInt8] {
        [0x11, 0] + be16(session) + be16(ip.count + 2) + be16(etherType(of: ip) == 0x86DD ? 0x0057 : 0x0021) + ip
    }

    /// DLT_JUNIPER_ETHER: "MGC", flags (0x80: a TLV extension follows, 0x01: inbound), the
    /// extension's length and TLVs (an interface index), then the Ethernet frame.
    public static func juniperEthernet(inbound: Bool = true, _ ip: [UInt8]) -> [UInt8] {
        let extensions: [UInt8] = [4, 4, 0, 0, 0x01, 0x4C]  // TLV 4 (ifd index), length 4
        return [0x4D, 0x47, 0x43, 0x80 | (inbound ? 1 : 0)] + be16(extensions.count) + extensions + ethernet(carrying: ip)
    }

    /// DLT_IPOIB: 20 bytes of source and 20 of destination hardware address (queue pair
    /// number and GID), the EtherType and 2 reserved bytes.
    public static func ipOverInfiniBand(_ ip: [UInt8]) -> [UInt8] {
        let source = [UInt8](repeating: 0, count: 20)
        let destination: [UInt8] = [0x80, 0, 0x05, 0x50, 0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xE0, 0, 0x66, 0x4A, 0xB4, 0x51]
        return source + destination + be16(etherType(of: ip)) + [0, 0] + ip
    }

    /// An IPv4 header from `source` to `destination` (the outer header of a tunnel).
    public static func ipv4(protocol proto: UInt8, from source: [UInt8], to destination: [UInt8], id: Int = 0x4321,
                            flagsFragment: Int = 0x4000, _ payload: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x45, 0] + be16(20 + payload.count) + be16(id) + be16(flagsFragment) + [64, proto, 0, 0]
            + source + destination
        let sum = checksum(header)
        header[10] = UInt8(sum >> 8)
        header[11] = UInt8(sum & 0xFF)
        return header + payload
    }

    public static func ipv6(nextHeader: UInt8, from source: [UInt8], to destination: [UInt8], _ payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payload.count) + [nextHeader, 64] + source + destination + payload
    }

    /// RFC 2784 GRE with RFC 2890's key and sequence number when given, over outer IPv4.
    public static func gre(protocolType: Int? = nil, key: UInt32? = nil, sequence: UInt32? = nil, _ inner: [UInt8]) -> [UInt8] {
        var flags = 0
        var words: [UInt8] = []
        if let key { flags |= 0x2000; words += be32(key) }
        if let sequence { flags |= 0x1000; words += be32(sequence) }
        let header = be16(flags) + be16(protocolType ?? etherType(of: inner)) + words
        return ethernet(ipv4(protocol: 47, from: outer4a, to: outer4b, header + inner))
    }

    /// Cisco ERSPAN over GRE: type I (no sequence, no ERSPAN header), II (sequence and an
    /// 8-byte header) or III (a 12-byte header, protocol 0x22EB); the mirrored frame inside.
    public static func erspan(type: Int, sequence: UInt32 = 1, mirroring frame: [UInt8]) -> [UInt8] {
        let gre: [UInt8]
        switch type {
        case 1: gre = be16(0) + be16(0x88BE)
        case 2: gre = be16(0x1000) + be16(0x88BE) + be32(sequence) + be16(0x1000 | 10) + be16(1) + be32(0)
        default: gre = be16(0x1000) + be16(0x22EB) + be32(sequence) + be16(0x2000 | 10) + be16(1) + be32(0) + be16(0) + be16(0)
        }
        return ethernet(ipv4(protocol: 47, from: outer4a, to: outer4b, gre + frame))
    }

    /// IP directly in IP: protocol 4 (IPv4 inside) or 41 (IPv6 inside), over IPv4 or IPv6.
    public static func ipInIP(outerIPv6: Bool, _ inner: [UInt8]) -> [UInt8] {
        let proto: UInt8 = etherType(of: inner) == 0x86DD ? 41 : 4
        return outerIPv6
            ? ethernet(type: 0x86DD, ipv6(nextHeader: proto, from: outer6a, to: outer6b, inner))
            : ethernet(ipv4(protocol: proto, from: outer4a, to: outer4b, inner))
    }

    /// A UDP datagram between the outer addresses (checksum 0: allowed over IPv4).
    static func outerUDP(sourcePort: Int, destinationPort: Int, _ payload: [UInt8]) -> [UInt8] {
        ethernet(ipv4(protocol: 17, from: outer4a, to: outer4b, be16(sourcePort) + be16(destinationPort) + be16(8 + payload.count) + [0, 0] + payload))
    }

    /// RFC 7348 VXLAN on port 4789: flags (I), the 24-bit network id, an Ethernet frame.
    public static func vxlan(network: UInt32 = 1234, sourcePort: Int = 51000, _ frame: [UInt8]) -> [UInt8] {
        outerUDP(sourcePort: sourcePort, destinationPort: 4789, [0x08, 0, 0, 0] + be32(network << 8) + frame)
    }

    /// RFC 8926 Geneve on port 6081, with `options` (a multiple of 4 bytes) before the frame.
    public static func geneve(network: UInt32 = 77, options: [UInt8] = [], _ frame: [UInt8]) -> [UInt8] {
        outerUDP(sourcePort: 52000, destinationPort: 6081, [UInt8(options.count / 4), 0] + be16(0x6558) + be32(network << 8) + options + frame)
    }

    /// An IPv4 packet cut into fragments carrying `sizes` bytes of its payload each (multiples
    /// of 8 but the last); the pieces in order.
    public static func fragments(ofIPv4 packet: [UInt8], sizes: [Int], id: Int) -> [[UInt8]] {
        let headerLength = Int(packet[0] & 0x0F) * 4
        let payload = Array(packet[headerLength...])
        var pieces: [[UInt8]] = []
        var offset = 0
        for size in sizes {
            let part = Array(payload[offset..<min(offset + size, payload.count)])
            let more = offset + size < payload.count
            var header = Array(packet[..<headerLength])
            header.replaceSubrange(2..<4, with: be16(headerLength + part.count))
            header.replaceSubrange(4..<6, with: be16(id))
            header.replaceSubrange(6..<8, with: be16((more ? 0x2000 : 0) | offset / 8))
            header.replaceSubrange(10..<12, with: [0, 0])
            header.replaceSubrange(10..<12, with: be16(Int(checksum(header))))
            pieces.append(header + part)
            offset += size
        }
        return pieces
    }

    /// An IPv6 packet (no extension headers) cut into fragments with fragment headers.
    public static func fragments(ofIPv6 packet: [UInt8], sizes: [Int], id: UInt32) -> [[UInt8]] {
        let nextHeader = packet[6]
        let payload = Array(packet[40...])
        var pieces: [[UInt8]] = []
        var offset = 0
        for size in sizes {
            let part = Array(payload[offset..<min(offset + size, payload.count)])
            let more = offset + size < payload.count
            let fragmentHeader: [UInt8] = [nextHeader, 0] + be16((offset / 8) << 3 | (more ? 1 : 0)) + be32(id)
            var header = Array(packet[..<40])
            header.replaceSubrange(4..<6, with: be16(8 + part.count))
            header[6] = 44
            pieces.append(header + fragmentHeader + part)
            offset += size
        }
        return pieces
    }

    /// One conversation as raw IP packets: handshake (MSS and window scale offered), a
    /// request, a reply, and the FIN exchange. `reply` packets go the other way.
    public static func conversation(ipv6 six: Bool = false, clientPort: Int = 40000, request: [UInt8] = Array("hello world".utf8),
                                    response: [UInt8] = Array("HTTP/1.0 200".utf8)) -> [[UInt8]] {
        let options: [UInt8] = [2, 4, 5, 180, 1, 3, 3, 7]
        let (c, s): (UInt32, UInt32) = (1000, 5000)
        let q = UInt32(request.count), r = UInt32(response.count)
        func packet(_ fromClient: Bool, seq: UInt32, ack: UInt32, flags: Int, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
            let segment = tcpBetween(fromClient: fromClient, ipv6: six, sourcePort: fromClient ? clientPort : 80,
                                     destinationPort: fromClient ? 80 : clientPort, seq: seq, ack: ack, flags: flags,
                                     options: options, payload: payload)
            return six ? ipv6(nextHeader: 6, from: fromClient ? source6 : destination6, to: fromClient ? destination6 : source6, segment)
                : ipv4(protocol: 6, reply: !fromClient, segment)
        }
        return [
            packet(true, seq: c, ack: 0, flags: 0x02, options: options),
            packet(false, seq: s, ack: c + 1, flags: 0x12, options: options),
            packet(true, seq: c + 1, ack: s + 1, flags: 0x10),
            packet(true, seq: c + 1, ack: s + 1, flags: 0x18, payload: request),
            packet(false, seq: s + 1, ack: c + 1 + q, flags: 0x18, payload: response),
            packet(true, seq: c + 1 + q, ack: s + 1 + r, flags: 0x11),
            packet(false, seq: s + 1 + r, ack: c + 2 + q, flags: 0x11),
            packet(true, seq: c + 2 + q, ack: s + 2 + r, flags: 0x10),
        ]
    }

    /// A TCP segment whose checksum is right for its direction (the client is source4/6).
    public static func tcpBetween(fromClient: Bool, ipv6 six: Bool, sourcePort: Int, destinationPort: Int, seq: UInt32, ack: UInt32,
                                  flags: Int, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        let headerLength = 20 + options.count
        var segment = be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack)
            + [UInt8(headerLength / 4) << 4 | UInt8(flags >> 8 & 0xF), UInt8(flags & 0xFF)] + be16(65535) + [0, 0, 0, 0]
            + options + payload
        let (from, to) = six ? (source6, destination6) : (source4, destination4)
        let pseudo = six ? (fromClient ? from + to : to + from) + be32(UInt32(segment.count)) + [0, 0, 0, 6]
            : (fromClient ? from + to : to + from) + [0, 6] + be16(segment.count)
        let sum = checksum(pseudo + segment)
        segment[16] = UInt8(sum >> 8)
        segment[17] = UInt8(sum & 0xFF)
        return segment
    }
}

/// A pcap file written byte by byte, so that a test can put in it what libpcap's writer never
/// would: a fraction of a second of 1,000,000 µs or more, an original length below the
/// captured one.
public struct PcapBytes {
    public var bytes: [UInt8]
    private let nanoseconds: Bool
    /// Written as a big-endian host writes it (SPARC, PowerPC, old MIPS routers).
    private let bigEndian: Bool

    public init(linkType: Int32, nanoseconds: Bool = false, snapshotLength: UInt32 = 262_144, bigEndian: Bool = false) {
        self.nanoseconds = nanoseconds
        self.bigEndian = bigEndian
        let u32 = { (value: UInt32) in Self.u32(value, bigEndian: bigEndian) }
        bytes = u32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4) + (bigEndian ? [0, 2, 0, 4] : [2, 0, 4, 0]) + u32(0) + u32(0)
            + u32(snapshotLength) + u32(UInt32(bitPattern: linkType))
    }

    /// One record; `fraction` in the file's unit (µs or ns), unchecked.
    public mutating func add(_ frame: [UInt8], seconds: UInt32, fraction: UInt32, originalLength: Int? = nil, captured: Int? = nil) {
        let kept = Array(frame.prefix(captured ?? frame.count))
        let bigEndian = self.bigEndian
        let u32 = { (value: UInt32) in Self.u32(value, bigEndian: bigEndian) }
        bytes += u32(seconds) + u32(fraction) + u32(UInt32(kept.count)) + u32(UInt32(originalLength ?? frame.count))
        bytes += kept
    }

    static func u32(_ value: UInt32, bigEndian: Bool) -> [UInt8] { bigEndian ? le32(value).reversed() : le32(value) }

    /// Frames a millisecond apart from 1,700,000,000 s.
    public static func file(linkType: Int32, bigEndian: Bool = false, _ frames: [[UInt8]]) -> PcapBytes {
        var file = PcapBytes(linkType: linkType, bigEndian: bigEndian)
        for (index, frame) in frames.enumerated() { file.add(frame, seconds: 1_700_000_000, fraction: UInt32(index) * 1000) }
        return file
    }

    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
