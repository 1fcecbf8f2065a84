import Capture
import Packets

/// Follows every TCP conversation in a capture and turns each segment into a `SegmentReport`
/// with the numbers tshark shows: the stream index, relative sequence and acknowledgement
/// numbers, and the window after scaling. Frames must be fed in capture order.
public struct ConnectionTracker {
    /// One direction of a conversation: what its sender has told us so far.
    struct Direction {
        /// The sender's initial sequence number (or, when the capture missed the SYN, one
        /// less than the first sequence number seen: tshark's convention).
        var baseSeq: UInt32?
        /// The window scale this side offered in its SYN: nil before its SYN is seen, -1 when
        /// the SYN carried no window-scale option.
        var offeredScale: Int?
    }

    struct Conversation {
        var stream: Int
        /// The endpoint that sent the first segment seen; `directions[0]` is from it.
        var first: Endpoint
        var directions = [Direction(), Direction()]
        var sequence = [SequenceState(), SequenceState()]
        /// When the latest SYN was seen, and the handshake RTT once the first plain ACK after
        /// it arrives (tshark's `tcp.analysis.initial_rtt`).
        var lastSYNTime: Timestamp?
        var initialRTT: Double?
    }

    private var conversations: [ConversationKey: Int] = [:]
    private var table: [Conversation] = []

    public init() {}

    /// How many TCP streams so far.
    public var streamCount: Int { table.count }

    /// The report for one frame, or nil if it is not a TCP segment over IP.
    public mutating func add(frame: Int, time: Timestamp, packet: Packet) -> SegmentReport? {
        guard let tcp = packet.tcp, let (source, destination) = packet.tcpEndpoints else { return nil }
        let key = ConversationKey(source, destination)
        let isFirstSYN = tcp.flags.contains(.syn) && !tcp.flags.contains(.ack)

        var index = conversations[key]
        if let existing = index {
            // tshark: a SYN whose sequence number differs from the ISN this direction already
            // used is a new connection on a reused 4-tuple, and so a new stream.
            let conversation = table[existing]
            let forward = conversation.first == source ? 0 : 1
            if isFirstSYN, let base = conversation.directions[forward].baseSeq, base != tcp.sequenceNumber {
                index = nil
            }
        }
        if index == nil {
            index = table.count
            table.append(Conversation(stream: table.count, first: source))
            conversations[key] = index
        }
        let i = index!
        let forward = table[i].first == source ? 0 : 1
        let reverse = 1 - forward

        // Relative numbers, as tshark computes them.
        if table[i].directions[forward].baseSeq == nil {
            table[i].directions[forward].baseSeq = tcp.flags.contains(.syn) ? tcp.sequenceNumber : tcp.sequenceNumber &- 1
        }
        if tcp.flags.contains(.ack), table[i].directions[reverse].baseSeq == nil {
            table[i].directions[reverse].baseSeq = tcp.acknowledgementNumber &- 1
        }
        if tcp.flags.contains(.syn) {
            table[i].directions[forward].offeredScale = tcp.options.windowScale.map { Int($0) } ?? -1
        }
        let seq = tcp.sequenceNumber &- table[i].directions[forward].baseSeq!
        let ack = tcp.flags.contains(.ack) ? tcp.acknowledgementNumber &- table[i].directions[reverse].baseSeq! : 0
        let window = scaledWindow(tcp, sender: table[i].directions[forward], receiver: table[i].directions[reverse])

        // Handshake RTT: from the latest SYN to the first segment that is a plain ACK.
        if isFirstSYN { table[i].lastSYNTime = time }
        if tcp.flags.intersection([.syn, .ack, .rst, .fin]) == .ack, table[i].initialRTT == nil, let start = table[i].lastSYNTime {
            table[i].initialRTT = time.seconds(since: start)
        }
        for side in 0..<2 {
            table[i].sequence[side].windowShift = shift(of: table[i].directions[side], other: table[i].directions[1 - side])
        }

        var evidence: [String] = []
        let analyzer = SegmentAnalyzer(
            seq: tcp.sequenceNumber, ack: tcp.acknowledgementNumber, length: tcp.payloadLength,
            flags: tcp.flags.rawValue, window: Int(tcp.window), time: time, frame: frame, initialRTT: table[i].initialRTT)
        var sender = table[i].sequence[forward], receiver = table[i].sequence[reverse]
        let analysis = analyzer.run(forward: &sender, reverse: &receiver, evidence: &evidence)
        table[i].sequence[forward] = sender
        table[i].sequence[reverse] = receiver

        return SegmentReport(
            frame: frame, time: time, stream: table[i].stream, source: source, destination: destination,
            flags: tcp.flags, seq: seq, ack: ack, seqRaw: tcp.sequenceNumber, ackRaw: tcp.acknowledgementNumber,
            length: tcp.payloadLength, window: window, tcp: tcp, analysis: analysis, evidence: evidence,
            initialRTT: table[i].initialRTT, notes: [])
    }

    /// The shift for one side's windows: nil until its SYN is seen; 0 when either side's SYN
    /// lacked the option (RFC 7323: scaling needs both).
    private func shift(of side: Direction, other: Direction) -> Int? {
        guard let mine = side.offeredScale else { return nil }
        if mine < 0 { return 0 }
        if let theirs = other.offeredScale, theirs < 0 { return 0 }
        return min(mine, 14)
    }

    /// RFC 7323 §2.2: the window field of a SYN is never scaled; after it, a side's windows
    /// are shifted by the scale it offered, but only if both sides offered one.
    private func scaledWindow(_ tcp: TCPHeader, sender: Direction, receiver: Direction) -> Int {
        let window = Int(tcp.window)
        guard !tcp.flags.contains(.syn), let mine = sender.offeredScale else { return window }
        // The other side's SYN not seen: trust the one we saw (tshark does the same).
        if let theirs = receiver.offeredScale, theirs < 0 { return window }
        return mine < 0 ? window : window << min(mine, 14)
    }
}
