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

    /// "MSS 65495, window scale 7 (windows ×128), SACK, timestamps".
    var text: String {
        var parts: [String] = []
        if let mss { parts.append("MSS \(mss)") }
        if let windowScale { parts.append("window scale \(windowScale) (windows ×\(1 << Int(min(windowScale, 14))))") }
        if sackPermitted { parts.append("SACK") }
        if timestamps { parts.append("timestamps") }
        return parts.isEmpty ? "no options" : parts.joined(separator: ", ")
    }
}

/// How a connection opened (DESIGN.md's `handshake` record).
public struct HandshakeRecord: Sendable {
    public enum State: String, Sendable { case complete, refused, timeout, simultaneousOpen = "simultaneous_open" }
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
    /// Who closed (or reset) first: "client" or "server".
    public var first: String
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
    /// Updates the connection's opening and closing state and says, in plain English, what
    /// this segment does in the life of the connection.
    func follow(_ report: SegmentReport, forward: Int, prose: ConnectionTracker.Prose,
                         pending: inout [ConnectionTracker.Record]) -> [String] {
        var notes: [String] = []
        /// Composes the sentence only when someone will read it.
        func say(_ text: @autoclosure () -> String) { if prose != .none { notes.append(text()) } }
        let tcp = report.tcp
        let flags = tcp.flags
        let clientSide = lifecycle.handshake.map { $0.client == first ? 0 : 1 }
        /// "client" or "server" (when the capture missed the SYN: by who spoke first).
        func party(_ side: Int) -> String {
            guard let clientSide else { return side == 0 ? "first sender" : "other side" }
            return side == clientSide ? "client" : "server"
        }
        func role(_ side: Int) -> String { "the " + party(side) }

        if flags.contains(.syn) && !flags.contains(.ack) {
            if var handshake = lifecycle.handshake, handshake.client == report.source {
                handshake.synCount += 1
                lifecycle.handshake = handshake
                say("SYN again (attempt \(handshake.synCount)) — no SYN-ACK came back, so the client retransmits its SYN with the same ISN; Linux waits 1 s, then 2 s, 4 s… before giving up with ETIMEDOUT.")
            } else if var handshake = lifecycle.handshake, handshake.server == report.source {
                handshake.state = .simultaneousOpen
                lifecycle.handshake = handshake
                say("SYN from the other side too — a simultaneous open: both ends called connect() at once (RFC 9293 §3.5).")
            } else {
                lifecycle.handshake = HandshakeRecord(
                    stream: stream, client: report.source, server: report.destination,
                    clientISN: tcp.sequenceNumber, serverISN: nil, synFrame: report.frame, synAckFrame: nil, ackFrame: nil,
                    synCount: 1, rtt: nil, clientOptions: OfferedOptions(tcp.options), serverOptions: nil, state: .complete)
                say("SYN — the client \(report.source) asks to open a connection to \(report.destination) and picks its initial sequence number \(tcp.sequenceNumber) (shown as 0 from now on). It offers \(OfferedOptions(tcp.options).text).")
            }
        } else if flags.contains(.syn) && flags.contains(.ack), var handshake = lifecycle.handshake, handshake.server == report.source {
            handshake.serverISN = tcp.sequenceNumber
            handshake.synAckFrame = report.frame
            let offered = OfferedOptions(tcp.options)
            handshake.serverOptions = offered
            lifecycle.handshake = handshake
            if prose != .none {
            var text = "SYN-ACK — the server agrees; its ACK \(tcp.acknowledgementNumber) is the client's ISN + 1: a SYN uses one sequence number. Its own ISN is \(tcp.sequenceNumber). It offers \(offered.text)."
            let client = handshake.clientOptions
            if client.windowScale != nil && offered.windowScale != nil {
                text += " Both offered window scaling, so from now on each side's window field is multiplied by its own factor."
            } else if client.windowScale != nil || offered.windowScale != nil {
                text += " Only one side offered window scaling, so neither scales: windows stay below 64 KiB."
            }
            if client.sackPermitted && offered.sackPermitted { text += " SACK is on: a receiver can report the blocks it holds beyond a gap." }
            if let a = client.mss, let b = offered.mss { text += " Each side will send segments of at most the other's MSS (\(b) and \(a) bytes)." }
            say(text)
            }
        } else if flags.intersection([.syn, .fin, .rst, .ack]) == .ack, var handshake = lifecycle.handshake,
                  handshake.ackFrame == nil, handshake.synAckFrame != nil, handshake.client == report.source {
            handshake.ackFrame = report.frame
            handshake.rtt = initialRTT
            lifecycle.handshake = handshake
            let rtt = initialRTT.map { " in " + SegmentAnalyzer.milliseconds($0) } ?? ""
            say("ACK — handshake complete\(rtt); both sides are now ESTABLISHED and accept() returns on the server.")
            emit(.handshake(handshake), into: &pending)
            lifecycle.handshakeReported = true
        }

        if flags.contains(.rst) {
            lifecycle.closeFrames.append(report.frame)
            if var handshake = lifecycle.handshake, handshake.synAckFrame == nil, handshake.server == report.source {
                handshake.state = .refused
                lifecycle.isFinished = true
                lifecycle.handshake = handshake
                say("RST — nothing listens on \(report.source): the server's kernel refuses the connection, and the client's connect() fails with ECONNREFUSED.")
                emit(.handshake(handshake), into: &pending)
                lifecycle.handshakeReported = true
            } else {
                say("RST — \(role(forward)) aborts the connection: no FIN exchange, no TIME_WAIT; unread data is thrown away. (A close() with SO_LINGER set to 0 does this, and so does data arriving for a socket that is already closed.)")
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
                say("FIN — \(role(forward)) has nothing more to send (it called close() or shutdown(SHUT_WR)); it closes first, so it is the side that will wait in TIME_WAIT.")
            } else if let first = lifecycle.firstFIN, first.side != forward, lifecycle.secondFIN == nil {
                lifecycle.secondFIN = (forward, report.frame, seqEnd)
                lifecycle.closeFrames.append(report.frame)
                say("FIN — \(role(forward)) closes its direction too" + (lifecycle.dataAfterFIN ? ", after sending more data: that was a half-close." : "."))
            }
        } else if report.length > 0, let first = lifecycle.firstFIN, first.side != forward, lifecycle.secondFIN == nil {
            if !lifecycle.dataAfterFIN {
                say("Data after the other side's FIN — a half-close: \(role(first.side)) stopped sending but still receives, so \(role(forward)) goes on.")
            }
            lifecycle.dataAfterFIN = true
        }
        if let second = lifecycle.secondFIN, second.side != forward, flags.contains(.ack), tcp.acknowledgementNumber == second.seqEnd,
           !lifecycle.closeReported, let first = lifecycle.firstFIN {
            lifecycle.closeFrames.append(report.frame)
            say("ACK of the last FIN — the connection is closed. The \(party(first.side)) closed first and now waits in TIME_WAIT (2 × MSL) so that a late segment cannot confuse a new connection on the same ports.")
            let close = CloseRecord(
                stream: stream, how: lifecycle.dataAfterFIN ? .halfClose : .fin,
                first: party(first.side), frames: lifecycle.closeFrames, complete: true)
            lifecycle.close = close
            lifecycle.isFinished = true
            emit(.close(close), into: &pending)
            lifecycle.closeReported = true
        }

        if prose == .explain && notes.isEmpty {
            if report.length > 0 {
                say("Data — \(report.length) bytes from \(role(forward)), its bytes \(report.seq)–\(report.seq &+ UInt32(report.length) &- 1) (relative numbers); the other side acknowledges them with ACK \(report.seq &+ UInt32(report.length)).")
            } else if flags.intersection([.syn, .fin, .rst, .ack]) == .ack {
                say("ACK — \(role(forward)) has received every byte before \(report.ack) of the other side's stream, and has room for \(report.window) more (its window).")
            }
        }
        return notes + report.evidence
    }

    /// Hands a record to the tracker and keeps the summary's state column in step.
    private func emit(_ record: ConnectionTracker.Record, into pending: inout [ConnectionTracker.Record]) {
        summary.note(record)
        pending.append(record)
    }
}

