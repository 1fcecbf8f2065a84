import Dispatch
import Foundation
import Inspection
import PacketCapture
import SocketCore
import TextOutput

/// talk --show-packets: the conversation's own segments, as the inspector's ladder draws
/// them, printed under what is typed — so a student sees one key become one segment of
/// length 1 (TCP_NODELAY), or several keys share one (Nagle). A live capture of the
/// connection's two ports, read every 100 ms; the terminal's raw mode does not change how
/// lines print (output processing stays on).
public final class PacketLines: @unchecked Sendable {
    let recorder: CaptureRecorder
    let lock = NSLock()
    var session: Session
    var shown = 0
    var stopped = false

    /// Starts capturing the segments to and from `port` (needs root or CAP_NET_RAW) — before
    /// the connection exists, so that its handshake is drawn too.
    public init(port: UInt16, color: Bool) throws {
        var options = LiveCapture.Options()
        options.interface = "any"
        options.linkType = .linuxCooked2
        options.filter = "tcp port \(port)"
        options.writeTo = nil
        recorder = try CaptureRecorder(options)
        var view = Session.Options()
        view.view = .ladder
        view.detail = .none
        view.color = color
        session = Session(linkType: recorder.linkType, options: view)
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.showNew() }
        timer.resume()
        self.timer = timer
    }

    private var timer: (any DispatchSourceTimer)?

    func showNew() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        let frames = recorder.frames(from: shown)
        shown += frames.count
        var out = OutputBuffer()
        for frame in frames {
            frame.bytes.withUnsafeBytes { bytes in
                session.write(frame: FrameView(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: bytes, number: frame.number,
                                               linkType: frame.linkType), to: &out)
            }
        }
        let text = String(decoding: out.bytes, as: UTF8.self)
        if !text.isEmpty { writeAll(("\n" + text).utf8, to: 1) }
    }

    public func stop() {
        recorder.settle(quiet: .milliseconds(100), limit: .milliseconds(500))
        showNew()
        lock.lock()
        stopped = true
        lock.unlock()
        timer?.cancel()
        recorder.stop()
    }
}
