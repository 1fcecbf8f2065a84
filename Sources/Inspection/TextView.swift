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


    /// One sentence for a UDP or ICMP packet: no connection, no handshake.
    public static func note(for packet: Packet) -> String {
        if let udp = packet.udp {
            return "UDP: one datagram of \(udp.payloadLength) bytes — no connection, no handshake, no acknowledgement; it arrives whole or not at all."
        }
        if let icmp = packet.icmp {
            return "ICMP \(icmp.name): a message from the IP layer itself (type \(icmp.type), code \(icmp.code)), not part of any connection."
        }
        if let icmp = packet.icmpv6 {
            return "ICMPv6 \(icmp.name): a message from the IPv6 layer itself (type \(icmp.type), code \(icmp.code))."
        }
        return packet.problem.map { "Could not decode further: \($0)." } ?? "Not TCP, UDP or ICMP."
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
            return "── stream \(c.stream) close: \(how), \(c.first) first\(c.complete ? "" : " (not finished in this capture)"); frames \(c.frames.map(String.init).joined(separator: ", ")) ──"
        }
    }
}
