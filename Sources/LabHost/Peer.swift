import Dispatch
import Foundation
import Synchronization

/// Runs `body` on its own thread — the other end of a conversation — and hands back its
/// result on `value()`. Blocking socket calls never sit on Swift's small cooperative pool.
public final class Peer<Result: Sendable>: Sendable {
    private let outcome = Mutex<Swift.Result<Result, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    public init(_ body: @escaping @Sendable () throws -> Result) {
        let thread = Thread { [self] in
            let result = Swift.Result { try body() }
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread (at most `timeout`, so a broken test fails instead of hanging).
    public func value(timeout: Duration = .seconds(30)) throws -> Result {
        let seconds = Double(timeout.components.seconds)
        guard done.wait(timeout: .now() + seconds) == .success else {
            throw PeerTimedOut()
        }
        return try outcome.withLock { $0! }.get()
    }
}

public struct PeerTimedOut: Error {}
