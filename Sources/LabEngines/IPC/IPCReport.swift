import TextOutput

/// ipc-compare's table and JSON. The table is read at a glance: fastest first, each figure
/// beside its ratio to the fastest, and under it the sentences the lab asks a student to write
/// in their own words — with this machine's numbers in them.
public enum IPCReport {
    public static func table(_ r: IPCResult) -> [String] {
        var lines: [String] = []
        let pinning = r.cpus.map { "pinned (parent on CPU \($0[0]), child on CPU \($0[1]))" } ?? "unpinned"
        lines.append("ipc-compare: \(r.mechanisms.count) mechanisms, two processes each (this one and its child), \(pinning), \(r.onlineCPUs) CPUs, Linux \(r.kernel)")
        lines.append("  latency: \(r.roundTrips) round trips per size after \(r.warmup) of warm-up, in \(r.repetitions) repetitions; throughput: median of \(r.repetitions) runs")
        lines.append("")
        let ranked = r.byLatency
        let fastest = ranked.first?.latency[1]?.p50 ?? 1
        var rows: [[String]] = [["mechanism", "boundaries", "1 B p50", "×fastest", "p99", "max", "100 B p50", "calls/msg"]]
        for m in ranked {
            let one = m.latency[1], hundred = m.latency[100]
            rows.append([m.mechanism.rawValue, m.boundariesKept ? "kept" : "merged",
                         one.map { micro($0.p50) } ?? "—", one.map { format($0.p50 / fastest, 2) } ?? "—",
                         one.map { micro($0.p99) } ?? "—", one.map { micro($0.max) } ?? "—",
                         hundred.map { micro($0.p50) } ?? "—", m.syscallsPerMessage.map { format($0, 2) } ?? "—"])
        }
        lines += columns(rows, rightAligned: 2...7)
        lines.append("  (round-trip times: a message there and back, µs; calls/msg: read/write/send/recv calls of both processes per 4 KiB message)")
        lines.append("")

        let bulk = 65_536
        let best = r.byThroughput(bulk).first?.throughput[bulk]?.bytesPerSecond ?? 1
        rows = [["mechanism", "100 B", "4 KiB", "64 KiB", "1 MiB", "64 KiB ×fastest"]]
        for m in r.byThroughput(bulk) {
            var row = [m.mechanism.rawValue]
            for size in IPCCompare.throughputSizes { row.append(m.throughput[size].map { rate($0.bytesPerSecond) } ?? "n/a") }
            row.append(m.throughput[bulk].map { format($0.bytesPerSecond / best, 2) } ?? "—")
            rows.append(row)
        }
        lines.append("throughput, fastest first at 64 KiB messages:")
        lines += columns(rows, rightAligned: 1...5)
        for m in r.mechanisms {
            for size in IPCCompare.throughputSizes {
                if let reason = m.notMeasured[size] { lines.append("  n/a: \(m.mechanism) at \(IPCReport.sizeName(size)): \(reason)") }
                if let lost = m.throughput[size]?.lost, lost > 0 { lines.append("  \(m.mechanism) at \(IPCReport.sizeName(size)): \(lost) messages lost (UDP keeps no count; the receiver's did)") }
            }
        }
        lines.append("")
        lines.append("What to take away:")
        lines += takeaways(r).map { "- " + $0 }
        lines.append("")
        lines.append("How each was made:")
        let width = r.mechanisms.map(\.mechanism.rawValue.count).max() ?? 0
        for m in r.mechanisms { lines.append("  " + pad(m.mechanism.rawValue, width + 2) + m.mechanism.howMade) }
        return lines
    }

    /// The lab's claims, each checked against this run rather than asserted.
    public static func takeaways(_ r: IPCResult) -> [String] {
        var out: [String] = []
        let ranked = r.byLatency.filter { $0.latency[1] != nil }
        if let first = ranked.first, let p50 = first.latency[1]?.p50 {
            var sentence = "Fastest round trip: \(first.mechanism) (\(micro(p50)) µs at the median for 1 byte)"
            if let tcp = r.mechanisms.first(where: { $0.mechanism == .tcp4 })?.latency[1]?.p50 {
                sentence += "; TCP over 127.0.0.1 took \(format(tcp / p50, 1))× as long (\(micro(tcp)) µs): its bytes go through the TCP and IP layers, a checksum, the loopback device and a softirq, which a pipe or a socketpair skips."
            }
            out.append(sentence)
        }
        let kept = r.mechanisms.filter(\.boundariesKept).map(\.mechanism.rawValue)
        let merged = r.mechanisms.filter { !$0.boundariesKept }
        if !kept.isEmpty { out.append("Each read returned one whole message on: \(kept.joined(separator: ", ")).") }
        if let example = merged.first {
            out.append("Reads ignored where the \(example.sentSizes.count) messages began and ended on: \(merged.map(\.mechanism.rawValue).joined(separator: ", ")) (\(example.mechanism)'s reads returned \(example.readsReturned.map(String.init).joined(separator: ", ")) bytes): a byte stream needs its own framing.")
        }
        if let order = groupOrder(r) { out.append(order) }
        return out
    }

