import ArgumentParser
import LabEngines
import SocketCore
import TextOutput
import ToolSupport

@main
struct RawPingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw-ping",
        abstract: "ICMP echo over a raw socket, printed line for line as iputils ping prints it.",
        discussion: """
            Builds each echo request itself (type, code, identifier, sequence, a timestamp and \
            a byte pattern as data, the Internet checksum), sends it on a raw socket, and \
            matches replies by identifier and sequence. Reports duplicates, bad checksums, \
            destination unreachable and time exceeded (with the router's address). Without the \
            privilege for a raw socket it uses the kernel's unprivileged ping socket when \
            net.ipv4.ping_group_range allows, and says so. --explain draws the first request's \
            header and works out its checksum. Exit codes: 0 at least one reply; 1 no reply; \
            2 bad usage or unknown host; 3 no permission for either socket (with the fix).
            """)

    @Option(name: .customShort("c"), help: "Stop after this many requests (default: until Ctrl-C).")
    var count: Int?
    @Option(name: .customShort("i"), help: "Seconds between requests.")
    var interval: Double = 1
    @Option(name: .customShort("W"), help: "Seconds to wait for replies after the last request.")
    var timeout: Double = 10
    @Option(name: .customShort("s"), help: "Data bytes per request (the ICMP message is 8 more).")
    var size = 56
    @Option(name: .customShort("t"), help: "TTL (IPv4) or hop limit (IPv6) of the requests.")
    var ttl: Int?
    @Flag(name: .customShort("q"), help: "Only the first line and the statistics.")
    var quiet = false
    @Flag(name: .customShort("4"), help: "IPv4 only.")
    var ipv4 = false
    @Flag(name: .customShort("6"), help: "IPv6 only.")
    var ipv6 = false
    @Flag(help: "Draw the first request's header and work out its checksum.")
    var explain = false
    @Flag(help: "JSON Lines: one object per reply or error, then the statistics.")
    var json = false
    @Argument(help: "Host name or address.")
    var host: String

    func validate() throws {
        if let count { try OptionRange.check(count, 1...1_000_000_000, "-c", unit: "requests") }
        // Below 2 ms ping refuses too: it would flood.
        try OptionRange.check(interval, 0.002...86_400, "-i", unit: "seconds")
        try OptionRange.check(timeout, 0.001...86_400, "-W", unit: "seconds")
        try OptionRange.check(size, 0...65_507, "-s", unit: "bytes")
        if let ttl { try OptionRange.check(ttl, 1...255, "-t") }
        if ipv4 && ipv6 { throw ValidationError("-4 and -6 exclude each other") }
    }

    func run() throws {
        var options = Pinger.Options()
        options.count = count
        options.interval = .milliseconds(Int((interval * 1000).rounded()))
        options.timeout = .milliseconds(Int((timeout * 1000).rounded()))
        options.size = size
        options.ttl = ttl
        options.family = ipv4 ? .ipv4 : ipv6 ? .ipv6 : nil
        let pinger = try Pinger(host: host, options: options)
        var standardError = StandardError()
        if pinger.kind == .datagram {
            print("raw-ping: no raw socket (needs root or CAP_NET_RAW); using the kernel's ping socket instead, which chooses the identifier itself", to: &standardError)
        }
        if !json { print(pinger.header) }
        Pinger.stopOnInterrupt()
        let explain = explain
        let statistics = try pinger.run(onSent: { echo in
            // The first request as it went out (its send time is in the data, so only the
            // bytes actually sent have the checksum a capture shows).
            guard explain, echo.sequence == 1 else { return }
            for line in PingExplain.lines(for: echo) { print(line) }
            print("")
            flushOutput()
        }) { event in
            if json {
                print(Self.json(event))
            } else if !quiet {
                print(pinger.line(for: event))
            }
            flushOutput()
        }
        if json {
            var fields: [(String, JSON)] = [
                ("kind", "statistics"), ("host", .string(host)), ("address", .string(pinger.address.host)),
                ("socket", .string(pinger.kind.rawValue)), ("transmitted", .integer(statistics.transmitted)),
                ("received", .integer(statistics.received)), ("duplicates", .integer(statistics.duplicates)),
                ("errors", .integer(statistics.errors)), ("loss_percent", .decimal(statistics.lossPercent, places: 3)),
                ("time_ms", .integer(statistics.elapsedMilliseconds)),
            ]
            if statistics.received > 0 {
                fields.append(("rtt_us", .object([("min", .integer(statistics.minimum)), ("avg", .integer(statistics.average)),
                                                  ("max", .integer(statistics.maximum)), ("mdev", .integer(statistics.deviation))])))
            }
            print(JSON.object(fields).text)
        } else {
            for line in statistics.lines(host: host) { print(line) }
        }
        if statistics.received == 0 { throw ExitCode(.failure) }
    }

    static func json(_ event: Pinger.Event) -> String {
        switch event {
        case let .reply(sequence, bytes, from, ttl, microseconds, duplicate, badChecksum):
            return JSON.object([
                ("kind", "reply"), ("icmp_seq", .integer(sequence)), ("bytes", .integer(bytes)), ("from", .string(from)),
                ("ttl", .optional(ttl)), ("time_us", .integer(microseconds)), ("duplicate", .bool(duplicate)),
                ("bad_checksum", .bool(badChecksum)),
            ]).text
        case let .error(sequence, from, message):
            return JSON.object([("kind", "error"), ("icmp_seq", .integer(sequence)), ("from", .string(from)), ("message", .string(message))]).text
        }
    }

    static func main() { runAsSocketLabTool() }
}
