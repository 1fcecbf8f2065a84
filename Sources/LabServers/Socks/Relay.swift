import SocketCore

/// Steps 7 and 8: bytes both ways at once between two connected sockets, with a bounded
/// buffer each way (a side that stops reading slows the other by TCP's flow control, not by
/// the proxy's memory), a half-close passed on (EOF from one side becomes shutdown(SHUT_WR)
/// towards the other, once what it sent before is delivered), and an idle timeout.
struct Relay {
    let a: Socket
    let b: Socket
    let bufferSize: Int
    let idle: Duration

    /// One direction: what was read from one side and not yet written to the other.
    struct Direction {
        var pending: [UInt8] = []
        var sent = 0
        /// The reading side sent FIN; `shutDown` once the writing side got it too.
        var sawEOF = false
        var shutDown = false
        var total = 0
    }

    /// Relays until both directions are closed, one side fails, or nothing moves for `idle`.
    /// `pendingForB`: bytes `a` sent before the relay began (right behind its request).
    /// Returns the bytes a → b, b → a, and how it ended.
    func run(pendingForB: [UInt8]) -> (Int, Int, String) {
        try? a.setNonBlocking(true)
        try? b.setNonBlocking(true)
        var toB = Direction(pending: pendingForB), toA = Direction()
        // Not zero-filled: an idle relay's buffer then costs address space, not memory (its
        // pages are touched only when bytes arrive), so a thousand quiet connections stay small.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(bufferSize, 65_536), alignment: 16)
        defer { buffer.deallocate() }
        var poller = Poller()
        while !(toB.shutDown && toA.shutDown) {
            // Read a side only while there is room for what it sends; write while there is
            // something for it.
            var forA: PollEvents = [], forB: PollEvents = []
            if !toB.sawEOF, toB.pending.count - toB.sent < bufferSize { forA.insert(.readable) }
            if !toA.sawEOF, toA.pending.count - toA.sent < bufferSize { forB.insert(.readable) }
            if toA.sent < toA.pending.count { forA.insert(.writable) }
            if toB.sent < toB.pending.count { forB.insert(.writable) }
            poller.watch(a, for: forA)
            poller.watch(b, for: forB)
            guard let ready = try? poller.wait(timeout: idle) else { return (toB.total, toA.total, "poll failed") }
            if ready.isEmpty { return (toB.total, toA.total, "idle for \(idle): closed") }
            for event in ready {
                let fromA = event.descriptor == a.descriptor
                let trouble = !event.events.isDisjoint(with: [.error, .hangup, .invalid])
                var failure: String?
                if event.events.contains(.readable) || trouble {
                    failure = fromA ? Self.read(from: a, into: buffer, direction: &toB, limit: bufferSize)
                        : Self.read(from: b, into: buffer, direction: &toA, limit: bufferSize)
                }
                if failure == nil, event.events.contains(.writable) {
                    failure = fromA ? Self.write(to: a, direction: &toA) : Self.write(to: b, direction: &toB)
                }
                if let failure { return (toB.total, toA.total, "\(fromA ? "client" : "target") \(failure)") }
            }
            // A FIN seen and everything sent before it delivered: pass the half-close on.
            if toB.sawEOF, !toB.shutDown, toB.sent == toB.pending.count {
                try? b.shutdown(.write)
                toB.shutDown = true
            }
            if toA.sawEOF, !toA.shutDown, toA.sent == toA.pending.count {
                try? a.shutdown(.write)
                toA.shutDown = true
            }
        }
        return (toB.total, toA.total, "closed by both")
    }

    /// One recv() into `direction`; nil, or what went wrong.
    static func read(from socket: Socket, into buffer: UnsafeMutableRawBufferPointer, direction: inout Direction, limit: Int) -> String? {
        guard !direction.sawEOF else { return nil }
        let room = min(buffer.count, limit - (direction.pending.count - direction.sent))
        guard room > 0 else { return nil }
        do {
            let result = try socket.tryReceive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<room]))
            switch result {
            case .wouldBlock: return nil
            case .ready(0): direction.sawEOF = true
            case .ready(let count):
                if direction.sent > 0 && direction.sent == direction.pending.count {
                    direction.pending.removeAll(keepingCapacity: true)
                    direction.sent = 0
                }
                direction.pending += UnsafeRawBufferPointer(rebasing: buffer[..<count])
                direction.total += count
            }
            return nil
        } catch {
            return "failed: \(error)"
        }
    }

    /// One send() from `direction`; nil, or what went wrong.
    static func write(to socket: Socket, direction: inout Direction) -> String? {
        guard direction.sent < direction.pending.count else { return nil }
        do {
            let result = try direction.pending.withUnsafeBytes {
                try socket.trySendSome(UnsafeRawBufferPointer(rebasing: $0[direction.sent...]))
            }
            if case .ready(let count) = result { direction.sent += count }
            if direction.sent == direction.pending.count {
                direction.pending.removeAll(keepingCapacity: true)
                direction.sent = 0
            } else if direction.sent > 1 << 16 {
                direction.pending.removeFirst(direction.sent)
                direction.sent = 0
            }
            return nil
        } catch {
            return "failed: \(error)"
        }
    }
}
