import TextOutput

/// udp-vs-tcp's table (and JSON): one row per measurement, TCP left, UDP right, and under the
/// table the sentence a student should take away from each row.
public enum ComparisonReport {
    public static func table(_ r: UDPvsTCP.Result) -> [String] {
        var lines = ["udp-vs-tcp on \(r.setting)" + (r.lossPercent.map { ", \(format($0))% loss each way" } ?? "")]
        for note in r.notes { lines.append("  note: \(note)") }
        let t = r.tcp, u = r.udp
        // Rows first, then columns as wide as their widest cell plus a gap: a long cell never
        // runs into its neighbour ("…20 message ends hidden each datagram whole").
        var cells: [(String, String, String)] = []
        func row(_ name: String, _ tcp: String, _ udp: String) { cells.append((name, tcp, udp)) }
        lines.append("")
        row("", "TCP", "UDP")
        row("message boundaries (\(t.sizesSent.count) sent)", "\(t.receiveSizes.count) receives", "\(u.receiveSizes.count) receives")
        row("  what the receives returned", boundaries(sent: t.sizesSent, received: t.receiveSizes), wholeDatagrams(sent: u.sizesSent, received: u.receiveSizes))
        let messages = t.delivered + t.lost
        row("numbered messages: delivered", "\(t.delivered) of \(messages)", "\(u.delivered) of \(messages)")
        row("  lost", "\(t.lost)", "\(u.lost) (\(format(100 * Double(u.lost) / Double(max(1, messages))))%)")
        row("  duplicated / out of order", "\(t.duplicated) / \(t.outOfOrder)", "\(u.duplicated) / \(u.outOfOrder)")
        row("  retransmissions (capture)", t.retransmissions.map(String.init) ?? "not captured", "none: UDP never resends")
        row("  bytes on the wire per payload byte", t.wirePerPayloadByte.map { format($0, 2) } ?? "not captured",
            u.wirePerPayloadByte.map { format($0, 2) } ?? "not captured")
        row("set-up before the first byte", t.setupMicroseconds.map { "\(format($0)) µs (handshake)" } ?? "—", "0 (no connection)")
        row("request/response p50 / p99", latency(t), latency(u))
        row("throughput", "\(format(t.throughputBitsPerSecond / 1e9, 2)) Gbit/s",
            "\(format(u.throughputBitsPerSecond / 1e9, 2)) Gbit/s, \(format(u.throughputLossPercent))% lost")
        let nameWidth = cells.map(\.0.count).max() ?? 0, tcpWidth = cells.map(\.1.count).max() ?? 0
        for (name, tcp, udp) in cells { lines.append(pad(name, nameWidth + 3) + pad(tcp, tcpWidth + 3) + udp) }
        // What limits the throughput row, so that a student does not write it down as "TCP's"
        // and "UDP's" throughput.
        lines.append("  (throughput: one \(ByteCount.text(Int64(r.bulkBytes))) transfer between two threads of this program, with the kernel's defaults; "
                     + "on a machine with few CPUs it swings with where the threads run, so compare TCP with UDP within one run; "
                     + "`make bench` sets it beside iperf3 on this machine)")
        lines.append("")
        lines.append("What to take away:")
        lines.append("- TCP is a byte stream: the receiver got the bytes in \(t.receiveSizes.count) pieces that ignore where the sender's \(t.sizesSent.count) messages began and ended, so a protocol over TCP must mark its own boundaries (a length prefix, a newline). UDP delivers each datagram whole or not at all.")
        lines.append("- TCP delivered every message, once, in order — \(t.retransmissions.map { "resending \($0) segments to do so" } ?? "resending what was lost"). UDP delivered what the network delivered; counting, ordering and resending are the application's job.")
        lines.append(costSentence(r))
        return lines
    }

