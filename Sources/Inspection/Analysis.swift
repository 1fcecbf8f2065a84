import PacketCapture

/// What Wireshark's TCP analysis would say about a segment, under the names tshark gives
/// them (`tcp.analysis.<name>`), in the order Wireshark checks them.
public struct AnalysisFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let zeroWindowProbe = AnalysisFlags(rawValue: 1 << 0)
    public static let zeroWindow = AnalysisFlags(rawValue: 1 << 1)
    public static let lostSegment = AnalysisFlags(rawValue: 1 << 2)
    public static let keepAlive = AnalysisFlags(rawValue: 1 << 3)
    public static let windowUpdate = AnalysisFlags(rawValue: 1 << 4)
    public static let windowFull = AnalysisFlags(rawValue: 1 << 5)
    public static let keepAliveAck = AnalysisFlags(rawValue: 1 << 6)
    public static let zeroWindowProbeAck = AnalysisFlags(rawValue: 1 << 7)
    public static let duplicateAck = AnalysisFlags(rawValue: 1 << 8)
    public static let ackLostSegment = AnalysisFlags(rawValue: 1 << 9)
    public static let fastRetransmission = AnalysisFlags(rawValue: 1 << 10)
    public static let outOfOrder = AnalysisFlags(rawValue: 1 << 11)
    public static let spuriousRetransmission = AnalysisFlags(rawValue: 1 << 12)
    public static let retransmission = AnalysisFlags(rawValue: 1 << 13)

    /// Each flag with tshark's field name (without `tcp.analysis.`).
    public static let named: [(AnalysisFlags, String)] = [
        (.retransmission, "retransmission"), (.fastRetransmission, "fast_retransmission"),
        (.spuriousRetransmission, "spurious_retransmission"), (.outOfOrder, "out_of_order"),
        (.duplicateAck, "duplicate_ack"), (.zeroWindow, "zero_window"), (.windowUpdate, "window_update"),
        (.keepAlive, "keep_alive"), (.lostSegment, "lost_segment"), (.ackLostSegment, "ack_lost_segment"),
        (.windowFull, "window_full"), (.keepAliveAck, "keep_alive_ack"),
        (.zeroWindowProbe, "zero_window_probe"), (.zeroWindowProbeAck, "zero_window_probe_ack"),
    ]

    /// tshark's names for the flags set. Like tshark, a fast or spurious retransmission is
    /// also reported as a retransmission (`tcp.analysis.retransmission` matches all three).
    /// tshark's name for a single flag.
    public var name: String? { Self.named.first { $0.0 == self }?.1 }

    public var names: [String] {
        var flags = self
        if !flags.isDisjoint(with: [.fastRetransmission, .spuriousRetransmission]) { flags.insert(.retransmission) }
        return Self.named.filter { flags.contains($0.0) }.map(\.1)
    }
}

/// The numbers one direction's analysis keeps: Wireshark's `tcp_analyze_seq_info`.
struct SequenceState {
    /// The sequence number after the highest byte sent so far (0: none yet).
    var nextSeq: UInt32 = 0
    var nextSeqFrame = 0
    var nextSeqTime = Timestamp(seconds: 0, nanoseconds: 0)
    /// The end of the contiguous data sent so far: what the other side should acknowledge.
    var maxSeqToBeAcked: UInt32 = 0
    /// This side's last acknowledgement number, when it was sent, and its window then.
    var lastAck: UInt32 = 0
    var lastAckTime = Timestamp(seconds: 0, nanoseconds: 0)
    var window = 0
    /// Duplicate ACKs in a row, and the frame of the ACK they duplicate.
    var duplicateAcks = 0
    var lastNonDuplicateAck = 0
    /// The window scale in force for this side's windows: nil until known from the handshake
    /// (Wireshark's -1), 0 when scaling is off.
    var windowShift: Int?
    var lastSegmentFlags: AnalysisFlags = []
}

/// Serial-number arithmetic (RFC 1982) on 32-bit sequence numbers.
@inline(__always) func seqGreater(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }
@inline(__always) func seqLess(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
@inline(__always) func seqLessOrEqual(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) <= 0 }

/// One segment through Wireshark's documented rules, in its precedence order (the Wireshark
/// User's Guide, "TCP Analysis"). `forward` is the sender's state, `reverse` the receiver's.
/// Each rule that fires records the numbers behind it in `facts`; the views say it in words.
struct SegmentAnalyzer {
    var seq: UInt32
    var ack: UInt32
    var length: Int
    var flags: UInt16  // TCPFlags raw value
    /// The window field as sent (Wireshark's analysis compares unscaled windows).
    var window: Int
    var time: Timestamp
    var frame: Int
    /// The handshake RTT if known: below it, a segment that goes back in sequence space is
    /// more likely reordered than retransmitted.
    var initialRTT: Double?

    static let syn: UInt16 = 0x02, fin: UInt16 = 0x01, rst: UInt16 = 0x04, ackFlag: UInt16 = 0x10

