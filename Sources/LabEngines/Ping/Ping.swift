#if canImport(Glibc)
import Glibc
#endif
import LabHost
import Packets
import SocketCore
import Synchronization

/// ICMP echo, as iputils `ping` does it, over SocketCore: builds each request itself
/// (identifier, sequence, a timestamp and a byte pattern as payload, the checksum), matches
/// replies by identifier and sequence, and reports duplicates, bad checksums, destination
/// unreachable and time exceeded with the router's address.
public final class Pinger {
    public struct Options: Sendable {
        /// Requests to send; nil: until Ctrl-C.
        public var count: Int?
        /// Between requests.
        public var interval: Duration = .seconds(1)
        /// How long to wait for replies after the last request (iputils' -W; 10 s by default).
        public var timeout: Duration = .seconds(10)
        /// Payload bytes (iputils' -s): 56, so that with the 8-byte ICMP header a request is 64.
        public var size = 56
        /// TTL or hop limit of the requests (-t).
        public var ttl: Int?
        /// -4 or -6; nil: whatever the host resolves to first.
        public var family: AddressFamily?
        public init() {}
    }

    /// A raw socket (needs root or CAP_NET_RAW) or the kernel's ping socket (unprivileged,
    /// when net.ipv4.ping_group_range allows; the kernel then chooses the identifier and
    /// keeps errors to itself).
    public enum SocketKind: String, Sendable { case raw, datagram }

    public enum Event: Sendable {
        /// An echo reply: its ICMP length, sender, TTL, round trip in µs.
        case reply(sequence: Int, bytes: Int, from: String, ttl: Int?, microseconds: Int64, duplicate: Bool, badChecksum: Bool)
        /// Destination unreachable or time exceeded for one of our requests.
        case error(sequence: Int, from: String, message: String)
    }

    public let host: String
    public let address: SocketAddress
    public let kind: SocketKind
    public let options: Options
    public private(set) var identifier: UInt16
    private let socket: Socket
    public private(set) var statistics = PingStatistics()
    /// Send times on the real-time clock, which the kernel's receive timestamps use too.
    private var sentAt: [Int: Duration] = [:]
    private var answered = Set<Int>()

    /// Resolves `host` and opens the socket: raw first, the ping socket if that is refused.
    /// Throws exit-3 errors (with the fix) when neither is allowed, exit-2 for a bad host.
    public init(host: String, options: Options) throws(SocketError) {
        self.host = host
        self.options = options
        let candidates = try SocketAddress.resolve(host: host, port: 0, type: .datagram)
        guard let address = candidates.first(where: { options.family == nil || $0.family == options.family }) else {
            // What iputils says too ("Address family for hostname not supported"), and bad input.
            let wanted = options.family == .ipv6 ? "IPv6" : "IPv4"
            throw SocketError.resolution(host: host, code: EAI_FAMILY, message: "it has no \(wanted) address")
        }
        self.address = address
        let family = address.family
        do {
            socket = try Socket.rawICMP(family)
            kind = .raw
        } catch let rawError {
            guard case .system(_, let errno, _) = rawError, errno == .EPERM || errno == .EACCES else { throw rawError }
            do {
                socket = try Socket.pingICMP(family)
                kind = .datagram
            } catch {
                throw rawError  // neither: say how to get the raw socket (exit 3)
            }
        }
        identifier = UInt16(truncatingIfNeeded: getpid())
        if let ttl = options.ttl {
            if family == .ipv4 { try socket.set(.ttl, ttl) } else { try socket.set(.hopLimit, ttl) }
        }
        if family == .ipv4 { try socket.set(.receiveTTL, true) } else { try socket.set(.receiveHopLimit, true) }
        // Round trips from the send call to the kernel's receive time, as iputils measures
        // them: the process's wake-up after the reply is not part of the network's delay.
        try socket.set(.receiveTimestamps, true)
        if kind == .datagram {
            // The kernel picks the identifier: it is the ping socket's "port".
            try socket.bind(to: family == .ipv4 ? .any(0) : .any(0, family: .ipv6))
            identifier = try socket.localAddress.port ?? identifier
        }
    }

    public var version: ICMPEcho.Version { address.family == .ipv4 ? .v4 : .v6 }

