import PacketCapture
import Packets

/// The options one side offered in its SYN: what the handshake negotiates.
public struct OfferedOptions: Hashable, Sendable {
    public var mss: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted: Bool
    public var timestamps: Bool

    init(_ options: TCPOptions) {
        mss = options.mss
        windowScale = options.windowScale
        sackPermitted = options.sackPermitted
        timestamps = options.timestampValue != nil
    }
}

/// How a connection opened (DESIGN.md's `handshake` record).
public struct HandshakeRecord: Sendable {
    /// `halfOpen`: the server answered with SYN-ACK, and the client's ACK is not in the capture.
    public enum State: String, Sendable { case complete, refused, timeout, halfOpen = "half_open", simultaneousOpen = "simultaneous_open" }
    public var stream: Int
    public var client: Endpoint
    public var server: Endpoint
    public var clientISN: UInt32
    public var serverISN: UInt32?
    /// The frames of the SYN (the first one sent), the SYN-ACK and the ACK.
    public var synFrame: Int
    public var synAckFrame: Int?
    public var ackFrame: Int?
    /// How many times the client sent its SYN (more than 1: retransmitted).
    public var synCount: Int
    /// From the last SYN to the ACK that completes the handshake (tshark's initial_rtt).
    public var rtt: Double?
    public var clientOptions: OfferedOptions
    public var serverOptions: OfferedOptions?
    public var state: State
}

/// How a connection ended (DESIGN.md's `close` record).
public struct CloseRecord: Sendable {
    public enum How: String, Sendable { case fin, rst, halfClose = "half_close" }
    public var stream: Int
    public var how: How
    /// Who closed (or reset) first.
    public var first: Party
    public var frames: [Int]
    /// Whether both FINs and the last ACK were seen.
    public var complete: Bool
}

/// What the tracker learns about a connection's opening and closing, segment by segment.
struct Lifecycle {
    var handshake: HandshakeRecord?
    var handshakeReported = false
    /// The side (0: first sender, 1: the other) that sent the first FIN, and the frames.
    var firstFIN: (side: Int, frame: Int, seqEnd: UInt32)?
    var secondFIN: (side: Int, frame: Int, seqEnd: UInt32)?
    var dataAfterFIN = false
    var closeFrames: [Int] = []
    var close: CloseRecord?
    var closeReported = false

    /// Closed for good (both FINs acknowledged, reset, or refused): nothing more to learn.
    /// Stored, not computed: it is asked on every segment.
    var isFinished = false
}

