import PacketCapture
import Dispatch
import Foundation
import Packets
import Synchronization

/// `inspector read` on two cores: this thread reads the file, decodes each frame (libpcap and
/// Packets, about a quarter of the work) and writes the lines of frames that are not TCP; a
/// second thread follows the connections and writes everything else. Work crosses in batches
/// of 4,096 frames through a bounded queue, in frame order, so memory stays flat and the
/// output is byte for byte the one-thread `Session`'s (the tests compare them). The ladder
/// keeps one thread: its time column belongs to the whole capture.
public enum ReadPipeline {
    /// Plain bytes (no reference inside, which the compiler checks): a million of these cross
    /// between the threads, and each copy is a memcpy, not retains and releases. The rare
    /// SOCKS5 steps a segment completes travel beside it (`Item.segmentWithSocks`).
    struct Segment: Sendable, BitwiseCopyable {
        var frame: Int
        var time: Timestamp
        var tcp: TCPHeader
        var source: Endpoint
        var destination: Endpoint
        var wireLength: Int
        /// In a first fragment that could not be reassembled (tracked, not analysed).
        var inFragment = false

        /// The TCP segment in `packet`, if it holds one. `inout` so that the 800-byte packet
        /// is not copied to call its accessors (it was, once per frame, as a stored property).
        init?(_ packet: inout Packet, frame: FrameView) {
            guard let tcp = packet.tcp, let (source, destination) = packet.tcpEndpoints else { return nil }
            self.frame = frame.number
            self.time = frame.timestamp
            self.tcp = tcp
            self.source = source
            self.destination = destination
            wireLength = frame.originalLength
        }
    }

    /// A TCP segment for the tracker, or the finished line of a frame that is not TCP.
    enum Item: Sendable {
        case segment(Segment)
        /// A segment that completes SOCKS5 messages, found by the decoding step.
        case segmentWithSocks(Segment, [SocksStep])
        case line([UInt8])
        /// The decoding thread's last word (datagrams never reassembled), for the end.
        case unfinished(String)
    }

    /// A bounded queue of batches; an empty batch means the end.
    final class Channel<Element: Sendable>: Sendable {
        let batches = Mutex<[[Element]]>([])
        let free: DispatchSemaphore
        let ready = DispatchSemaphore(value: 0)

        init(capacity: Int) { free = DispatchSemaphore(value: capacity) }

        func put(_ batch: [Element]) {
            free.wait()
            batches.withLock { $0.append(batch) }
            ready.signal()
        }

        func take() -> [Element] {
            ready.wait()
            let batch = batches.withLock { $0.removeFirst() }
            free.signal()
            return batch
        }
    }

    /// A stage's state, handed to its thread and left alone until `done` is signalled.
    final class Stage: @unchecked Sendable {
        // @unchecked: only the stage's own thread touches `session` and `out` until `done`.
        var session: Session
        var out = OutputBuffer()
        let done = DispatchSemaphore(value: 0)
        init(session: Session) { self.session = session }
    }

    /// Reads `capture` (at most `limit` frames) into `session`, writing to `descriptor`
    /// (standard output). Everything read before a truncation is written before the error is
    /// thrown.
    public static func run(_ capture: CaptureFile, session: Session, limit: Int = .max, descriptor: Int32 = 1) throws(CaptureError) {
        // Two stages: read and decode here; follow the connections and write on a second
        // thread. (A third stage for writing measured slower on two cores: handing each
        // 257-byte report across cost more than the writing it moved.)
        let toTracker = Channel<Item>(capacity: 8)
        let tracking = Stage(session: session)
        Thread.detachNewThread {
            while true {
                let batch = toTracker.take()
                if batch.isEmpty { break }
                for item in batch {
                    switch item {
                    case .segment(let segment): tracking.session.write(segment: segment, to: &tracking.out)
                    case .segmentWithSocks(let segment, let socks): tracking.session.write(segment: segment, socks: socks, to: &tracking.out)
                    case .line(let bytes): bytes.withUnsafeBytes { tracking.out.raw($0) }
                    case .unfinished(let text): tracking.session.unfinishedDatagrams = text
                    }
                    tracking.out.flushIfFull(to: descriptor)
                }
            }
            tracking.session.finish(to: &tracking.out)
            tracking.out.flush(to: descriptor)
            tracking.done.signal()
        }
        var decoder = FrameDecoder(socksPorts: session.options.socksPorts)
        var batch: [Item] = []
        var lines = OutputBuffer()
        var others = session.otherFrames()
        batch.reserveCapacity(4096)
        var frames = 0
        var failure: CaptureError?
        do {
            try capture.forEach { frame in
                guard frames < limit else { return }
                frames += 1
                let result = decoder.decode(frame, linkType: capture.linkType)
                if case .segment(let segment, let socks) = result {
                    batch.append(socks.isEmpty ? .segment(segment) : .segmentWithSocks(segment, socks))
                } else {
                    if others != nil {
                        decoder.withOther(result, frame: frame) { packet, frame in others!.write(&packet, frame: frame, to: &lines) }
                    }
                    guard !lines.isEmpty else { return }
                    batch.append(.line(lines.bytes))
                    lines.clear()
                }
                if batch.count == 4096 {
                    toTracker.put(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            failure = error
        }
        if let text = decoder.reassembler.unfinishedNotice { batch.append(.unfinished(text)) }
        if !batch.isEmpty { toTracker.put(batch) }
        toTracker.put([])
        tracking.done.wait()
        if let failure { throw failure }
    }
}
