import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// What poll(2) can report about a descriptor.
public struct PollEvents: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// POLLIN: recv() will not block — data, a new connection to accept(), or EOF.
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    /// POLLOUT: send() will not block (room in the send buffer; a connect() finished).
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    /// POLLRDHUP: the peer shut down its writing side (sent FIN).
    public static let peerClosed = PollEvents(rawValue: socketlab_pollrdhup())
    /// POLLERR (always reported): an error is pending, e.g. the peer sent RST.
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    /// POLLHUP (always reported): both directions are closed.
    public static let hangup = PollEvents(rawValue: Int16(POLLHUP))
    /// POLLNVAL (always reported): the descriptor is not open — a bug in the program.
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))

    public var description: String {
        let names: [(PollEvents, String)] = [
            (.readable, "POLLIN"), (.writable, "POLLOUT"), (.peerClosed, "POLLRDHUP"),
            (.error, "POLLERR"), (.hangup, "POLLHUP"), (.invalid, "POLLNVAL"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: "|")
    }
}

/// One descriptor that poll() found ready.
public struct PollEvent: Sendable, Hashable {
    public var descriptor: Int32
    public var events: PollEvents
}

/// A readiness loop over many sockets with poll(2) — the heart of a one-thread server that
/// serves many clients (the echo and chat labs).
///
/// It keeps the `struct pollfd` array that poll() wants, with an index from descriptor to
/// slot so that adding and removing a client are O(1).
public struct Poller: Sendable {
    private var entries: [pollfd] = []
    private var slots: [Int32: Int] = [:]

    public init() {}

    /// How many descriptors are watched.
    public var count: Int { entries.count }

    /// Watch `socket` for `events` (replacing what it was watched for before).
    public mutating func watch(_ socket: Socket, for events: PollEvents) {
        watch(descriptor: socket.descriptor, for: events)
    }

    /// Watch any descriptor — a pipe, standard input — for `events`.
    public mutating func watch(descriptor: Int32, for events: PollEvents) {
        if let slot = slots[descriptor] {
            entries[slot].events = events.rawValue
        } else {
            slots[descriptor] = entries.count
            entries.append(pollfd(fd: descriptor, events: events.rawValue, revents: 0))
        }
    }

    /// Stop watching. Call it before closing the socket: poll() on a closed descriptor
    /// reports POLLNVAL, and a reused descriptor number would be watched by mistake.
    public mutating func remove(_ socket: Socket) { remove(descriptor: socket.descriptor) }

    public mutating func remove(descriptor: Int32) {
        guard let slot = slots.removeValue(forKey: descriptor) else { return }
        let last = entries.removeLast()
        if slot < entries.count {
            entries[slot] = last
            slots[last.fd] = slot
        }
    }

    /// `poll(fds, n, timeout)`: wait until at least one descriptor is ready or `timeout`
    /// passes (nil: wait for ever). Returns the ready ones; empty means the time ran out.
    /// A signal does not cut the wait short: poll() is called again for the time left.
    public mutating func wait(timeout: Duration? = nil) throws(SocketError) -> [PollEvent] {
        let ready = try entries.withUnsafeMutableBufferPointer { (entries) throws(SocketError) -> Int32 in
            try Self.poll(entries, timeout: timeout)
        }
        var events: [PollEvent] = []
        events.reserveCapacity(Int(ready))
        for entry in entries where entry.revents != 0 {
            events.append(PollEvent(descriptor: entry.fd, events: PollEvents(rawValue: entry.revents)))
        }
        return events
    }
}

extension Poller {
    /// `poll(fds, n, timeout)` on `entries`: the number ready. The body runs again after EINTR,
    /// so the time left is worked out on each call.
    static func poll(_ entries: UnsafeMutableBufferPointer<pollfd>, timeout: Duration?) throws(SocketError) -> Int32 {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        return try syscall(.poll) {
            var milliseconds: Int32 = -1
            if let deadline {
                let left = deadline - clock.now
                // Round up: poll(…, 0) would spin instead of waiting the last fraction of a ms.
                milliseconds = left <= .zero ? 0 : Int32(clamping: left.roundedUpMilliseconds)
            }
            return Glibc.poll(entries.baseAddress, nfds_t(entries.count), milliseconds)
        }
    }
}

extension Socket {
    /// `poll()` for POLLIN on this socket and, when given, `other`, at most `timeout`: for
    /// each, whether a receive will not block (data, or an error or EOF it will report). A
    /// loop that waits for one socket — a TFTP transfer waits once per block — needs no
    /// `Poller` and its arrays.
    public func waitReadable(timeout: Duration, alsoWatching other: Socket? = nil) throws(SocketError) -> (this: Bool, other: Bool) {
        var entries = (pollfd(fd: try open(), events: PollEvents.readable.rawValue, revents: 0),
                       pollfd(fd: try other?.open() ?? -1, events: PollEvents.readable.rawValue, revents: 0))
        let count = other == nil ? 1 : 2
        return try withUnsafeMutableBytes(of: &entries) { (raw) throws(SocketError) -> (this: Bool, other: Bool) in
            let pair = raw.bindMemory(to: pollfd.self)
            _ = try Poller.poll(UnsafeMutableBufferPointer(rebasing: pair[..<count]), timeout: timeout)
            return (pair[0].revents != 0, count == 2 && pair[1].revents != 0)
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, for the C calls that count in ms.
    var roundedUpMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond
    }
}