    /// iputils' first line.
    public var header: String {
        version == .v4
            ? "PING \(host) (\(address.host)) \(options.size)(\(options.size + 28)) bytes of data."
            : "PING \(host)(\(address.host)) \(options.size) data bytes"
    }

    /// The request with sequence number `sequence`: payload as iputils fills it (bytes
    /// 0, 1, 2… with the send time as a timeval in the first 16 when there is room).
    public func request(sequence: Int, at time: timeval? = nil) -> ICMPEcho {
        var payload = (0..<options.size).map { UInt8(truncatingIfNeeded: $0) }
        if options.size >= 16 {
            var now = time ?? timeval()
            if time == nil { gettimeofday(&now, nil) }
            withUnsafeBytes(of: now) { payload.replaceSubrange(0..<16, with: $0) }
        }
        return ICMPEcho(version: version, identifier: identifier, sequence: UInt16(truncatingIfNeeded: sequence), payload: payload)
    }

    /// Sends requests on schedule and reads what comes back until `count` requests are all
    /// answered (or errored), the wait after the last one runs out, or `stop` says so (Ctrl-C).
    /// `onSent` gets each request as it goes out, the bytes `sendto()` was given — what
    /// `--explain` draws, so that its checksum is the one in the capture.
    public func run(stop: () -> Bool = { Pinger.interrupted }, onSent: (ICMPEcho) -> Void = { _ in },
                    onEvent: (Event) -> Void) throws(SocketError) -> PingStatistics {
        let clock = ContinuousClock()
        let start = clock.now
        var nextSend = start
        var sequence = 1
        var lastSent = start
        var poller = Poller()
        poller.watch(socket, for: .readable)
        while !stop() {
            let now = clock.now
            let allSent = options.count.map { statistics.transmitted >= $0 } ?? false
            if !allSent && now >= nextSend {
                let echo = request(sequence: sequence)
                sentAt[sequence] = Self.realTime()
                _ = try socket.send(echo.encoded(), to: address)
                onSent(echo)
                statistics.transmitted += 1
                lastSent = clock.now
                sequence += 1
                nextSend = nextSend + options.interval
                continue
            }
            if allSent {
                if statistics.received + statistics.errors >= statistics.transmitted { break }
                if now >= lastSent + options.timeout { break }
            }
            let until = allSent ? lastSent + options.timeout : nextSend
            let wait = until - now
            let milliseconds = max(0, Int32(min(1000, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000 + 1)))
            guard !(try poller.wait(timeout: .milliseconds(Int(milliseconds)))).isEmpty else { continue }
            let datagram = try socket.receiveMessage(upTo: 65_536)
            if let event = interpret(datagram, at: datagram.kernelTimestamp ?? Self.realTime()) { onEvent(event) }
        }
        let elapsed = clock.now - start
        statistics.elapsedMilliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return statistics
    }

