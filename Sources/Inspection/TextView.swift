import PacketCapture
import Packets


/// The default view: tcpdump's line, with relative numbers, and under the segments that
/// matter an indented note in plain English.
public enum TextView {
    static func line(_ report: SegmentReport, absolute: Bool = false, style: TextStyle) -> String {
        let tcp = report.tcp
        let family = report.source.address.rank.family == 4 ? "IP" : "IP6"
        var text = "\(report.time.timeOfDay) \(family) \(report.source) > \(report.destination): "
        text += tcp.tcpdumpText(
            sequence: absolute ? nil : report.seq, acknowledgement: absolute ? nil : report.ack, window: report.window)
        text = style.segment(text, flags: report.flags, analysis: report.analysis, events: report.events)
        for note in Sentences.notes(for: report, absolute: absolute) {
            for line in style.noteLines(note, lead: "    ", continuation: "      ") { text += "\n" + line }
        }
        return text
    }


    /// One sentence for a frame that is not a TCP segment: UDP, ICMP, a fragment waiting for
    /// the rest of its datagram, a protocol SocketLab does not follow, a malformed packet.
    public static func note(for packet: Packet) -> String {
        if packet.isFragment { return fragmentNote(packet) }
        let tunnel = packet.tunnel.map { " (inside a \($0.name) tunnel from \($0.outerSource) to \($0.outerDestination))" } ?? ""
        if let udp = packet.udp {
            return "UDP\(tunnel): one datagram of \(udp.payloadLength) bytes — no connection, no handshake, no acknowledgement; it arrives whole or not at all."
        }
        if let icmp = packet.icmp {
            return "ICMP \(icmp.name)\(tunnel): a message from the IP layer itself (type \(icmp.type), code \(icmp.code)), not part of any connection."
        }
        if let icmp = packet.icmpv6 {
            return "ICMPv6 \(icmp.name)\(tunnel): a message from the IPv6 layer itself (type \(icmp.type), code \(icmp.code))."
        }
        if let problem = packet.problem { return "Could not decode further: \(problem)." }
        switch packet.network {
        case .other(let type):
            if case .ethernet(let ethernet)? = packet.link, let llc = ethernet.llc {
                return "An 802.3 frame: its type field (\(ethernet.typeField)) is a length, and 802.2 LLC follows, carrying \(llc.name) — a link-layer protocol, not IP; SocketLab follows TCP over IPv4 and IPv6."
            }
            return "\(type == .arp ? "ARP" : "EtherType \(type)") (0x\(String(type.rawValue, radix: 16))): not IP, so there is no TCP to follow; SocketLab follows TCP over IPv4 and IPv6."
        case .ipv4, .ipv6:
            if case .other(let proto)? = packet.transport {
                return "IP protocol \(proto.rawValue) (\(proto))\(tunnel): not TCP, UDP or ICMP, so SocketLab shows only its addresses."
            }
            return "Not TCP, UDP or ICMP."
        case nil:
            return "Not TCP, UDP or ICMP."
        }
    }

    /// A fragment on its own: which bytes of which datagram it holds, and where the datagram's
    /// transport header will be shown.
    static func fragmentNote(_ packet: Packet) -> String {
        var version = "IPv4", identification = 0, start = 0, length = 0, more = false
        if let ip = packet.ipv4 {
            identification = Int(ip.identification)
            start = ip.fragmentOffset
            length = ip.payloadLength
            more = ip.moreFragments
        } else if let ip = packet.ipv6, let fragment = ip.fragment {
            version = "IPv6"
            identification = Int(fragment.fragmentIdentification)
            start = fragment.fragmentOffset
            length = max(0, ip.offset + 40 + ip.datagramPayloadLength - fragment.offset - 8)
            more = fragment.moreFragments
        }
        let range = length > 0 ? "bytes \(start)–\(start + length - 1)" : "no bytes"
        let piece = "\(version) fragment: \(range) of datagram id 0x\(String(identification, radix: 16))\(more ? ", more follow" : ", the last piece")."
        if let claimedEnd = packet.claimedDatagramEnd, claimedEnd > packet.capturedLength {
            // FragmentReassembler's rule, which is tshark's: only a fragment held whole is kept.
            return piece + " Its header claims \(claimedEnd) bytes but the frame holds \(packet.capturedLength), so it cannot be put back"
                + " with the others (tshark does not try either)\(start == 0 ? "; what it holds is shown as it stands" : "")."
        }
        return piece + " The pieces are put back together, as tshark does; the datagram's \(packet.fragmentProtocolName) is shown in the frame that completes it."
    }
}

extension Packet {
    var fragmentProtocolName: String {
        let proto = ipv4?.protocol ?? ipv6?.upperProtocol ?? IPProtocol(0)
        return proto == .tcp ? "TCP segment" : proto == .udp ? "UDP datagram" : "\(proto) message"
    }
}

extension TextView {
    /// The handshake and close blocks a student reads after the packets of a connection.
    public static func block(_ record: ConnectionTracker.Record) -> String {
        switch record {
        case .handshake(let h):
            var lines = ["── stream \(h.stream) handshake: \(h.state.rawValue.split(separator: "_").joined(separator: " ")) ──",
                         "   client \(h.client)  ISN \(h.clientISN)  offers \(h.clientOptions.text)"]
            if let isn = h.serverISN, let options = h.serverOptions {
                lines.append("   server \(h.server)  ISN \(isn)  offers \(options.text)")
            } else {
                lines.append("   server \(h.server)  " + (h.state == .refused ? "answered with RST: nothing listens there" : "never answered"))
            }
            let frames = [h.synFrame, h.synAckFrame, h.ackFrame].map { $0.map(String.init) ?? "—" }
            lines.append("   frames SYN \(frames[0]), SYN-ACK \(frames[1]), ACK \(frames[2])" + (h.synCount > 1 ? "; the SYN was sent \(h.synCount) times" : "")
                         + (h.rtt.map { "; handshake RTT " + JSONLines.format9($0) + " s" } ?? ""))
            return lines.joined(separator: "\n")
        case .summary(let row):
            return ConversationTable.row(row)
        case .close(let c):
            let how = ["fin": "FIN exchange", "rst": "reset (RST)", "half_close": "half-close, then FINs"][c.how.rawValue] ?? c.how.rawValue
            return "── stream \(c.stream) close: \(how), \(c.first.rawValue) first\(c.complete ? "" : " (not finished in this capture)"); frames \(c.frames.map(String.init).joined(separator: ", ")) ──"
        }
    }
}
