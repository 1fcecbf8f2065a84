import SocketCore

/// Steps 7 and 8: bytes both ways at once between two connected sockets, a half-close passed
/// on (EOF from one side becomes shutdown(SHUT_WR) towards the other, once what it sent before
/// is delivered), and an idle timeout.
struct Relay {
    let a: Socket
    let b: Socket
    /// Made before the proxy's reply, so that a proxy out of descriptors says so (REP 1)
    /// instead of succeeding and then failing.
    let pipes: Pipes
    let idle: Duration

    struct Pipes {
        let toB: SplicePipe
        let toA: SplicePipe
        init() throws(SocketError) {
            toB = try SplicePipe()
            toA = try SplicePipe()
        }
    }

    /// One direction through a pipe: how much waits in it, and the half-close state.
    struct PipeDirection {
        let pipe: SplicePipe
        var inPipe = 0
        var sawEOF = false
        var shutDown = false
        var total = 0
    }

    static let pipeCapacity = 65_536

    /// Relays until both directions are closed, one side fails, or nothing moves for `idle`;
    /// returns the bytes a → b, b → a, and how it ended. The bytes go through a pipe each way
    /// with splice(2): they never enter the process, which saves a third of the CPU a copying
    /// relay spends, and the pipe's 64 KiB is the bound on what waits each way (a side that
    /// stops reading slows the other by TCP's window, not by the proxy's memory).
    func run(already: Int = 0) -> (Int, Int, String) {
        try? a.setNonBlocking(true)
        try? b.setNonBlocking(true)
        var toB = PipeDirection(pipe: pipes.toB, total: already), toA = PipeDirection(pipe: pipes.toA)
        var poller = Poller()
        while !(toB.shutDown && toA.shutDown) {
            var forA: PollEvents = [], forB: PollEvents = []
            if !toB.sawEOF, toB.inPipe < Self.pipeCapacity { forA.insert(.readable) }
            if !toA.sawEOF, toA.inPipe < Self.pipeCapacity { forB.insert(.readable) }
            if toA.inPipe > 0 { forA.insert(.writable) }
            if toB.inPipe > 0 { forB.insert(.writable) }
            poller.watch(a, for: forA)
            poller.watch(b, for: forB)
            guard let ready = try? poller.wait(timeout: idle) else { return (toB.total, toA.total, "poll failed") }
            if ready.isEmpty { return (toB.total, toA.total, "idle for \(idle): closed") }
            for event in ready {
                let fromA = event.descriptor == a.descriptor
                let trouble = !event.events.isDisjoint(with: [.error, .hangup, .invalid])
                do throws(SocketError) {
                    if event.events.contains(.readable) || trouble {
                        if fromA { try Self.fill(&toB, from: a) } else { try Self.fill(&toA, from: b) }
                    }
                    if event.events.contains(.writable) {
                        if fromA { try Self.drain(&toA, to: a) } else { try Self.drain(&toB, to: b) }
                    }
                } catch {
                    return (toB.total, toA.total, "\(fromA ? "client" : "target") failed: \(error)")
                }
            }
            // Move on at once what came in: most of the time the other side can take it now.
            do throws(SocketError) {
                try Self.drain(&toB, to: b)
                try Self.drain(&toA, to: a)
            } catch {
                return (toB.total, toA.total, "failed: \(error)")
            }
            if toB.sawEOF, !toB.shutDown, toB.inPipe == 0 {
                try? b.shutdown(.write)
                toB.shutDown = true
            }
            if toA.sawEOF, !toA.shutDown, toA.inPipe == 0 {
                try? a.shutdown(.write)
                toA.shutDown = true
            }
        }
        return (toB.total, toA.total, "closed by both")
    }

    static func fill(_ direction: inout PipeDirection, from socket: Socket) throws(SocketError) {
        guard !direction.sawEOF, direction.inPipe < pipeCapacity else { return }
        switch try direction.pipe.fill(from: socket, upTo: pipeCapacity - direction.inPipe) {
        case .wouldBlock: break
        case .ready(0): direction.sawEOF = true
        case .ready(let count):
            direction.inPipe += count
            direction.total += count
        }
    }

    static func drain(_ direction: inout PipeDirection, to socket: Socket) throws(SocketError) {
        guard direction.inPipe > 0 else { return }
        if case .ready(let count) = try direction.pipe.drain(to: socket, upTo: direction.inPipe) { direction.inPipe -= count }
    }
}
