import Packets
import Dispatch
import Foundation
import Synchronization

/// A live capture running on its own thread, keeping every frame for the caller to look at
/// between steps: the handshake demo draws them, udp-vs-tcp counts bytes on the wire, a
/// server lab checks how its connections ended.
public final class CaptureRecorder: Sendable {
    public let capture: LiveCapture
    private let frames = Mutex<[CapturedFrame]>([])
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    public init(_ options: LiveCapture.Options) throws(CaptureError) {
        capture = try LiveCapture(options)
        let capture = self.capture
        Thread.detachNewThread { [self] in
            _ = try? capture.run { frame in frames.withLock { $0.append(frame.owned()) } }
            done.signal()
        }
    }

    public var linkType: LinkType { capture.linkType }
    public var count: Int { frames.withLock { $0.count } }

    /// The frames from `index` on.
    public func frames(from index: Int) -> [CapturedFrame] {
        frames.withLock { Array($0[min(index, $0.count)...]) }
    }

    /// Waits until no frame has come for `quiet` (at most `limit`): the kernel delivers the
    /// last packets of an exchange a little after the calls that caused them return.
    public func settle(quiet: Duration = .milliseconds(100), limit: Duration = .seconds(1)) {
        var seen = count
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: Double(quiet.components.attoseconds) / 1e18 + Double(quiet.components.seconds))
            let now = count
            if now == seen { return }
            seen = now
        }
    }

    /// Stops the capture (it drains what the kernel holds first) and waits for its thread.
    /// Safe to call more than once: later calls return at once.
    public func stop() {
        guard stopped.withLock({ let first = !$0; $0 = true; return first }) else { return }
        capture.stop()
        done.wait()
    }
}
