import Capture
import Packets

/// Writes DESIGN.md's JSON Lines: one object per line, `kind` first, fields in a fixed order,
/// so `jq`, Python and a diff all read it. Written by hand: the field order is the contract,
/// and a million lines must not go through an encoder's dictionaries.
public enum JSONLines {
    /// `{"kind":"packet","frame":1,…}` for one TCP segment.
    public static func write(_ report: SegmentReport, to out: inout OutputBuffer) {
        out.append("{\"kind\":\"packet\",\"frame\":")
        out.number(report.frame)
        out.append(",\"time\":")
        out.timestamp(report.time)
        out.append(",\"proto\":\"tcp\",\"stream\":")
        out.number(report.stream)
        out.append(",\"src\":\"")
        out.address(report.source.address)
        out.append("\",\"sport\":")
        out.number(report.source.port)
        out.append(",\"dst\":\"")
        out.address(report.destination.address)
        out.append("\",\"dport\":")
        out.number(report.destination.port)
        out.append(",\"flags\":[")
        var separator = false
        for (flag, name) in TCPFlags.jsonNames where report.flags.contains(flag) {
            if separator { out.byte(UInt8(ascii: ",")) }
            out.append(name)
            separator = true
        }
        out.append("],\"seq\":")
        out.number(report.seq)
        out.append(",\"ack\":")
        out.number(report.ack)
        out.append(",\"seq_raw\":")
        out.number(report.seqRaw)
        out.append(",\"ack_raw\":")
        out.number(report.ackRaw)
        out.append(",\"len\":")
        out.number(report.length)
        out.append(",\"win\":")
        out.number(report.window)
        out.append(",\"analysis\":[")
        if !report.analysis.isEmpty {
            for (i, name) in report.analysis.names.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.quoted(name)
            }
        }
        out.byte(UInt8(ascii: "]"))
        if !report.notes.isEmpty {
            out.append(",\"note\":")
            out.quoted(report.notes.joined(separator: " "))
        }
        out.append("}\n")
    }

    /// A UDP or ICMP packet: no stream, no sequence numbers — one line with what it is.
    public static func write(frame: Int, time: Timestamp, packet: Packet, note: String, to out: inout OutputBuffer) {
        let proto: StaticString
        if packet.udp != nil { proto = "udp" } else if packet.icmp != nil { proto = "icmp" } else if packet.icmpv6 != nil { proto = "icmpv6" } else { proto = "other" }
        out.append("{\"kind\":\"packet\",\"frame\":")
        out.number(frame)
        out.append(",\"time\":")
        out.timestamp(time)
        out.append(",\"proto\":\"")
        out.append(proto)
        out.byte(UInt8(ascii: "\""))
        if let source = packet.sourceAddress, let destination = packet.destinationAddress {
            out.append(",\"src\":")
            out.quoted(source)
            out.append(",\"dst\":")
            out.quoted(destination)
        }
        if let udp = packet.udp {
            out.append(",\"sport\":")
            out.number(udp.sourcePort)
            out.append(",\"dport\":")
            out.number(udp.destinationPort)
            out.append(",\"len\":")
            out.number(udp.payloadLength)
        }
        out.append(",\"note\":")
        out.quoted(note)
        out.append("}\n")
    }
}

extension TCPFlags {
    /// Each flag and its name as a JSON string, in DESIGN's order (as `names`).
    static let jsonNames: [(TCPFlags, StaticString)] = [
        (.syn, "\"SYN\""), (.ack, "\"ACK\""), (.fin, "\"FIN\""), (.rst, "\"RST\""), (.psh, "\"PSH\""),
        (.urg, "\"URG\""), (.ece, "\"ECE\""), (.cwr, "\"CWR\""), (.ae, "\"AE\""),
    ]
}

extension JSONLines {
    /// `{"kind":"handshake",…}`, `{"kind":"close",…}` or `{"kind":"summary",…}`. Written
    /// rarely (once per connection), so through Strings for clarity.
    public static func write(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        switch record {
        case .handshake(let h):
            var line = "{\"kind\":\"handshake\",\"stream\":\(h.stream),\"state\":\"\(h.state.rawValue)\""
            line += ",\"client\":\"\(h.client)\",\"server\":\"\(h.server)\""
            line += ",\"client_isn\":\(h.clientISN),\"server_isn\":\(h.serverISN.map(String.init) ?? "null")"
            line += ",\"frames\":[\(h.synFrame),\(h.synAckFrame.map(String.init) ?? "null"),\(h.ackFrame.map(String.init) ?? "null")]"
            line += ",\"syn_count\":\(h.synCount),\"rtt\":\(h.rtt.map { String(format9($0)) } ?? "null")"
            line += ",\"client_options\":\(options(h.clientOptions)),\"server_options\":\(h.serverOptions.map(options) ?? "null")"
            out.line(line + "}")
        case .close(let c):
            out.line("{\"kind\":\"close\",\"stream\":\(c.stream),\"how\":\"\(c.how.rawValue)\",\"first\":\"\(c.first)\""
                + ",\"frames\":[\(c.frames.map(String.init).joined(separator: ","))],\"complete\":\(c.complete)}")
        case .summary(let row):
            write(row, to: &out)
        }
    }

    static func options(_ o: OfferedOptions) -> String {
        "{\"mss\":\(o.mss.map(String.init) ?? "null"),\"wscale\":\(o.windowScale.map(String.init) ?? "null")"
            + ",\"sack_permitted\":\(o.sackPermitted),\"timestamps\":\(o.timestamps)}"
    }

    /// Seconds with nanosecond digits, as tshark prints `tcp.analysis.initial_rtt`.
    public static func format9(_ seconds: Double) -> String { fixed(seconds, digits: 9) }

    /// Seconds with `digits` decimals. Negative when the capture's clock ran backwards (it
    /// happens; the fuzzer found it first), and clamped to ±9·10⁹ s so that a crafted
    /// timestamp cannot overflow.
    static func fixed(_ seconds: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let clamped = seconds.isNaN ? 0 : min(max(seconds, -9e9), 9e9)
        let units = Int64((clamped * scale).rounded())
        let one = Int64(scale)
        guard digits > 0 else { return String(units) }
        let fraction = String(units.magnitude % UInt64(one))
        return (units < 0 ? "-" : "") + "\(units.magnitude / UInt64(one))." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
