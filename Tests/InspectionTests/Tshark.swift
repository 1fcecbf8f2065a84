import PacketCapture
import Foundation
import Packets
import Testing
import TestSupport

/// tshark as the oracle: the fields it reports for each frame, beside the same fields taken
/// from SocketLab's decode, in tshark's names. Numbers are compared as numbers (tshark prints
/// some in hex), booleans as 1/0.
enum Tshark {
    /// Every field compared, by tshark's name.
    static let fields = [
        "frame.len", "frame.cap_len", "frame.time_epoch",
        "eth.src", "eth.dst", "eth.type",
        "sll.pkttype", "sll.hatype", "sll.etype", "sll.ifindex",
        "ip.version", "ip.hdr_len", "ip.dsfield.dscp", "ip.dsfield.ecn", "ip.len", "ip.id",
        "ip.flags.rb", "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "ip.ttl", "ip.proto",
        "ip.checksum", "ip.checksum.status", "ip.src", "ip.dst",
        "ipv6.tclass", "ipv6.flow", "ipv6.plen", "ipv6.nxt", "ipv6.hlim", "ipv6.src", "ipv6.dst",
        "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len", "tcp.flags",
        "tcp.window_size_value", "tcp.checksum", "tcp.checksum.status", "tcp.urgent_pointer", "tcp.len",
        "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm",
        "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "tcp.options.sack.count",
        "tcp.options.sack_le", "tcp.options.sack_re",
        "udp.srcport", "udp.dstport", "udp.length", "udp.checksum", "udp.checksum.status",
        "icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status", "icmp.ident", "icmp.seq",
        "icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.checksum.status",
        "icmpv6.echo.identifier", "icmpv6.echo.sequence_number",
        "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
    ]