    /// What each protocol paid, in words that follow the measured bytes: TCP's handshake,
    /// ACKs and teardown cost bytes, but TCP may also merge small messages into full segments
    /// and so use fewer header bytes than UDP's one header per datagram.
    static func costSentence(_ r: UDPvsTCP.Result) -> String {
        guard let tcp = r.tcp.wirePerPayloadByte, let udp = r.udp.wirePerPayloadByte else {
            return "- TCP pays with a handshake, ACKs and a teardown (bytes on the wire, not counted here: no capture) and with waiting for lost data; UDP pays with the loss itself."
        }
        let numbers = "\(format(tcp, 2)) against \(format(udp, 2)) bytes on the wire per payload byte"
        if tcp < udp {
            return "- Here TCP used fewer bytes on the wire than UDP (\(numbers)): its handshake, ACKs and teardown cost bytes, but it merged the small messages into fewer, fuller segments (\(r.tcp.receiveSizes.count) receives for \(r.tcp.sizesSent.count) messages), while every UDP datagram carried its own 28 bytes of IP and UDP headers. TCP also pays with waiting for lost data; UDP pays with the loss itself."
        }
        return "- TCP paid more bytes on the wire (\(numbers)): a handshake, ACKs and a teardown, and a 20-byte header plus options on every segment; it also pays with waiting for lost data. UDP pays with the loss itself."
    }

    public static func json(_ r: UDPvsTCP.Result) -> String {
        func figures(_ f: UDPvsTCP.Figures) -> JSON {
            .object([
                ("receives", .integer(f.receiveSizes.count)),
                ("receive_sizes", .array(f.receiveSizes.map { .integer($0) })),
                ("messages_sent", .integer(f.sizesSent.count)),
                ("delivered", .integer(f.delivered)), ("lost", .integer(f.lost)), ("duplicated", .integer(f.duplicated)),
                ("out_of_order", .integer(f.outOfOrder)), ("retransmissions", .optional(f.retransmissions)),
                ("wire_bytes", .optional(f.wireBytes)), ("payload_bytes", .integer(f.payloadBytes)),
                ("setup_us", .optional(f.setupMicroseconds, places: 1)),
                ("latency_p50_us", .optional(f.percentile(0.5), places: 1)),
                ("latency_p99_us", .optional(f.percentile(0.99), places: 1)),
                ("latency_lost", .integer(f.latencyLost)),
                ("throughput_bps", .decimal(f.throughputBitsPerSecond, places: 0)),
                ("throughput_loss_percent", .decimal(f.throughputLossPercent, places: 2)),
            ])
        }
        return JSON.object([
            ("setting", .string(r.setting)),
            ("loss_percent", .optional(r.lossPercent, places: 2)),
            ("tcp", figures(r.tcp)),
            ("udp", figures(r.udp)),
        ]).text
    }

    /// "3 receives; 18 messages shared a receive, 2 were split".
    static func boundaries(sent: [Int], received: [Int]) -> String {
        var messageEnds = Set<Int>(), offset = 0
        for size in sent { offset += size; messageEnds.insert(offset) }
        var receiveEnds = Set<Int>()
        offset = 0
        for size in received { offset += size; receiveEnds.insert(offset) }
        let split = sent.count - messageEnds.intersection(receiveEnds).count  // a message whose end is not a receive's end
        return received == sent ? "one message per receive (this time)" : "merged and split: \(split) of \(sent.count) message ends hidden"
    }

    static func wholeDatagrams(sent: [Int], received: [Int]) -> String {
        let whole = received.allSatisfy { sent.contains($0) }
        return whole ? "each datagram whole (\(sent.count - received.count) lost)" : "datagrams cut?!"
    }

    static func latency(_ f: UDPvsTCP.Figures) -> String {
        guard let p50 = f.percentile(0.5), let p99 = f.percentile(0.99) else { return "no replies" }
        return "\(format(p50)) / \(format(p99)) µs" + (f.latencyLost > 0 ? ", \(f.latencyLost) unanswered" : "")
    }

    static func format(_ value: Double, _ decimals: Int = 0) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if decimals == 0 { return String(Int(rounded)) }
        let text = String(rounded)
        let parts = text.split(separator: ".")
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return String(parts[0]) + "." + fraction.padding(toLength: decimals, withPad: "0", startingAt: 0)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
