import SocketCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The accept loop of a server that gives each client a thread of its own (the SOCKS proxy,
/// the remote command service): at most `limit` at once, a refusal logged past it, and out of
/// descriptors a pause of 100 ms instead of a spin on a listener that stays readable.
public final class ClientThreads: Sendable {
    let listener: Socket
    let limit: Int
    let active = Mutex(0)
    let stopping = Atomic(false)
    let nextID = Atomic(0)
    let log: @Sendable (String) -> Void

    public init(listener: Socket, limit: Int, log: @escaping @Sendable (String) -> Void) {
        self.listener = listener
        self.limit = limit
        self.log = log
    }

    /// How many clients are being served now.
    public var count: Int { active.withLock { $0 } }

    /// Accepts until `stop()`, running `serve` for each client on a thread of its own with the
    /// client's number (1, 2, …).
    public func run(_ serve: @escaping @Sendable (_ client: Socket, _ peer: SocketAddress, _ id: Int) -> Void) {
        var outOfDescriptors = false
        while !stopping.load(ordering: .acquiring) {
            let accepted: (socket: Socket, peer: SocketAddress)
            do {
                accepted = try listener.accept()
            } catch {
                if stopping.load(ordering: .acquiring) { break }
                if error.errno == .EMFILE || error.errno == .ENFILE {
                    if !outOfDescriptors { log("out of file descriptors (\(error.errno!)): not accepting for a moment") }
                    outOfDescriptors = true
                    usleep(100_000)
                }
                continue
            }
            outOfDescriptors = false
            let admitted = active.withLock { count -> Bool in
                guard count < limit else { return false }
                count += 1
                return true
            }
            guard admitted else {
                log("refused \(accepted.peer): already \(limit) clients (--max-clients)")
                try? accepted.socket.close()
                continue
            }
            let id = nextID.add(1, ordering: .relaxed).newValue
            Thread.detachNewThread {
                serve(accepted.socket, accepted.peer, id)
                self.active.withLock { $0 -= 1 }
            }
        }
    }

    /// Stops accepting; clients being served finish on their own.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        try? listener.shutdown(.both)
        try? listener.close()
    }
}

/// "0.123 s" since `start`: how long a client's connection or command took, in log lines.
func secondsText(since start: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock.now - start
    return String(format: "%.3f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
