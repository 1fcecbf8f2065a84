import Capture
import Packets

/// Writes DESIGN.md's JSON Lines: one object per line, `kind` first, fields in a fixed order,
/// so `jq`, Python and a diff all read it. Written by hand: the field order is the contract,
/// and a million lines must not go through an encoder's dictionaries.
public enum JSONLines {
    /// `{"kind":"packet","frame":1,…}` for one TCP segment.
    public static func line(_ report: SegmentReport) -> String {
        var out = "{\"kind\":\"packet\",\"frame\":\(report.frame),\"time\":\(report.time)"
        out += ",\"proto\":\"tcp\",\"stream\":\(report.stream)"
        out += ",\"src\":\(quoted(report.source.address.description)),\"sport\":\(report.source.port)"
        out += ",\"dst\":\(quoted(report.destination.address.description)),\"dport\":\(report.destination.port)"
        out += ",\"flags\":[" + report.flags.names.map(quoted).joined(separator: ",") + "]"
        out += ",\"seq\":\(report.seq),\"ack\":\(report.ack),\"seq_raw\":\(report.seqRaw),\"ack_raw\":\(report.ackRaw)"
        out += ",\"len\":\(report.length),\"win\":\(report.window)"
        out += ",\"analysis\":[" + report.analysis.names.map(quoted).joined(separator: ",") + "]"
        if !report.notes.isEmpty { out += ",\"note\":" + quoted(report.notes.joined(separator: " ")) }
        return out + "}"
    }

    /// A UDP or ICMP packet: no stream, no sequence numbers — one line with what it is.
    public static func line(frame: Int, time: Timestamp, packet: Packet, note: String) -> String {
        let proto: String
        if packet.udp != nil { proto = "udp" } else if packet.icmp != nil { proto = "icmp" } else if packet.icmpv6 != nil { proto = "icmpv6" } else { proto = "other" }
        var out = "{\"kind\":\"packet\",\"frame\":\(frame),\"time\":\(time),\"proto\":\"\(proto)\""
        if let source = packet.sourceAddress, let destination = packet.destinationAddress {
            out += ",\"src\":\(quoted(source)),\"dst\":\(quoted(destination))"
        }
        if let udp = packet.udp {
            out += ",\"sport\":\(udp.sourcePort),\"dport\":\(udp.destinationPort),\"len\":\(udp.payloadLength)"
        }
        return out + ",\"note\":\(quoted(note))}"
    }

    /// A JSON string literal (RFC 8259 §7).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONLines {
    /// `{"kind":"handshake",…}` or `{"kind":"close",…}`.
    public static func line(_ record: ConnectionTracker.Record) -> String {
        switch record {
        case .handshake(let h):
            var out = "{\"kind\":\"handshake\",\"stream\":\(h.stream),\"state\":\"\(h.state.rawValue)\""
            out += ",\"client\":\(quoted(h.client.description)),\"server\":\(quoted(h.server.description))"
            out += ",\"client_isn\":\(h.clientISN),\"server_isn\":\(h.serverISN.map(String.init) ?? "null")"
            out += ",\"frames\":[\(h.synFrame),\(h.synAckFrame.map(String.init) ?? "null"),\(h.ackFrame.map(String.init) ?? "null")]"
            out += ",\"syn_count\":\(h.synCount),\"rtt\":\(h.rtt.map { String(format9($0)) } ?? "null")"
            out += ",\"client_options\":\(options(h.clientOptions)),\"server_options\":\(h.serverOptions.map(options) ?? "null")"
            return out + "}"
        case .close(let c):
            return "{\"kind\":\"close\",\"stream\":\(c.stream),\"how\":\"\(c.how.rawValue)\",\"first\":\"\(c.first)\""
                + ",\"frames\":[\(c.frames.map(String.init).joined(separator: ","))],\"complete\":\(c.complete)}"
        }
    }

    static func options(_ o: OfferedOptions) -> String {
        "{\"mss\":\(o.mss.map(String.init) ?? "null"),\"wscale\":\(o.windowScale.map(String.init) ?? "null")"
            + ",\"sack_permitted\":\(o.sackPermitted),\"timestamps\":\(o.timestamps)}"
    }

    /// Seconds with nanosecond digits, as tshark prints `tcp.analysis.initial_rtt`.
    public static func format9(_ seconds: Double) -> String {
        let nanoseconds = Int64((seconds * 1e9).rounded())
        let whole = nanoseconds / 1_000_000_000, fraction = String(nanoseconds % 1_000_000_000)
        return "\(whole)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