    /// What one received packet means for us, if anything (a raw socket sees every ICMP
    /// packet of the host, our own requests on loopback included). Decoded by Packets, as the
    /// inspector decodes a capture: a raw IPv4 socket hands over the IP header too (the TTL is
    /// there), the others the ICMP message alone (the TTL comes as IP_RECVTTL).
    private func interpret(_ datagram: Datagram, at now: Duration) -> Event? {
        var ttl = datagram.hopLimit
        let from = datagram.sender?.host ?? "?"
        let reply: (identifier: UInt16, sequence: UInt16, length: Int, badChecksum: Bool)?
        let error: (type: UInt8, code: UInt8, rest: UInt32, quoted: QuotedDatagram?)?
        switch version {
        case .v4:
            let icmp: ICMPHeader
            if kind == .raw {
                let packet = Packet(decoding: datagram.bytes, linkType: .ipv4)
                guard let header = packet.icmp else { return nil }
                ttl = packet.ipv4.map { Int($0.ttl) } ?? ttl
                icmp = header
            } else {
                guard let header = try? ICMPHeader(message: datagram.bytes) else { return nil }
                icmp = header
            }
            let bad = if case .bad = icmp.checksumStatus { true } else { false }
            switch icmp.message {
            case .echoReply(let identifier, let sequence):
                reply = (identifier, sequence, 8 + icmp.bodyLength, bad)
                error = nil
            case .destinationUnreachable(let quoted), .timeExceeded(let quoted):
                reply = nil
                error = (icmp.type, icmp.code, icmp.restOfHeader, quoted)
            default:
                return nil
            }
        case .v6:
            guard let icmp = try? ICMPv6Header(message: datagram.bytes) else { return nil }
            switch icmp.message {
            case .echoReply(let identifier, let sequence):
                reply = (identifier, sequence, 8 + icmp.bodyLength, false)
                error = nil
            case .destinationUnreachable(let quoted), .timeExceeded(let quoted), .packetTooBig(_, let quoted):
                reply = nil
                error = (icmp.type, icmp.code, icmp.restOfHeader, quoted)
            default:
                return nil
            }
        }
        if let reply {
            let sequence = Int(reply.sequence)
            // A ping socket's kernel rewrites the identifier to its own port: any reply on it is ours.
            guard kind == .datagram || reply.identifier == self.identifier, let sent = sentAt[sequence] else { return nil }
            let elapsed = now - sent
            let microseconds = max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
            let duplicate = answered.contains(sequence)
            answered.insert(sequence)
            statistics.record(microseconds: microseconds, duplicate: duplicate)
            return .reply(sequence: sequence, bytes: reply.length, from: from, ttl: ttl, microseconds: microseconds,
                          duplicate: duplicate, badChecksum: reply.badChecksum)
        }
        guard let error, let message = Self.errorMessage(type: error.type, code: error.code, version: version, mtu: Int(error.rest & 0xFFFF)) else { return nil }
        // The error quotes our request: its IP header, then the first 8 bytes of our ICMP.
        guard let quoted = error.quoted, quoted.echoIdentifier == self.identifier, let quotedSequence = quoted.echoSequence else { return nil }
        statistics.errors += 1
        return .error(sequence: Int(quotedSequence), from: from, message: message)
    }

    /// iputils' wording for the ICMP errors a ping can meet.
    static func errorMessage(type: UInt8, code: UInt8, version: ICMPEcho.Version, mtu: Int) -> String? {
        switch (version, type) {
        case (.v4, 3):
            let names = [0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
                         2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
                         4: "Frag needed and DF set (mtu = \(mtu))", 5: "Source Route Failed",
                         6: "Destination Net Unknown", 7: "Destination Host Unknown", 8: "Source Host Isolated",
                         9: "Destination Net Prohibited", 10: "Destination Host Prohibited",
                         11: "Destination Net Unreachable for Type of Service",
                         12: "Destination Host Unreachable for Type of Service", 13: "Packet filtered",
                         14: "Precedence Violation", 15: "Precedence Cutoff"]
            return names[Int(code)] ?? "Dest Unreachable, Bad Code: \(code)"
        case (.v4, 11):
            return code == 0 ? "Time to live exceeded" : "Frag reassembly time exceeded"
        case (.v6, 1):
            let names = [0: "No route", 1: "Administratively prohibited", 2: "Beyond scope",
                         3: "Address unreachable", 4: "Port unreachable"]
            return "Destination unreachable: " + (names[Int(code)] ?? "Unknown code \(code)")
        case (.v6, 3):
            return code == 0 ? "Time exceeded: Hop limit" : "Time exceeded: Defragmentation failure"
        default:
            return nil
        }
    }

    /// CLOCK_REALTIME as time since 1970: the clock of the kernel's receive timestamps.
    static func realTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }

    /// The line iputils prints for an event.
    public func line(for event: Event) -> String {
        switch event {
        case let .reply(sequence, bytes, from, ttl, microseconds, duplicate, badChecksum):
            var text = "\(bytes) bytes from \(from == host || host == address.host ? from : "\(host) (\(from))"): icmp_seq=\(sequence)"
            if let ttl { text += " ttl=\(ttl)" }
            text += " time=\(PingStatistics.time(microseconds: microseconds)) ms"
            if duplicate { text += " (DUP!)" }
            if badChecksum { text += " (BAD CHECKSUM!)" }
            return text
        case let .error(sequence, from, message):
            return "From \(from) icmp_seq=\(sequence) \(message)"
        }
    }

    // Ctrl-C: stop sending and print the statistics, as ping does.
    public static var interrupted: Bool { interruptFlag.load(ordering: .relaxed) }
    public static func stopOnInterrupt() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in interruptFlag.store(true, ordering: .relaxed) }
        }
    }
}

/// Set by the SIGINT handler; an atomic store is async-signal-safe.
private let interruptFlag = Atomic<Bool>(false)
