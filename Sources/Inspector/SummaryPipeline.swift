import Capture
import Dispatch
import Foundation
import Packets
import Synchronization

/// `inspector read --summary` on two cores: this thread reads the file and decodes each frame
/// (libpcap and Packets, about a quarter of the work); a second thread follows the
/// connections. Segments cross in batches of 4,096 through a bounded queue, so memory stays
/// flat and neither side waits long. The result is the same as the one-thread `Session`
/// (the tests compare them); only `--summary` uses it, because there nothing is printed per
/// frame, and so the order of work between frames does not show.
public enum SummaryPipeline {
    struct Segment: Sendable {
        var frame: Int
        var time: Timestamp
        var tcp: TCPHeader
        var source: Endpoint
        var destination: Endpoint
        var wireLength: Int
    }

    /// A bounded queue of batches; an empty batch means the end.
    final class Channel: Sendable {
        let batches = Mutex<[[Segment]]>([])
        let free: DispatchSemaphore
        let ready = DispatchSemaphore(value: 0)

        init(capacity: Int) { free = DispatchSemaphore(value: capacity) }

        func put(_ batch: [Segment]) {
            free.wait()
            batches.withLock { $0.append(batch) }
            ready.signal()
        }

        func take() -> [Segment] {
            ready.wait()
            let batch = batches.withLock { $0.removeFirst() }
            free.signal()
            return batch
        }
    }

    /// The consumer's state, handed to its thread and taken back after the join.
    final class Worker: @unchecked Sendable {
        // @unchecked: only the consumer thread touches these until `done` is signalled.
        var session: Session
        var out = OutputBuffer()
        let done = DispatchSemaphore(value: 0)
        init(session: Session) { self.session = session }
    }

    /// Reads `capture` (at most `limit` frames) into `session`, writing the summary to
    /// `descriptor` (standard output) as connections are forgotten and at the end. Everything read before
    /// a truncation is summarised before the error is thrown.
    public static func run(_ capture: CaptureFile, session: Session, limit: Int = .max, descriptor: Int32 = 1) throws(CaptureError) {
        let channel = Channel(capacity: 8)
        let worker = Worker(session: session)
        Thread.detachNewThread {
            while true {
                let batch = channel.take()
                if batch.isEmpty { break }
                for segment in batch {
                    worker.session.write(segment: segment, to: &worker.out)
                    worker.out.flushIfFull(to: descriptor)
                }
            }
            worker.session.finish(to: &worker.out)
            worker.out.flush(to: descriptor)
            worker.done.signal()
        }
        var packet = Packet()
        var batch: [Segment] = []
        batch.reserveCapacity(4096)
        var frames = 0
        var failure: CaptureError?
        do {
            try capture.forEach { frame in
                guard frames < limit else { return }
                frames += 1
                packet.decode(frame.bytes, linkType: capture.linkType, verifyChecksums: false)
                guard let tcp = packet.tcp, let (source, destination) = packet.tcpEndpoints else { return }
                batch.append(Segment(frame: frame.number, time: frame.timestamp, tcp: tcp, source: source,
                                     destination: destination, wireLength: frame.originalLength))
                if batch.count == 4096 {
                    channel.put(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            failure = error
        }
        if !batch.isEmpty { channel.put(batch) }
        channel.put([])
        worker.done.wait()
        if let failure { throw failure }
    }
}
