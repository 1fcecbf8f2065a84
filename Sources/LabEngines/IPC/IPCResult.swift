import Histogram

/// What ipc-compare measured, for every view (table, JSON, SVG, HTML) to render.
public struct IPCResult: Sendable {
    public var mechanisms: [MechanismResult]
    public var roundTrips: Int
    public var warmup: Int
    public var repetitions: Int
    /// [parent CPU, child CPU] when pinned.
    public var cpus: [Int]?
    public var onlineCPUs: Int
    public var kernel: String

    /// Fastest first by the 1-byte round trip's median: the order the lab asks about.
    public var byLatency: [MechanismResult] {
        mechanisms.sorted { ($0.latency[1]?.p50 ?? .infinity) < ($1.latency[1]?.p50 ?? .infinity) }
    }

    /// Fastest first by throughput at `size`, the mechanisms that could not carry it last.
    public func byThroughput(_ size: Int) -> [MechanismResult] {
        mechanisms.sorted { ($0.throughput[size]?.bytesPerSecond ?? -1) > ($1.throughput[size]?.bytesPerSecond ?? -1) }
    }
}

public struct MechanismResult: Sendable {
    public var mechanism: Mechanism
    /// The boundary test: the sizes written, and what each read on the other side returned.
    public var sentSizes: [Int]
    public var readsReturned: [Int] = []
    /// Latency by message size (1 and 100 bytes).
    public var latency: [Int: LatencySummary] = [:]
    /// Throughput by message size; a size the mechanism cannot carry whole is in `notMeasured`.
    public var throughput: [Int: ThroughputSummary] = [:]
    public var notMeasured: [Int: String] = [:]
    /// Bytes that went there and back and were compared, byte for byte.
    public var intactBytes = 0

    public init(mechanism: Mechanism, sentSizes: [Int]) {
        self.mechanism = mechanism
        self.sentSizes = sentSizes
    }

    /// Every read returned exactly one message, as it was sent.
    public var boundariesKept: Bool { readsReturned == sentSizes }

    /// System calls per message, both processes counted, in the 4 KiB throughput run — a size
    /// every mechanism carries, large enough that a stream is not merging messages for free.
    public var syscallsPerMessage: Double? { throughput[4096]?.syscallsPerMessage }
}

/// Round-trip times of one message size over every repetition, in microseconds, read from
/// an HdrHistogram (three significant digits: 12.3 µs and 12.4 µs are told apart).
public struct LatencySummary: Sendable {
    public var p50: Double
    public var p99: Double
    public var max: Double
    public var mean: Double
    public var samples: Int
    /// Each repetition's median: how much the number moved from run to run.
    public var repetitionMedians: [Double]

    init(_ repetitions: [[UInt64]]) {
        func histogram(_ values: [UInt64]) -> Histogram<UInt64> {
            var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
            for value in values { _ = histogram.record(Swift.max(1, value)) }
            return histogram
        }
        let all = histogram(repetitions.flatMap { $0 })
        p50 = Double(all.valueAtPercentile(50)) / 1000
        p99 = Double(all.valueAtPercentile(99)) / 1000
        max = Double(all.max) / 1000
        mean = all.mean / 1000
        samples = Int(all.totalCount)
        repetitionMedians = repetitions.map { Double(histogram($0).valueAtPercentile(50)) / 1000 }
    }
}

/// Throughput runs of one message size: the median run, and the spread.
public struct ThroughputSummary: Sendable {
    public var bytesPerSecond: Double
    public var slowest: Double
    public var fastest: Double
    public var messagesPerRun: Int
    /// Messages sent but never received, over all runs (UDP only can lose any).
    public var lost: Int
    public var syscallsPerMessage: Double

    init(_ runs: [Throughput]) {
        let rates = runs.map { Double($0.bytesDelivered) / Swift.max($0.seconds, 1e-9) }.sorted()
        bytesPerSecond = rates[rates.count / 2]
        slowest = rates.first ?? 0
        fastest = rates.last ?? 0
        messagesPerRun = runs.first?.messagesSent ?? 0
        lost = runs.reduce(0) { $0 + $1.messagesSent - $1.messagesDelivered }
        let calls = runs.reduce(0) { $0 + $1.parentCalls + $1.childCalls }
        syscallsPerMessage = Double(calls) / Double(Swift.max(1, runs.reduce(0) { $0 + $1.messagesSent }))
    }
}
