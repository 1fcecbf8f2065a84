#if !FUZZING
import Glibc
import Packets
import FrameBuilder

/// Without libFuzzer (a plain `swift build`): `packets-fuzz FILE…` runs saved inputs (a
/// corpus, or a crash libFuzzer found) through the same decoding, and
/// `packets-fuzz --seeds DIR` writes the seed inputs `make fuzz` starts from.
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--seeds", arguments.count == 2 {
            writeSeeds(to: arguments[1])
            return
        }
        var count = 0
        for path in arguments {
            guard let bytes = readFile(path) else {
                print("packets-fuzz: cannot read \(path)")
                exit(2)
            }
            bytes.withUnsafeBytes { decodeEverything($0) }
            count += 1
        }
        print("packets-fuzz: decoded \(count) inputs without a trap")
    }

    /// Valid frames of every kind, each prefixed with the byte that selects its link type.
    static func writeSeeds(to directory: String) {
        typealias F = FrameBuilder
        let syn: [UInt8] = [2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
        let sack: [UInt8] = [1, 1, 5, 10] + F.be32(5) + F.be32(9)
        let ip = F.ipv4(protocol: 17, F.udp(payload: [1, 2, 3]))
        let seeds: [(UInt8, [UInt8])] = [
            (0, F.ethernet(F.ipv4(protocol: 6, F.tcp(options: syn)))),
            (0, F.ethernet(F.ipv4(protocol: 6, F.tcp(flags: 0x10, options: sack, payload: [1])))),
            (0, F.ethernet(vlans: [7], ip)),
            (0, F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 3, code: 3, body: ip)))),
            (0, F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 8, rest: [0, 1, 0, 1], body: [1, 2])))),
            (0, F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, extensions: [(0, [0, 0, 1, 4, 0, 0, 0, 0]), (44, [0, 0, 0, 0, 0, 0, 0, 1])], F.tcp(ipv6: true)))),
            (0, F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 135, body: F.destination6 + [1, 1, 2, 0, 0, 0, 0, 1])))),
            (1, F.be16(0) + F.be16(772) + F.be16(6) + [UInt8](repeating: 0, count: 8) + F.be16(0x0800) + ip),
            (2, F.be16(0x0800) + [0, 0] + F.be32(1) + F.be16(772) + [0, 6] + [UInt8](repeating: 0, count: 8) + ip),
            (3, [2, 0, 0, 0] + ip),
            (5, ip),
            // A whole connection, frame after frame: the tracker's seed.
            (6, connection()),
            // The same with record headers (top bit): one fraction is a whole second.
            (0x80 | 6, withRecordHeaders(connection())),
            // Encapsulations and tunnels, each around a whole conversation.
            (0, Array(F.conversation().map { F.ethernet(tags: [(0x88A8, 100), (0x8100, 10), (0x8100, 20)], carrying: $0) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation(ipv6: true).map { F.pppoe($0) }.joined(separator: frameSeparator))),
            (0, Array((F.conversation().map(F.ieee8023Snap) + [F.spanningTreeBPDU()]).joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.mpls(labels: [100, 200], $0) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.gre(key: 42, sequence: 1, $0) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.gre(protocolType: 0x6558, F.ethernet(carrying: $0)) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.erspan(type: 3, mirroring: F.ethernet(carrying: $0)) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation(ipv6: true).map { F.ipInIP(outerIPv6: false, $0) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.vxlan(F.ethernet(carrying: $0)) }.joined(separator: frameSeparator))),
            (0, Array(F.conversation().map { F.geneve(options: [1, 2, 3, 1, 0, 0, 0, 0], F.ethernet(carrying: $0)) }.joined(separator: frameSeparator))),
            (6, Array(F.fragments(ofIPv4: F.ipv4(protocol: 17, F.udp(payload: [UInt8](repeating: 7, count: 300))), sizes: [104, 104, 200], id: 9).reversed().joined(separator: frameSeparator))),
            (7, Array(F.fragments(ofIPv6: F.ipv6(nextHeader: 6, from: F.source6, to: F.destination6, F.tcp(payload: [UInt8](repeating: 1, count: 300), ipv6: true)), sizes: [96, 96, 200], id: 3).joined(separator: frameSeparator))),
            (9, [0xFF, 0x03, 0x00, 0x21] + ip),
            (11, [0x0F, 0x00, 0x08, 0x00] + ip),
            (13, [2, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, UInt8(ip.count + 4), 0, 9, 0] + ip),
            // Whole files for the format reader: a pcap with a malformed fraction, and a
            // pcapng with two interfaces of different link types.
            (0xFE, PcapBytes.file(linkType: 1, F.conversation().map(F.ethernet(carrying:))).bytes),
            (0xFE, pcapngWithTwoInterfaces()),
            (0xFE, PcapBytes.file(linkType: 1, bigEndian: true, F.conversation().map(F.ethernet(carrying:))).bytes),
            (9, Array(F.conversation().map { F.pppMPLS(labels: [16, 17], $0) }.joined(separator: frameSeparator))),
            (15, Array(F.conversation().map { F.pppOverEthernet($0) }.joined(separator: frameSeparator))),
            (16, Array(F.conversation().map { F.juniperEthernet($0) }.joined(separator: frameSeparator))),
            (17, Array(F.conversation(ipv6: true).map { F.ipOverInfiniBand($0) }.joined(separator: frameSeparator))),
        ]
        for (index, seed) in seeds.enumerated() {
            let path = "\(directory)/seed-\(index)"
            guard let file = fopen(path, "wb") else { print("packets-fuzz: cannot write \(path)"); exit(2) }
            let bytes = [seed.0] + seed.1
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        print("packets-fuzz: wrote \(seeds.count) seeds to \(directory)")
    }

    /// Handshake, data each way, a retransmission, a duplicate ACK and the FIN exchange, as
    /// raw IPv4 frames joined by the separator.
    static func connection() -> [UInt8] {
        typealias F = FrameBuilder
        let mss: [UInt8] = [2, 4, 5, 180, 1, 3, 3, 7]
        let frames: [[UInt8]] = [
            F.ipv4(protocol: 6, F.tcp(seq: 1000, flags: 0x02, options: mss)),
            F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: 40000, seq: 5000, ack: 1001, flags: 0x12, options: mss)),
            F.ipv4(protocol: 6, F.tcp(seq: 1001, ack: 5001, flags: 0x10)),
            F.ipv4(protocol: 6, F.tcp(seq: 1001, ack: 5001, flags: 0x18, payload: [UInt8](repeating: 65, count: 20))),
            F.ipv4(protocol: 6, F.tcp(seq: 1001, ack: 5001, flags: 0x18, payload: [UInt8](repeating: 65, count: 20))),
            F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: 40000, seq: 5001, ack: 1021, flags: 0x10)),
            F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: 40000, seq: 5001, ack: 1021, flags: 0x10)),
            F.ipv4(protocol: 6, F.tcp(seq: 1021, ack: 5001, flags: 0x11)),
            F.ipv4(protocol: 6, reply: true, F.tcp(sourcePort: 80, destinationPort: 40000, seq: 5001, ack: 1022, flags: 0x11)),
            F.ipv4(protocol: 6, F.tcp(seq: 1022, ack: 5002, flags: 0x10)),
        ]
        return Array(frames.joined(separator: frameSeparator))
    }

    /// Each frame of `frames` (joined by the separator) behind a 12-byte record header:
    /// seconds, a fraction (the second one a whole second: a malformed record) and a length.
    static func withRecordHeaders(_ frames: [UInt8]) -> [UInt8] {
        func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let pieces = frames.withUnsafeBytes { split($0).map(Array.init) }
        return Array(pieces.enumerated().map { index, frame in
            le32(1_700_000_000) + le32(index == 1 ? 1_000_000_000 : UInt32(index) * 1000) + le32(UInt32(frame.count + (index == 2 ? 100 : 0))) + frame
        }.joined(separator: frameSeparator))
    }

    /// A little-endian pcapng: a section header, an Ethernet and a raw-IP interface (the
    /// second with nanosecond resolution), and one enhanced packet block on each.
    static func pcapngWithTwoInterfaces() -> [UInt8] {
        typealias F = FrameBuilder
        func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            return le32(type) + le32(UInt32(padded.count + 12)) + padded + le32(UInt32(padded.count + 12))
        }
        let section = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
        let ethernet = block(1, le16(1) + le16(0) + le32(65535))
        let raw = block(1, le16(101) + le16(0) + le32(65535) + le16(9) + le16(1) + [9, 0, 0, 0] + le16(0) + le16(0))
        let frame = F.ethernet(carrying: F.conversation()[0]), ip = F.conversation()[1]
        let first = block(6, le32(0) + le32(0) + le32(1_000_000) + le32(UInt32(frame.count)) + le32(UInt32(frame.count)) + frame)
        let second = block(6, le32(1) + le32(0) + le32(2_000_000_000) + le32(UInt32(ip.count)) + le32(UInt32(ip.count)) + ip)
        return section + ethernet + raw + first + second
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return bytes
    }
}
#endif
