import Foundation
import SocketCore
import Synchronization
import TextOutput

#if canImport(Glibc)
import Glibc
#endif

/// The failover lab's client: one request every `every` to the virtual address, each on a new
/// connection (a failover breaks the connections open at the time anyway), each recorded with
/// its time, whether it worked, and which machine answered. An outage is the time from the
/// last success before failures to the first success after them: what a user of the service
/// saw of the failover.
public struct ServiceProbe: Sendable {
    public struct Options: Sendable {
        public var target: SocketAddress
        public var every: Duration = .milliseconds(10)
        /// How long one request may take, connect to last byte.
        public var timeout: Duration = .milliseconds(100)
        /// nil: until SIGINT or SIGTERM.
        public var duration: Duration?

        public init(target: SocketAddress) { self.target = target }
    }

    public struct Attempt: Sendable {
        public var time: Double
        /// The name the server answered with; nil: it failed.
        public var server: String?
        public var milliseconds: Double
        public var error: String?

        public var json: JSON {
            .object([("kind", "request"), ("time", .decimal(time, places: 6)), ("ok", .bool(server != nil)),
                     ("server", .optional(server)), ("ms", .decimal(milliseconds, places: 3)), ("error", .optional(error))])
        }
    }

    /// A run of failures between two successes.
    public struct Outage: Sendable, Equatable {
        public var lastSuccess: Double
        public var firstSuccess: Double
        public var before: String
        public var after: String
        public var failures: Int
        public var milliseconds: Double { (firstSuccess - lastSuccess) * 1000 }

        public var json: JSON {
            .object([("kind", "outage"), ("last_success", .decimal(lastSuccess, places: 6)), ("first_success", .decimal(firstSuccess, places: 6)),
                     ("ms", .decimal(milliseconds, places: 3)), ("before", .string(before)), ("after", .string(after)), ("failures", .integer(failures))])
        }

        public var text: String {
            "outage of \(JSON.fixed(milliseconds, places: 1)) ms: last answer from \(before) at \(StandbyEvent.clock(lastSuccess)), "
                + "\(failures) requests failed, then \(after) answered at \(StandbyEvent.clock(firstSuccess))"
        }
    }

    /// What the attempts add up to, kept as they come so that a long run needs no memory per request.
    public struct Tally: Sendable {
        public var requests = 0
        public var successes = 0
        public var outages: [Outage] = []
        public var servers: [String: Int] = [:]
        var lastSuccess: (time: Double, server: String)?
        var failuresSince = 0

        /// Adds one attempt; returns the outage it ended, if it did.
        public mutating func add(_ attempt: Attempt) -> Outage? {
            requests += 1
            guard let server = attempt.server else {
                failuresSince += 1
                return nil
            }
            successes += 1
            servers[server, default: 0] += 1
            defer { lastSuccess = (attempt.time, server); failuresSince = 0 }
            guard failuresSince > 0, let last = lastSuccess else { return nil }
            let outage = Outage(lastSuccess: last.time, firstSuccess: attempt.time, before: last.server, after: server, failures: failuresSince)
            outages.append(outage)
            return outage
        }

        public var json: JSON {
            .object([("kind", "summary"), ("requests", .integer(requests)), ("successes", .integer(successes)),
                     ("failures", .integer(requests - successes)), ("outages", .integer(outages.count)),
                     ("longest_outage_ms", .optional(outages.map(\.milliseconds).max(), places: 3)),
                     ("servers", .object(servers.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) }))])
        }

        public var text: String {
            let longest = outages.map(\.milliseconds).max().map { ", longest outage \(JSON.fixed($0, places: 1)) ms" } ?? ""
            let who = servers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "\(requests) requests, \(successes) answered (\(who.isEmpty ? "none" : who)), \(requests - successes) failed, \(outages.count) outages\(longest)"
        }
    }

    public let options: Options
    public init(_ options: Options) { self.options = options }

    /// One request: connect, `GET /`, read the answer to its end; the body's last line names
    /// the server.
    public func request() -> Attempt {
        let started = ContinuousClock.now
        let time = Date().timeIntervalSince1970
        func elapsed() -> Double { (ContinuousClock.now - started) / .milliseconds(1) }
        do {
            let socket = try Socket.connected(to: options.target, timeout: options.timeout)
            defer { try? socket.close() }
            try socket.send(Array("GET / HTTP/1.0\r\nHost: \(options.target.host)\r\n\r\n".utf8))
            var response: [UInt8] = []
            var poller = Poller()
            poller.watch(socket, for: .readable)
            var buffer = [UInt8](repeating: 0, count: 1024)
            while response.count < 4096 {
                let left = options.timeout - (ContinuousClock.now - started)
                guard left > .zero, !(try poller.wait(timeout: left)).isEmpty else {
                    return Attempt(time: time, server: nil, milliseconds: elapsed(), error: "no answer within \(StandbyEvent.milliseconds(options.timeout))")
                }
                let count = try buffer.withMutableBytes { (raw) throws(SocketError) in try socket.receive(into: raw) }
                if count == 0 { break }
                response += buffer[..<count]
            }
            let text = String(decoding: response, as: UTF8.self)
            guard text.hasPrefix("HTTP/1."), text.contains(" 200 "), let body = text.components(separatedBy: "\r\n\r\n").dropFirst().first else {
                return Attempt(time: time, server: nil, milliseconds: elapsed(), error: "not an HTTP 200 answer")
            }
            let name = body.split(separator: "\n").last.map(String.init) ?? ""
            return Attempt(time: time, server: name.isEmpty ? "?" : name, milliseconds: elapsed(), error: nil)
        } catch {
            return Attempt(time: time, server: nil, milliseconds: elapsed(), error: error.description)
        }
    }

    /// Requests every `every` until the duration is over or `shouldStop` says so; each attempt
    /// and each outage go to `report` as they happen.
    public func run(shouldStop: () -> Bool = { false }, report: (Attempt, Outage?) -> Void) -> Tally {
        var tally = Tally()
        let clock = ContinuousClock()
        let start = clock.now
        var next = start
        while !shouldStop() {
            if let duration = options.duration, clock.now - start >= duration { break }
            let attempt = request()
            report(attempt, tally.add(attempt))
            next += options.every
            // A request that took longer than the period starts the next one at once, and the
            // schedule restarts from there instead of bursting to catch up.
            if next < clock.now { next = clock.now } else { clock.sleep(until: next) }
        }
        return tally
    }
}

extension ServiceProbe {
    /// Makes Ctrl-C and SIGTERM end `run` after the request in flight, so the summary is printed.
    public static func stopOnSignals() {
        for number in [SIGINT, SIGTERM] { signal(number) { _ in probeStop.store(true, ordering: .relaxed) } }
    }
    public static var stopRequested: Bool { probeStop.load(ordering: .relaxed) }
}

/// Set by the signal handler; an atomic store is async-signal-safe.
private let probeStop = Atomic<Bool>(false)

extension ContinuousClock {
    func sleep(until instant: Instant) {
        let left = instant - now
        guard left > .zero else { return }
        let (seconds, attoseconds) = left.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
