import PacketCapture
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
        for (flag, name) in TCPFlags.jsonNames where !report.flags.isDisjoint(with: flag) {
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
        if report.inFragment { out.append("null") } else { out.number(report.length) }
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
        if !report.socks.isEmpty { write(report.socks, to: &out) }
        if !report.events.isEmpty || !report.facts.isEmpty || !report.socks.isEmpty {
            out.append(",\"note\":")
            out.quoted(Sentences.notes(for: report).joined(separator: " "))
        }
        out.append("}\n")
    }

    /// A UDP or ICMP packet: no stream, no sequence numbers — one line with what it is.
    public static func write(frame: Int, time: Timestamp, packet: Packet, note: String, to out: inout OutputBuffer) {
        let proto: StaticString
        // A fragment on its own is not yet a datagram of any protocol (its note says which).
        if packet.isFragment { proto = "other" } else if packet.udp != nil { proto = "udp" } else if packet.icmp != nil { proto = "icmp" } else if packet.icmpv6 != nil { proto = "icmpv6" } else { proto = "other" }
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
        if let udp = packet.udp, !packet.isFragment {
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
        (.urg, "\"URG\""), (.ece, "\"ECE\""), (.cwr, "\"CWR\""), (.ae, "\"AE\""), (.reserved, "\"Reserved\""),
    ]
}

extension JSONLines {
    /// `{"kind":"handshake",…}`, `{"kind":"close",…}` or `{"kind":"summary",…}`.
    public static func write(_ record: ConnectionTracker.Record, to out: inout OutputBuffer) {
        switch record {
        case .handshake(let h):
            out.append("{\"kind\":\"handshake\",\"stream\":")
            out.number(h.stream)
            out.append(",\"state\":\"")
            out.append(h.state.rawValue)
            out.append("\",\"client\":")
            out.quoted(h.client.machineReadable)
            out.append(",\"server\":")
            out.quoted(h.server.machineReadable)
            out.append(",\"client_isn\":")
            out.number(h.clientISN)
            out.append(",\"server_isn\":")
            out.optional(h.serverISN)
            out.append(",\"frames\":[")
            out.number(h.synFrame)
            out.byte(UInt8(ascii: ","))
            out.optional(h.synAckFrame)
            out.byte(UInt8(ascii: ","))
            out.optional(h.ackFrame)
            out.append("],\"syn_count\":")
            out.number(h.synCount)
            out.append(",\"rtt\":")
            if let rtt = h.rtt { out.append(format9(rtt)) } else { out.append("null") }
            out.append(",\"client_options\":")
            options(h.clientOptions, to: &out)
            out.append(",\"server_options\":")
            if let offered = h.serverOptions { options(offered, to: &out) } else { out.append("null") }
            out.append("}\n")
        case .close(let c):
            out.append("{\"kind\":\"close\",\"stream\":")
            out.number(c.stream)
            out.append(",\"how\":\"")
            out.append(c.how.rawValue)
            out.append("\",\"first\":\"")
            out.append(c.first.rawValue)
            out.append("\",\"frames\":[")
            for (i, frame) in c.frames.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.number(frame)
            }
            out.append("],\"complete\":")
            out.append(c.complete ? "true" : "false")
            out.append("}\n")
        case .summary(let row):
            write(row, to: &out)
        }
    }

    static func options(_ o: OfferedOptions, to out: inout OutputBuffer) {
        out.append("{\"mss\":")
        out.optional(o.mss)
        out.append(",\"wscale\":")
        out.optional(o.windowScale)
        out.append(",\"sack_permitted\":")
        out.append(o.sackPermitted ? "true" : "false")
        out.append(",\"timestamps\":")
        out.append(o.timestamps ? "true" : "false")
        out.byte(UInt8(ascii: "}"))
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