    /// tshark's value of each field for each frame (first occurrence: the outer header when an
    /// ICMP error quotes another). Checksum verification is switched on, raw sequence numbers.
    static func read(_ file: String, occurrence: String = "f") throws -> [[String: String]] {
        let arguments = ["tshark", "-r", file, "-n",
                         "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                         "-o", "udp.check_checksum:TRUE", "-o", "tcp.relative_sequence_numbers:FALSE",
                         "-T", "fields", "-E", "separator=\t", "-E", "occurrence=\(occurrence)"]
            + fields.flatMap { ["-e", $0] }
        let (status, output) = try run(arguments, separateErrors: true)
        guard status == 0 else { throw TsharkFailed(output: output) }
        return output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            var row: [String: String] = [:]
            for (name, value) in zip(fields, line.split(separator: "\t", omittingEmptySubsequences: false)) where !value.isEmpty {
                row[name] = normalize(String(value))
            }
            return row
        }
    }

    struct TsharkFailed: Error { let output: String }

    static func normalize(_ value: String) -> String {
        if value == "True" { return "1" }
        if value == "False" { return "0" }
        if value.hasPrefix("0x"), let number = UInt64(value.dropFirst(2), radix: 16) { return String(number) }
        return value
    }

    /// The same fields from SocketLab's decode of one frame.
    static func ours(_ frame: CapturedFrame, _ packet: Packet) -> [String: String] {
        var row: [String: String] = [
            "frame.len": "\(frame.originalLength)", "frame.cap_len": "\(frame.bytes.count)",
            "frame.time_epoch": frame.timestamp.description,
        ]
        func set(_ name: String, _ value: (any CustomStringConvertible)?) {
            if let value { row[name] = value.description }
        }
        func flag(_ value: Bool) -> Int { value ? 1 : 0 }
        func status(_ checksum: ChecksumStatus) -> Int {
            // tshark: 0 bad, 1 good, 2 unverified, 3 not present.
            switch checksum {
            case .bad: 0
            case .good: 1
            case .unverified: 2
            case .absent: 3
            }
        }
        switch packet.link {
        case .ethernet(let eth):
            set("eth.src", eth.source)
            set("eth.dst", eth.destination)
            if !eth.isIEEE8023 { set("eth.type", eth.typeField) }  // 802.3 has a length there (eth.len)
        case .linuxCooked(let sll):
            set("sll.pkttype", sll.packetType)
            set("sll.hatype", sll.hardwareType)
            set("sll.etype", sll.protocolType.rawValue)
            set("sll.ifindex", sll.interfaceIndex)
        default: break
        }
        switch packet.network {
        case .ipv4(let ip):
            set("ip.version", 4)
            set("ip.hdr_len", ip.headerLength)
            set("ip.dsfield.dscp", ip.dscp)
            set("ip.dsfield.ecn", ip.ecn)
            set("ip.len", ip.totalLength)
            set("ip.id", ip.identification)
            set("ip.flags.rb", flag(ip.reservedFlag))
            set("ip.flags.df", flag(ip.dontFragment))
            set("ip.flags.mf", flag(ip.moreFragments))
            set("ip.frag_offset", ip.fragmentOffset / 8)  // tshark 4.0 prints the field in 8-byte units
            set("ip.ttl", ip.ttl)
            set("ip.proto", ip.protocol.rawValue)
            set("ip.checksum", ip.checksum)
            set("ip.checksum.status", status(ip.checksumStatus))
            set("ip.src", ip.source)
            set("ip.dst", ip.destination)
        case .ipv6(let ip):
            set("ip.version", 6)  // tshark's IPv6 dissector fills ip.version too
            set("ipv6.tclass", ip.trafficClass)
            set("ipv6.flow", ip.flowLabel)
            set("ipv6.plen", ip.payloadLength)
            set("ipv6.nxt", ip.nextHeader.rawValue)
            set("ipv6.hlim", ip.hopLimit)
            set("ipv6.src", ip.source)
            set("ipv6.dst", ip.destination)
        default: break
        }
        switch packet.transport {
        case .tcp(let tcp):
            set("tcp.srcport", tcp.sourcePort)
            set("tcp.dstport", tcp.destinationPort)
            set("tcp.seq_raw", tcp.sequenceNumber)
            set("tcp.ack_raw", tcp.acknowledgementNumber)
            set("tcp.hdr_len", tcp.headerLength)
            set("tcp.flags", tcp.flags.rawValue)
            set("tcp.window_size_value", tcp.window)
            // A header cut short: tshark has the fields the capture holds, no more.
            let held = frame.bytes.count - tcp.offset
            if held >= 18 {
                set("tcp.checksum", tcp.checksum)
                set("tcp.checksum.status", status(tcp.checksumStatus))
            }
            if held >= 20 { set("tcp.urgent_pointer", tcp.urgentPointer) }
            // In a first fragment tshark dissects without reassembling, the length is unknown.
            if !packet.isFragment { set("tcp.len", tcp.payloadLength) }
            set("tcp.options.mss_val", tcp.options.mss)
            set("tcp.options.wscale.shift", tcp.options.windowScale)
            if tcp.options.sackPermitted { row["tcp.options.sack_perm"] = "present" }
            set("tcp.options.timestamp.tsval", tcp.options.timestampValue)
            set("tcp.options.timestamp.tsecr", tcp.options.timestampEchoReply)
            if tcp.options.sackBlockCount > 0 {
                set("tcp.options.sack.count", tcp.options.sackBlockCount)
                set("tcp.options.sack_le", tcp.options.sackBlocks.first?.left)
                set("tcp.options.sack_re", tcp.options.sackBlocks.first?.right)
            }
        case .other(let proto) where proto == .tcp:
            if let ports = packet.cutTCPPorts {
                set("tcp.srcport", ports.source)
                set("tcp.dstport", ports.destination)
            }
        case .udp(let udp):
            set("udp.srcport", udp.sourcePort)
            set("udp.dstport", udp.destinationPort)
            set("udp.length", udp.length)
            set("udp.checksum", udp.checksum)
            set("udp.checksum.status", status(udp.checksumStatus))
        case .icmp(let icmp):
            set("icmp.type", icmp.type)
            set("icmp.code", icmp.code)
            set("icmp.checksum", icmp.checksum)
            set("icmp.checksum.status", status(icmp.checksumStatus))
            if case .echoRequest(let id, let seq) = icmp.message { set("icmp.ident", id); set("icmp.seq", seq) }
            if case .echoReply(let id, let seq) = icmp.message { set("icmp.ident", id); set("icmp.seq", seq) }
        case .icmpv6(let icmp):
            set("icmpv6.type", icmp.type)
            set("icmpv6.code", icmp.code)
            set("icmpv6.checksum", icmp.checksum)
            set("icmpv6.checksum.status", status(icmp.checksumStatus))
            switch icmp.message {
            case .echoRequest(let id, let seq), .echoReply(let id, let seq):
                set("icmpv6.echo.identifier", id)
                set("icmpv6.echo.sequence_number", seq)
            case .neighborSolicitation(let target, _): set("icmpv6.nd.ns.target_address", target)
            case .neighborAdvertisement(let target, _, _, _, _): set("icmpv6.nd.na.target_address", target)
            default: break
            }
        default: break
        }
        // An ICMP error quotes a datagram; tshark dissects the quote as far as it goes, and
        // for a frame with no other transport header its first `udp.*` or `tcp.*` values are
        // the quote's. Compare what SocketLab decodes from a quote: its ports.
        let quote: QuotedDatagram?
        switch packet.transport {
        case .icmp(let icmp):
            switch icmp.message {
            case .destinationUnreachable(let quoted), .timeExceeded(let quoted): quote = quoted
            default: quote = nil
            }
        case .icmpv6(let icmp):
            switch icmp.message {
            case .destinationUnreachable(let quoted), .timeExceeded(let quoted), .packetTooBig(_, let quoted), .parameterProblem(_, let quoted): quote = quoted
            default: quote = nil
            }
        default: quote = nil
        }
        if let quote {
            let name = quote.protocol == .tcp ? "tcp" : "udp"
            set("\(name).srcport", quote.sourcePort)
            set("\(name).dstport", quote.destinationPort)
            if quote.version == 6, row["ip.version"] == nil { row["ip.version"] = "6" }
            if quote.protocol == .icmp {
                set("icmp.ident", quote.echoIdentifier)
                set("icmp.seq", quote.echoSequence)
            }
        }
        return row
    }

    /// Fields tshark reads from an ICMP error's quoted header that SocketLab does not keep
    /// (the quoted UDP length and checksum): not compared on those frames only.
    static let quotedOnly: Set<String> = ["udp.length", "udp.checksum", "udp.checksum.status", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len", "tcp.flags", "tcp.window_size_value", "tcp.checksum", "tcp.checksum.status", "tcp.urgent_pointer", "tcp.len"]

    /// Compares every field of every frame; returns one line per disagreement (empty: agree).
    /// `occurrence` "l" compares the innermost headers (a tunnel's inner packet).
    static func disagreements(file: String, ignoring ignored: Set<String> = [], occurrence: String = "f") throws -> (frames: Int, fields: Int, differences: [String]) {
        let theirs = try read(file, occurrence: occurrence)
        let capture = try CaptureFile(path: file)
        let frames = try capture.readAll()
        var differences: [String] = []
        var compared = 0
        if theirs.count != frames.count {
            differences.append("tshark read \(theirs.count) frames, SocketLab \(frames.count)")
        }
        for (frame, expected) in zip(frames, theirs) {
            var mine = ours(frame, frame.decode(capture.linkType))
            if mine["tcp.options.sack_perm"] != nil, expected["tcp.options.sack_perm"] != nil {
                mine["tcp.options.sack_perm"] = expected["tcp.options.sack_perm"]
            }
            let packet = frame.decode(capture.linkType)
            let isError = (packet.icmp.map { [3, 11].contains($0.type) } ?? false) || (packet.icmpv6.map { $0.type < 128 } ?? false)
            // tshark holds the first fragment of a datagram for reassembly and does not
            // dissect its transport header; SocketLab decodes it, as tcpdump does. (One the
            // frame does not hold whole is not reassembled, so tshark dissects it too.)
            if let ip = packet.ipv4, ip.moreFragments, ip.fragmentOffset == 0, (packet.claimedDatagramEnd ?? 0) <= frame.bytes.count {
                for name in mine.keys where name.hasPrefix("udp.") || name.hasPrefix("tcp.") { mine[name] = nil }
            }
            for name in Set(mine.keys).union(expected.keys) where !ignored.contains(name) && !(isError && quotedOnly.contains(name)) {
                compared += 1
                if mine[name] != expected[name] {
                    differences.append("frame \(frame.number) \(name): tshark \(expected[name] ?? "—"), SocketLab \(mine[name] ?? "—")")
                }
            }
        }
        return (frames.count, compared, differences)
    }
}