    func run(forward: inout SequenceState, reverse: inout SequenceState, facts: inout [AnalysisFact]) -> AnalysisFlags {
        var result: AnalysisFlags = []
        let control = flags & (Self.syn | Self.fin | Self.rst)
        let seglen = UInt32(truncatingIfNeeded: length)

        checks: do {
            if length == 1, seq == forward.nextSeq, reverse.window == 0 {
                result.insert(.zeroWindowProbe)
                facts.append(.zeroWindowProbe)
                break checks
            }
            if window == 0, control == 0 {
                result.insert(.zeroWindow)
                facts.append(.zeroWindow)
            }
            if forward.nextSeq != 0, seqGreater(seq, forward.nextSeq), flags & Self.rst == 0 {
                result.insert(.lostSegment)
                facts.append(.lostSegment(gap: seq &- forward.nextSeq))
            }
            if length <= 1, seq == forward.nextSeq &- 1, control == 0 {
                result.insert(.keepAlive)
                facts.append(.keepAlive(length: length))
            }
            if length == 0, window != 0, window != forward.window, seq == forward.nextSeq, ack == forward.lastAck, control == 0 {
                result.insert(.windowUpdate)
                facts.append(.windowUpdate(from: forward.window, to: window))
            }
            if length > 0, let shift = reverse.windowShift,
               seq &+ seglen == reverse.lastAck &+ UInt32(truncatingIfNeeded: reverse.window << shift), control == 0 {
                result.insert(.windowFull)
                facts.append(.windowFull)
            }
            if length == 0, window != 0, window == forward.window, seq == forward.nextSeq, ack == forward.lastAck,
               reverse.lastSegmentFlags.contains(.keepAlive), control == 0 {
                result.insert(.keepAliveAck)
                break checks
            }
            if length == 0, window == 0, window == forward.window, seq == forward.nextSeq, ack == forward.lastAck,
               reverse.lastSegmentFlags.contains(.zeroWindowProbe), control == 0 {
                result.insert(.zeroWindowProbeAck)
                break checks
            }
            if length == 0, window != 0, window == forward.window, seq == forward.nextSeq, ack == forward.lastAck, control == 0 {
                // After an ACK of unseen data set it to -1, the next duplicate is #1.
                forward.duplicateAcks = forward.duplicateAcks < 0 ? 1 : forward.duplicateAcks + 1
                result.insert(.duplicateAck)
                facts.append(.duplicateAck(count: forward.duplicateAcks, frame: forward.lastNonDuplicateAck))
            }
        }
        if ack != forward.lastAck {
            forward.lastNonDuplicateAck = frame
            forward.duplicateAcks = 0
        }
        // Flagged once per gap, as tshark 4.0 does, not on every later ACK of it: when the
        // other side has sent past its boundary since, the boundary jumps to what it has sent
        // and the ACK is flagged; while it is stalled, only the first ACK is, until the other
        // side's own ACK number moves (which resets its duplicate-ACK count).
        if reverse.maxSeqToBeAcked != 0, seqGreater(ack, reverse.maxSeqToBeAcked), flags & Self.ackFlag != 0 {
            if seqLess(reverse.maxSeqToBeAcked, reverse.nextSeq) {
                reverse.maxSeqToBeAcked = reverse.nextSeq
                result.insert(.ackLostSegment)
                facts.append(.ackLostSegment)
            } else {
                if reverse.duplicateAcks == 0 {
                    result.insert(.ackLostSegment)
                    facts.append(.ackLostSegment)
                }
                reverse.duplicateAcks = -1
            }
        }

        retransmission: if length > 0 || flags & (Self.syn | Self.fin) != 0 {
            var notAdvanced = forward.nextSeq != 0 && seqLess(seq, forward.nextSeq)
            if result.contains(.keepAlive) { break retransmission }
            if length > 1, forward.nextSeq &- 1 == seq { notAdvanced = false }
            // Time differences as Wireshark takes them: unsigned, so a frame whose timestamp
            // runs backwards (captured out of order) counts as "long after", not "just after".
            func within(_ limit: Double, since earlier: Timestamp) -> Bool {
                let elapsed = time.seconds(since: earlier)
                return elapsed >= 0 && elapsed < limit
            }
            if notAdvanced, reverse.duplicateAcks >= 2, reverse.lastAck == seq, within(0.020, since: reverse.lastAckTime) {
                result.insert(.fastRetransmission)
                facts.append(.fastRetransmission(duplicateAcks: reverse.duplicateAcks))
                break retransmission
            }
            if length > 0, reverse.lastAck != 0, seqLessOrEqual(seq &+ seglen, reverse.lastAck) {
                result.insert(.spuriousRetransmission)
                facts.append(.spuriousRetransmission)
                break retransmission
            }
            let threshold = initialRTT.flatMap { $0 > 0 ? $0 : nil } ?? 0.003
            // Not out of order when it ends where the highest segment so far ended (SYN and
            // FIN count one): that is the same segment again, a retransmission.
            let end = seq &+ seglen &+ (flags & (Self.syn | Self.fin) != 0 ? 1 : 0)
            if notAdvanced, within(threshold, since: forward.nextSeqTime), forward.nextSeq != end {
                result.insert(.outOfOrder)
                facts.append(.outOfOrder(threshold: threshold))
                break retransmission
            }
            if notAdvanced {
                result.insert(.retransmission)
                facts.append(.retransmission(firstFrame: forward.nextSeqFrame, elapsed: time.seconds(since: forward.nextSeqTime)))
            }
        }

        var nextSeq = seq &+ seglen
        if flags & (Self.syn | Self.fin) != 0 { nextSeq &+= 1 }
        if seqGreater(nextSeq, forward.nextSeq) || forward.nextSeq == 0, !result.contains(.zeroWindowProbe) {
            forward.nextSeq = nextSeq
            forward.nextSeqFrame = frame
            forward.nextSeqTime = time
        }
        if seq == forward.maxSeqToBeAcked || forward.maxSeqToBeAcked == 0, !result.contains(.zeroWindowProbe) {
            forward.maxSeqToBeAcked = forward.nextSeq
        }
        forward.window = window
        forward.lastAck = ack
        forward.lastAckTime = time
        forward.lastSegmentFlags = result
        return result
    }
}
