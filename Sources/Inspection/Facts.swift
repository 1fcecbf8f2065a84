import PacketCapture

/// The analysis decides and records facts, with the numbers behind them; the views make the
/// sentences (`Sentences`). As Wireshark's packet-tcp.c sets `tcp.analysis.*` and leaves the
/// words to its columns, so that a new view — HTML, SVG — says the same things without
/// touching the tracker.

/// Which end of a connection, as a student names it: the client sent the SYN. When the capture
/// missed the SYN, the side seen first and the other side.
public enum Party: String, Sendable, Hashable {
    case client
    case server
    case firstSender = "first sender"
    case otherSide = "other side"
}

/// What a segment does in the life of its connection (RFC 9293's events), with its numbers.
public enum SegmentEvent: Sendable, Hashable {
    /// The first SYN: `client` asks `server` for a connection, with its ISN and options.
    case open(client: Endpoint, server: Endpoint, isn: UInt32, options: OfferedOptions)
    /// The client sent its SYN again (no SYN-ACK came back): attempt number `attempt`.
    case synRetransmitted(attempt: Int)
    /// A SYN from the server's side too: both ends called connect() at once.
    case simultaneousOpen
    /// The SYN-ACK: the server's ISN and ACK, its options, and the client's for comparison.
    case accept(ack: UInt32, isn: UInt32, options: OfferedOptions, clientOptions: OfferedOptions)
    /// The ACK that completes the handshake, with the handshake RTT when known.
    case established(rtt: Double?)
    /// RST to a SYN: nothing listens on `server`.
    case refused(server: Endpoint)
    /// RST on a connection: `by` aborts it.
    case reset(by: Party)
    /// The first FIN: `by` has nothing more to send and will wait in TIME-WAIT.
    case firstFIN(by: Party)
    /// The other side's FIN; `afterHalfClose` when it sent data after the first FIN.
    case secondFIN(by: Party, afterHalfClose: Bool)
    /// Data from `sender` after `closer`'s FIN: a half-close.
    case dataAfterFIN(closer: Party, sender: Party)
    /// The ACK of the last FIN: closed; `firstCloser` waits in TIME-WAIT.
    case closed(firstCloser: Party)
    /// `--explain` only: an ordinary data segment, its relative first byte and length.
    case data(from: Party, firstByte: UInt32, length: Int)
    /// `--explain` only: an ordinary ACK, with the window the receiver offers.
    case acknowledgement(from: Party, ack: UInt32, window: Int)
}

/// One of Wireshark's `tcp.analysis.*` verdicts on a segment, with the numbers that made it.
public enum AnalysisFact: Sendable, Hashable {
    case zeroWindowProbe
    case zeroWindow
    /// Sequence `gap` bytes beyond the next expected byte.
    case lostSegment(gap: UInt32)
    case keepAlive(length: Int)
    case windowUpdate(from: Int, to: Int)
    case windowFull
    /// Duplicate ACK number `count` of the ACK in `frame`.
    case duplicateAck(count: Int, frame: Int)
    case ackLostSegment
    case fastRetransmission(duplicateAcks: Int)
    case spuriousRetransmission
    /// Back in sequence space less than `threshold` seconds (one RTT) after the highest segment.
    case outOfOrder(threshold: Double)
    /// Resends bytes first sent in `firstFrame`, `elapsed` seconds earlier.
    case retransmission(firstFrame: Int, elapsed: Double)

    /// The flag this fact sets (tshark's field name without `tcp.analysis.`).
    public var flag: AnalysisFlags {
        switch self {
        case .zeroWindowProbe: .zeroWindowProbe
        case .zeroWindow: .zeroWindow
        case .lostSegment: .lostSegment
        case .keepAlive: .keepAlive
        case .windowUpdate: .windowUpdate
        case .windowFull: .windowFull
        case .duplicateAck: .duplicateAck
        case .ackLostSegment: .ackLostSegment
        case .fastRetransmission: .fastRetransmission
        case .spuriousRetransmission: .spuriousRetransmission
        case .outOfOrder: .outOfOrder
        case .retransmission: .retransmission
        }
    }
}