extension ConnectionTracker.Conversation {
    /// Updates the connection's opening and closing state and records what this segment does
    /// in the life of the connection (the views put it in words).
    func follow(_ report: SegmentReport, forward: Int, detail: ConnectionTracker.Detail,
                pending: inout [ConnectionTracker.Record]) -> [SegmentEvent] {
        var events: [SegmentEvent] = []
        /// Records the event only when a view will say it.
        func record(_ event: @autoclosure () -> SegmentEvent) { if detail != .none { events.append(event()) } }
        let tcp = report.tcp
        let flags = tcp.flags
        let clientSide = lifecycle.handshake.map { $0.client == first ? 0 : 1 }
        /// Client or server (when the capture missed the SYN: by who spoke first).
        func party(_ side: Int) -> Party {
            guard let clientSide else { return side == 0 ? .firstSender : .otherSide }
            return side == clientSide ? .client : .server
        }

        if flags.contains(.syn) && !flags.contains(.ack) {
            if var handshake = lifecycle.handshake, handshake.client == report.source {
                handshake.synCount += 1
                lifecycle.handshake = handshake
                record(.synRetransmitted(attempt: handshake.synCount))
            } else if var handshake = lifecycle.handshake, handshake.server == report.source {
                handshake.state = .simultaneousOpen
                lifecycle.handshake = handshake
                record(.simultaneousOpen)
            } else {
                lifecycle.handshake = HandshakeRecord(
                    stream: stream, client: report.source, server: report.destination,
                    clientISN: tcp.sequenceNumber, serverISN: nil, synFrame: report.frame, synAckFrame: nil, ackFrame: nil,
                    synCount: 1, rtt: nil, clientOptions: OfferedOptions(tcp.options), serverOptions: nil, state: .complete)
                record(.open(client: report.source, server: report.destination, isn: tcp.sequenceNumber, options: OfferedOptions(tcp.options)))
            }
        } else if flags.contains(.syn) && flags.contains(.ack), var handshake = lifecycle.handshake, handshake.server == report.source {
            handshake.serverISN = tcp.sequenceNumber
            handshake.synAckFrame = report.frame
            let offered = OfferedOptions(tcp.options)
            handshake.serverOptions = offered
            lifecycle.handshake = handshake
            record(.accept(ack: tcp.acknowledgementNumber, isn: tcp.sequenceNumber, options: offered, clientOptions: handshake.clientOptions))
        } else if flags.contains(.ack), !flags.contains(.syn), var handshake = lifecycle.handshake,
                  handshake.ackFrame == nil, handshake.synAckFrame != nil, handshake.client == report.source {
            // The client's first ACK completes it, whatever else it carries (data, a FIN, a RST).
            handshake.ackFrame = report.frame
            // tshark has no handshake RTT while it is zero (both stamped alike).
            handshake.rtt = initialRTT.flatMap { $0 != 0 ? $0 : nil }
            lifecycle.handshake = handshake
            record(.established(rtt: initialRTT))
            emit(.handshake(handshake), into: &pending)
            lifecycle.handshakeReported = true
        }

        if flags.contains(.rst) {
            lifecycle.closeFrames.append(report.frame)
            if var handshake = lifecycle.handshake, handshake.synAckFrame == nil, handshake.server == report.source {
                handshake.state = .refused
                lifecycle.isFinished = true
                lifecycle.handshake = handshake
                record(.refused(server: report.source))
                emit(.handshake(handshake), into: &pending)
                lifecycle.handshakeReported = true
            } else {
                record(.reset(by: party(forward)))
                if !lifecycle.closeReported {
                    let close = CloseRecord(stream: stream, how: .rst, first: party(forward), frames: lifecycle.closeFrames, complete: true)
                    lifecycle.close = close
                    lifecycle.isFinished = true
                    emit(.close(close), into: &pending)
                    lifecycle.closeReported = true
                }
            }
        }

        let seqEnd = tcp.sequenceNumber &+ UInt32(truncatingIfNeeded: tcp.sequenceLength)
        if flags.contains(.fin) {
            if lifecycle.firstFIN == nil {
                lifecycle.firstFIN = (forward, report.frame, seqEnd)
                lifecycle.closeFrames.append(report.frame)
                record(.firstFIN(by: party(forward)))
            } else if let first = lifecycle.firstFIN, first.side != forward, lifecycle.secondFIN == nil {
                lifecycle.secondFIN = (forward, report.frame, seqEnd)
                lifecycle.closeFrames.append(report.frame)
                record(.secondFIN(by: party(forward), afterHalfClose: lifecycle.dataAfterFIN))
            }
        } else if report.length > 0, let first = lifecycle.firstFIN, first.side != forward, lifecycle.secondFIN == nil {
            if !lifecycle.dataAfterFIN {
                record(.dataAfterFIN(closer: party(first.side), sender: party(forward)))
            }
            lifecycle.dataAfterFIN = true
        }
        if let second = lifecycle.secondFIN, second.side != forward, flags.contains(.ack), tcp.acknowledgementNumber == second.seqEnd,
           !lifecycle.closeReported, let first = lifecycle.firstFIN {
            lifecycle.closeFrames.append(report.frame)
            record(.closed(firstCloser: party(first.side)))
            let close = CloseRecord(
                stream: stream, how: lifecycle.dataAfterFIN ? .halfClose : .fin,
                first: party(first.side), frames: lifecycle.closeFrames, complete: true)
            lifecycle.close = close
            lifecycle.isFinished = true
            emit(.close(close), into: &pending)
            lifecycle.closeReported = true
        }

        if detail == .everySegment && events.isEmpty {
            if report.length > 0 {
                record(.data(from: party(forward), firstByte: report.seq, length: report.length))
            } else if flags.intersection([.syn, .fin, .rst, .ack]) == .ack {
                record(.acknowledgement(from: party(forward), ack: report.ack, window: report.window))
            }
        }
        return events
    }

    /// Hands a record to the tracker and keeps the summary's state column in step.
    private func emit(_ record: ConnectionTracker.Record, into pending: inout [ConnectionTracker.Record]) {
        summary.note(record)
        pending.append(record)
    }
}