    /// Whether the ordering the lab teaches — pipes and socketpairs ahead of Unix sockets
    /// ahead of TCP loopback for small messages — held on this machine, by each group's median.
    static func groupOrder(_ r: IPCResult) -> String? {
        func median(_ group: [Mechanism]) -> Double? {
            let values = r.mechanisms.filter { group.contains($0.mechanism) }.compactMap { $0.latency[1]?.p50 }.sorted()
            return values.isEmpty ? nil : values[values.count / 2]
        }
        guard let local = median([.pipe, .socketpairStream, .socketpairDgram, .socketpairSeqpacket]),
              let unix = median([.unixStream, .unixDgram, .unixStreamAbstract, .unixDgramAbstract]),
              let tcp = median([.tcp4, .tcp6]) else { return nil }
        let figures = "medians of 1-byte round trips: pipes and socketpairs \(micro(local)) µs, Unix sockets \(micro(unix)) µs, TCP \(micro(tcp)) µs"
        if local <= unix && unix < tcp { return "The usual order held here (\(figures))." }
        return "The usual order (pipes and socketpairs, then Unix sockets, then TCP loopback) did not hold on this machine (\(figures)); write down what it showed."
    }

    public static func json(_ r: IPCResult) -> String {
        func latency(_ summary: LatencySummary?) -> JSON {
            guard let summary else { return .null }
            return .object([("p50", .decimal(summary.p50, places: 3)), ("p99", .decimal(summary.p99, places: 3)),
                            ("max", .decimal(summary.max, places: 3)), ("mean", .decimal(summary.mean, places: 3)),
                            ("samples", .integer(summary.samples)),
                            ("repetition_p50s", .array(summary.repetitionMedians.map { .decimal($0, places: 3) }))])
        }
        let sizes = IPCCompare.throughputSizes
        let mechanisms: [JSON] = r.mechanisms.map { m in
            .object([
                ("name", .string(m.mechanism.rawValue)),
                ("made_by", .string(m.mechanism.howMade)),
                ("boundaries_kept", .bool(m.boundariesKept)),
                ("sent_sizes", .array(m.sentSizes.map { .integer($0) })),
                ("reads_returned", .array(m.readsReturned.map { .integer($0) })),
                ("latency_us", latency(m.latency[1])),
                ("latency_100b_us", latency(m.latency[100])),
                ("throughput_bytes_per_s", .object(sizes.map { (String($0), JSON.optional(m.throughput[$0]?.bytesPerSecond, places: 0)) })),
                ("throughput_spread_bytes_per_s", .object(sizes.compactMap { size in
                    m.throughput[size].map { (String(size), JSON.array([.decimal($0.slowest, places: 0), .decimal($0.fastest, places: 0)])) } })),
                ("throughput_not_measured", .object(sizes.compactMap { size in m.notMeasured[size].map { (String(size), JSON.string($0)) } })),
                ("messages_lost", .object(sizes.compactMap { size in m.throughput[size].map { (String(size), JSON.integer($0.lost)) } })),
                ("syscalls_per_message", .optional(m.syscallsPerMessage, places: 3)),
                ("syscalls_per_message_by_size", .object(sizes.compactMap { size in
                    m.throughput[size].map { (String(size), JSON.decimal($0.syscallsPerMessage, places: 3)) } })),
                ("intact_bytes", .integer(m.intactBytes)),
            ])
        }
        return JSON.object([
            ("tool", .string("ipc-compare")),
            ("kernel", .string(r.kernel)),
            ("online_cpus", .integer(r.onlineCPUs)),
            ("pinned", .bool(r.cpus != nil)),
            ("cpus", r.cpus.map { .array($0.map { .integer($0) }) } ?? .null),
            ("round_trips", .integer(r.roundTrips)),
            ("warmup", .integer(r.warmup)),
            ("repetitions", .integer(r.repetitions)),
            ("fastest_first", .array(r.byLatency.map { .string($0.mechanism.rawValue) })),
            ("mechanisms", .array(mechanisms)),
        ]).text
    }

    // MARK: formatting

    /// 100 B, 4 KiB, 64 KiB, 1 MiB: message sizes as the issue and the handout write them.
    public static func sizeName(_ size: Int) -> String {
        if size >= 1 << 20 && size % (1 << 20) == 0 { return "\(size >> 20) MiB" }
        if size >= 1024 && size % 1024 == 0 { return "\(size >> 10) KiB" }
        return "\(size) B"
    }

    static func micro(_ value: Double) -> String { format(value, value < 100 ? 1 : 0) }

    static func rate(_ bytesPerSecond: Double) -> String {
        bytesPerSecond >= 1e9 ? format(bytesPerSecond / 1e9, 2) + " GB/s" : format(bytesPerSecond / 1e6, 0) + " MB/s"
    }

    static func format(_ value: Double, _ places: Int) -> String { JSON.fixed(value, places: places) }

    static func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

    /// Rows as columns as wide as their widest cell, numbers right-aligned.
    static func columns(_ rows: [[String]], rightAligned: ClosedRange<Int>) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        let widths = (0..<count).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let gap = String(repeating: " ", count: widths[column] - cell.count)
                line += rightAligned.contains(column) ? gap + cell : cell + gap
                if column < row.count - 1 { line += "  " }
            }
            return "  " + line
        }
    }
}
