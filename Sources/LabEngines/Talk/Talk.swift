import Dispatch
import Foundation
import Histogram
import SocketCore
import TextOutput

#if canImport(Glibc)
import Glibc
#endif

/// talk: two people on two machines typing to each other over one TCP connection, each key
/// sent as it is pressed — the seed documents' first socket experiment. Full duplex: one
/// thread sends the keys typed here, another shows the keys arriving, so both sides type at
/// once. The keys typed here show in one colour, the peer's in another.
public enum Talk {
    public struct Options: Sendable {
        /// Nagle's algorithm on (TCP_NODELAY off): small writes wait for the previous one's ACK.
        public var nagle = false
        public var color = false
        public init() {}
    }

    public enum Problem: Error, CustomStringConvertible, Sendable {
        case peerClosed
        case peerReset
        public var description: String {
            switch self {
            case .peerClosed: "the peer closed the connection"
            case .peerReset: "the connection was reset (the peer's program died with unread data, or its machine said no)"
            }
        }
    }

    /// Sets the connection up as asked.
    public static func prepare(_ socket: Socket, options: Options) throws {
        try socket.set(.noDelay, !options.nagle)
    }

    /// The conversation: keys (or lines, when standard input is not a terminal) go out as
    /// they come; the peer's bytes are shown as they arrive. Returns when either side ends:
    /// end of input here (Ctrl-D), or the peer closing — which is an error the caller reports.
    /// `packets`: the capture that shows the segments under the conversation (--show-packets).
    public static func converse(over socket: Socket, options: Options, packets: PacketLines? = nil, say: @escaping @Sendable (String) -> Void) throws {
        defer { packets?.stop() }
        let raw = RawTerminal.enter()
        defer { RawTerminal.restore() }
        if !raw { say("talk: standard input is not a terminal: sending it line by line") }
        let (mine, theirs) = options.color ? ("\u{1B}[1;34m", "\u{1B}[1;32m") : ("", "")
        let reset = options.color ? "\u{1B}[0m" : ""
        let ended = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        // The peer's keys, as they arrive.
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let got: Int
                do {
                    got = try chunk.withUnsafeMutableBytes { try socket.receive(into: $0) }
                } catch {
                    outcome.set((error as? SocketError)?.errno == .ECONNRESET ? Problem.peerReset : error)
                    break
                }
                if got == 0 {
                    outcome.set(Problem.peerClosed)
                    break
                }
                write(theirs + String(decoding: chunk[..<got], as: UTF8.self) + reset)
            }
            ended.signal()
        }
        // The keys typed here.
        Thread.detachNewThread {
            var key = [UInt8](repeating: 0, count: raw ? 1 : 4096)
            while true {
                let got = key.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                // Ctrl-D in raw mode arrives as the byte 4; EOF as 0.
                if got <= 0 || (raw && key[0] == 4) {
                    try? socket.shutdown(.write)
                    outcome.set(nil)
                    break
                }
                if raw { write(mine + String(decoding: key[..<got], as: UTF8.self) + reset) }
                do { try socket.send(Array(key[..<got])) } catch {
                    outcome.set(error)
                    break
                }
            }
            ended.signal()
        }
        ended.wait()
        if let error = outcome.error { throw error }
    }

    /// `talk listen --echo`: sends every line back when its newline arrives, as a
    /// line-oriented service does — so a key without a newline gets no reply, only an ACK,
    /// and the ACK may be delayed (the point of --measure).
    public static func echoLines(over socket: Socket) throws {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = try chunk.withUnsafeMutableBytes { try socket.receive(into: $0) }
            if got == 0 { return }
            for byte in chunk[..<got] {
                line.append(byte)
                if byte == UInt8(ascii: "\n") {
                    try socket.send(line)
                    line.removeAll(keepingCapacity: true)
                }
            }
            if line.count > 1 << 20 { line.removeAll() }
        }
    }

    /// One line's round trip as `measure` saw it.
    public struct Measurement: Sendable {
        public var keys: Int
        public var lines: Int
        public var nagle: Bool
        public var intervalMilliseconds: Int
        /// From the Enter key's write to the line's echo, per line, in µs.
        public var p50: Double, p99: Double, max: Double
    }

    /// `talk connect --measure N` against `talk listen --echo`: N keys typed by the program, one
    /// write each, `interval` apart, every fifth an Enter; for each line, the time from the
    /// Enter key's write to the line's echo. With TCP_NODELAY each key leaves at once and the
    /// echo follows in microseconds; with Nagle a key waits for the ACK of the one before it,
    /// and the echo side, with nothing to send until Enter, delays that ACK — tens of ms.
    public static func measure(over socket: Socket, keys: Int, interval: Duration, nagle: Bool) throws -> Measurement {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        let clock = ContinuousClock()
        var lines = 0
        var pending: [UInt8] = []
        try socket.set(.receiveTimeout, .seconds(5))
        for index in 0..<keys {
            let enter = index % 5 == 4
            let key: UInt8 = enter ? UInt8(ascii: "\n") : UInt8(ascii: "a") + UInt8(index % 26)
            let written = clock.now
            try socket.send([key])
            if enter {
                // The echo of this line: everything up to its newline.
                while !pending.contains(UInt8(ascii: "\n")) {
                    let chunk = try socket.receive(upTo: 4096)
                    if chunk.isEmpty { throw Problem.peerClosed }
                    pending += chunk
                }
                let elapsed = clock.now - written
                pending.removeSubrange(...pending.firstIndex(of: UInt8(ascii: "\n"))!)
                _ = histogram.record(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                lines += 1
            }
            Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
        }
        return Measurement(keys: keys, lines: lines, nagle: nagle, intervalMilliseconds: Int(interval.components.attoseconds / 1_000_000_000_000_000),
                           p50: Double(histogram.valueAtPercentile(50)) / 1000, p99: Double(histogram.valueAtPercentile(99)) / 1000,
                           max: Double(histogram.max) / 1000)
    }

    public static func report(_ m: Measurement, json: Bool) -> String {
        if json {
            return JSON.object([("tool", .string("talk")), ("nagle", .bool(m.nagle)), ("keys", .integer(m.keys)), ("lines", .integer(m.lines)),
                                ("interval_ms", .integer(m.intervalMilliseconds)),
                                ("enter_to_echo_us", .object([("p50", .decimal(m.p50, places: 1)), ("p99", .decimal(m.p99, places: 1)), ("max", .decimal(m.max, places: 1))]))]).text
        }
        func time(_ us: Double) -> String { us >= 1000 ? JSON.fixed(us / 1000, places: 1) + " ms" : JSON.fixed(us, places: 0) + " µs" }
        return "talk --measure: \(m.keys) keys, \(m.intervalMilliseconds) ms apart, \(m.lines) lines; Nagle \(m.nagle ? "on" : "off (TCP_NODELAY)")\n"
            + "  Enter to echo: p50 \(time(m.p50)), p99 \(time(m.p99)), max \(time(m.max))\n"
            + (m.nagle ? "  (each key waited for the ACK of the one before; the echo side delays ACKs when it has nothing to send)"
                       : "  (each key left in a segment of its own at once)")
    }

    static func write(_ text: String) { writeAll(text.utf8, to: 1) }
}

/// The first way the conversation ended, set by whichever thread saw it.
final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var decided = false
    private var stored: (any Error)?

    func set(_ error: (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        guard !decided else { return }
        decided = true
        stored = error
    }

    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
