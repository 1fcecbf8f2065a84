import PacketCapture
import Packets

/// Follows every TCP conversation in a capture and turns each segment into a `SegmentReport`
/// with the numbers tshark shows: the stream index, relative sequence and acknowledgement
/// numbers, and the window after scaling. Frames must be fed in capture order.
///
/// Memory stays bounded however long the capture: a connection that has closed (both FINs
/// acknowledged, or reset) is summarised and forgotten once `closedKept` later connections have
/// closed after it, and when more than `openKept` connections are open at once the longest
/// idle are summarised and forgotten too. tshark never forgets, so a segment of a forgotten
/// connection arriving much later would start a new stream here; with thousands of closes in
/// between, that is a segment no real capture carries.
public struct ConnectionTracker {
    /// Which facts to record for the views to put in words: none is fastest (`--summary`,
    /// `--quiet`, a lab check); `notable` the events and analysis verdicts of the segments that
    /// matter; `everySegment` an event for ordinary data and ACKs too (`--explain`).
    public enum Detail: Sendable { case none, notable, everySegment }

    /// One direction of a conversation: what its sender has told us so far.
    struct Direction {
        /// The sender's initial sequence number (or, when the capture missed the SYN, one
        /// less than the first sequence number seen: tshark's convention).
        var baseSeq: UInt32?
        /// The window scale this side offered in its SYN: nil before its SYN is seen, -1 when
        /// the SYN carried no window-scale option.
        var offeredScale: Int?
        var analysis = SequenceState()
    }

    /// A class, not a struct: it is several hundred bytes, and every segment updates one in
    /// place; as a value it was copied in and out of the table on each segment.
    final class Conversation {
        let stream: Int
        /// The endpoint that sent the first segment seen; direction 0 is from it.
        var first: Endpoint
        var direction0 = Direction(), direction1 = Direction()
        /// When the latest SYN was seen, and the handshake RTT once the first plain ACK after
        /// it arrives (tshark's `tcp.analysis.initial_rtt`).
        var lastSYNTime: Timestamp?
        var initialRTT: Double?
        var lifecycle = Lifecycle()
        var summary: ConversationSummary
        /// Closed (both FINs acknowledged) or reset: queued to be forgotten.
        var finished = false

        init(stream: Int, first: Endpoint, summary: ConversationSummary) {
            self.stream = stream
            self.first = first
            self.summary = summary
        }

        // Field by field rather than a `Direction` subscript: a subscript would copy the whole
        // direction, analysis state included, for every number read.
        func baseSeq(_ side: Int) -> UInt32? { side == 0 ? direction0.baseSeq : direction1.baseSeq }
        func setBaseSeq(_ side: Int, _ value: UInt32) {
            if side == 0 { direction0.baseSeq = value } else { direction1.baseSeq = value }
        }
        func windowShift(_ side: Int) -> Int? { side == 0 ? direction0.analysis.windowShift : direction1.analysis.windowShift }
    }

    /// A connection-level record, ready to print once known.
    public enum Record: Sendable {
        case handshake(HandshakeRecord)
        case close(CloseRecord)
        /// Packets, bytes and state of a connection, when it is forgotten or the capture ends.
        case summary(ConversationSummary)

        public var stream: Int {
            switch self {
            case .handshake(let record): record.stream
            case .close(let record): record.stream
            case .summary(let summary): summary.stream
            }
        }
    }
    private var pending: [Record] = []

    public let detail: Detail
    /// Finished connections remembered after they close, for their late segments.
    public var closedKept = 4096
    /// Open connections remembered at once.
    public var openKept = 16384

    /// The remembered conversations live in `slots` (a freed slot is reused); the dictionary
    /// maps a 4-tuple to its slot. Segments come in bursts of one connection, so the last
    /// lookup is kept and tried first.
    private var slots: [Conversation?] = []
    private var freeSlots: [Int] = []
    private var conversations: [ConversationKey: Int] = [:]
    private var lastLookup: (key: ConversationKey, slot: Int)?
    /// Finished connections in the order they finished (a queue: `closedHead` is its front).
    private var closed: [(key: ConversationKey, stream: Int)] = []
    private var closedHead = 0
    private var nextStream = 0

    public init(detail: Detail = .notable) { self.detail = detail }

    /// How many TCP streams so far.
    public var streamCount: Int { nextStream }
    /// How many connections are remembered now (the rest are summarised and forgotten).
    public var remembered: Int { conversations.count }

    /// The report for one frame, or nil if it is not a TCP segment over IP. `wireLength` is
    /// the frame's length on the wire, for the byte counts of the summary.
    public mutating func add(frame: Int, time: Timestamp, packet: Packet, wireLength: Int? = nil) -> SegmentReport? {
        guard let tcp = packet.tcp, let (source, destination) = packet.tcpEndpoints else { return nil }
        return add(frame: frame, time: time, tcp: tcp, source: source, destination: destination,
                   wireLength: wireLength ?? packet.ipLength)
    }

    /// The same for a segment already taken apart: a caller that keeps its `Packet` in a
    /// stored property passes these few fields rather than a copy of the whole packet.
    ///
    /// `inFragment`: the segment is in a first IP fragment that could not be reassembled. As
    /// in tshark (packet-tcp.c without `th_have_seglen`), it belongs to its stream but is not
    /// analysed: raw numbers, no length, the window as sent, and no change to the connection.
    public mutating func add(frame: Int, time: Timestamp, tcp: TCPHeader, source: Endpoint, destination: Endpoint,
                             wireLength: Int, inFragment: Bool = false) -> SegmentReport {
        let key = ConversationKey(source, destination)
        let isFirstSYN = tcp.flags.contains(.syn) && !tcp.flags.contains(.ack)

        var slot: Int?
        if let last = lastLookup, last.key == key { slot = last.slot } else { slot = conversations[key] }
        if let existing = slot, isFirstSYN {
            // tshark: a SYN whose sequence number differs from the ISN this direction already
            // used is a new connection on a reused 4-tuple, and so a new stream.
            let side = slots[existing]!.first == source ? 0 : 1
            if let base = slots[existing]!.baseSeq(side), base != tcp.sequenceNumber {
                retire(take(existing, key: key))
                slot = nil
            }
        }
        if slot == nil {
            let conversation = newConversation(first: source, to: destination, time: time)
            if let free = freeSlots.popLast() {
                slots[free] = conversation
                slot = free
            } else {
                slots.append(conversation)
                slot = slots.count - 1
            }
            conversations[key] = slot
        }
        lastLookup = (key, slot!)
        let conversation = slots[slot!]!
        if inFragment { return conversation.unanalysed(frame: frame, time: time, tcp: tcp, source: source, destination: destination, wireLength: wireLength) }
        var finishedNow: Int?
        let report = conversation.add(
            frame: frame, time: time, tcp: tcp, source: source, destination: destination,
            wireLength: wireLength, detail: detail, pending: &pending, finished: &finishedNow)
        if let stream = finishedNow {
            closed.append((key, stream))
            forgetOldClosed()
        }
        if conversations.count > openKept { forgetIdle() }
        return report
    }

    /// Moves a conversation out of its slot and forgets its key.
    private mutating func take(_ slot: Int, key: ConversationKey) -> Conversation {
        let conversation = slots[slot].take()!
        freeSlots.append(slot)
        conversations[key] = nil
        if lastLookup?.slot == slot { lastLookup = nil }
        return conversation
    }

    private mutating func newConversation(first: Endpoint, to other: Endpoint, time: Timestamp) -> Conversation {
        defer { nextStream += 1 }
        return Conversation(stream: nextStream, first: first, summary: ConversationSummary(stream: nextStream, a: first, b: other, start: time))
    }

    /// Handshake, close and summary records completed since the last call.
    public mutating func takeRecords() -> [Record] {
        if pending.isEmpty { return [] }
        defer { pending = [] }
        return pending
    }

    /// At the end of the capture: the records of connections that never finished opening or
    /// closing (a SYN nobody answered is a timeout), then every remembered connection's
    /// summary, in stream order.
    public mutating func finish() -> [Record] {
        for conversation in slots.compactMap({ $0 }).sorted(by: { $0.stream < $1.stream }) { retire(conversation) }
        conversations.removeAll()
        slots.removeAll()
        freeSlots.removeAll()
        lastLookup = nil
        closed.removeAll()
        closedHead = 0
        return takeRecords()
    }

    /// Summarises a connection that is being forgotten: what it never reported, then its row.
    private mutating func retire(_ conversation: Conversation) {
        conversation.reportUnfinished(into: &pending)
        pending.append(.summary(conversation.summary))
    }

    private mutating func forgetOldClosed() {
        var retired: [Conversation] = []
        while closed.count - closedHead > closedKept {
            let (key, stream) = closed[closedHead]
            closedHead += 1
            // Unless the 4-tuple has started a new connection since.
            if let slot = conversations[key], slots[slot]?.stream == stream { retired.append(take(slot, key: key)) }
        }
        if closedHead > 4096 && closedHead * 2 > closed.count {
            closed.removeFirst(closedHead)
            closedHead = 0
        }
        for conversation in retired { retire(conversation) }
    }

    /// Too many open at once (a scan, a flood, a capture that missed every FIN): forget the
    /// quarter that has been quiet longest.
    private mutating func forgetIdle() {
        let idle = conversations.sorted { slots[$0.value]!.summary.end < slots[$1.value]!.summary.end }.prefix(openKept / 4)
        for (key, slot) in idle.sorted(by: { slots[$0.value]!.stream < slots[$1.value]!.stream }) {
            retire(take(slot, key: key))
        }
    }
}

extension ConnectionTracker.Conversation {
    /// One segment of this conversation: tshark's numbers, Wireshark's analysis, the summary's
    /// counters, and what it does in the life of the connection; and the stream number when
    /// this segment finished the connection (the tracker then queues it to be forgotten).
    func add(frame: Int, time: Timestamp, tcp: TCPHeader, source: Endpoint, destination: Endpoint,
                      wireLength: Int, detail: ConnectionTracker.Detail, pending: inout [ConnectionTracker.Record],
             finished finishedStream: inout Int?) -> SegmentReport {
        let forward = first == source ? 0 : 1
        let reverse = 1 - forward
        let isFirstSYN = tcp.flags.contains(.syn) && !tcp.flags.contains(.ack)

        // Relative numbers, as tshark computes them.
        if baseSeq(forward) == nil {
            setBaseSeq(forward, tcp.flags.contains(.syn) ? tcp.sequenceNumber : tcp.sequenceNumber &- 1)
        }
        if tcp.flags.contains(.ack), baseSeq(reverse) == nil {
            setBaseSeq(reverse, tcp.acknowledgementNumber &- 1)
        }
        // tshark takes every SYN's number as its side's base, so a SYN-ACK repeated with
        // another ISN (or after a RST on the same ports) starts that side's numbers again.
        if tcp.flags.contains(.syn), !isFirstSYN { setBaseSeq(forward, tcp.sequenceNumber) }
        // A SYN whose options the capture cut before any window scale: whether it offered
        // one is unknown, as in tshark (which then scales the other side by its own offer).
        if tcp.flags.contains(.syn), tcp.options.windowScale != nil || !tcp.options.isCut {
            let offered = tcp.options.windowScale.map { Int($0) } ?? -1
            if forward == 0 { direction0.offeredScale = offered } else { direction1.offeredScale = offered }
            // A SYN is the only thing that changes either side's scale.
            direction0.analysis.windowShift = Self.shift(of: direction0, other: direction1)
            direction1.analysis.windowShift = Self.shift(of: direction1, other: direction0)
        }
        let seq = tcp.sequenceNumber &- baseSeq(forward)!
        // Without the ACK flag the field means nothing; tshark still shows it, unchanged.
        let ack = tcp.flags.contains(.ack) ? tcp.acknowledgementNumber &- baseSeq(reverse)! : tcp.acknowledgementNumber
        // RFC 7323 §2.2: a SYN's window is never scaled; later ones by the sender's shift, once
        // known (the field as sent when the capture missed the handshake).
        let window = tcp.flags.contains(.syn) ? Int(tcp.window) : Int(tcp.window) << (windowShift(forward) ?? 0)

        // Handshake RTT as tshark takes it: from the latest SYN to the first segment after it
        // with ACK and without SYN, whichever side sends it (a FIN/ACK or a RST/ACK counts);
        // while that is zero (both stamped alike), the next such segment tries again. A SYN
        // stamped 0 (1970-01-01 00:00:00, a hand-made file) is tshark's "no SYN time yet".
        if isFirstSYN { lastSYNTime = time.seconds == 0 && time.nanoseconds == 0 ? nil : time }
        if tcp.flags.contains(.ack), !tcp.flags.contains(.syn), initialRTT == nil || initialRTT == 0, let start = lastSYNTime {
            initialRTT = time.seconds(since: start)
        }

        var facts: [AnalysisFact] = []
        let analyzer = SegmentAnalyzer(
            seq: tcp.sequenceNumber, ack: tcp.acknowledgementNumber, length: tcp.payloadLength,
            flags: tcp.flags.rawValue, window: Int(tcp.window), time: time, frame: frame, initialRTT: initialRTT)
        let analysis = forward == 0
            ? analyzer.run(forward: &direction0.analysis, reverse: &direction1.analysis, facts: &facts)
            : analyzer.run(forward: &direction1.analysis, reverse: &direction0.analysis, facts: &facts)

        summary.count(forward: forward == 0, wireLength: wireLength, payload: tcp.payloadLength,
                      retransmission: !analysis.isDisjoint(with: [.retransmission, .fastRetransmission, .spuriousRetransmission]),
                      time: time)

        var report = SegmentReport(
            frame: frame, time: time, stream: stream, source: source, destination: destination,
            flags: tcp.flags, seq: seq, ack: ack, seqRaw: tcp.sequenceNumber, ackRaw: tcp.acknowledgementNumber,
            length: tcp.payloadLength, window: window, tcp: tcp, analysis: analysis,
            facts: detail == .none ? [] : facts, initialRTT: initialRTT, events: [])
        // Worked out before the assignment: `report.events = follow(report, …)` made the
        // compiler copy the whole report (its arrays retained) to read it while writing it.
        let events = follow(report, forward: forward, detail: detail, pending: &pending)
        let fromClient = lifecycle.handshake.map { $0.client == source } ?? (forward == 0)
        report.events = events
        report.fromClient = fromClient
        if !finished && lifecycle.isFinished {
            finished = true
            finishedStream = stream
        }
        return report
    }

    /// A segment tshark places in this stream without analysing it (see `add(inFragment:)`).
    func unanalysed(frame: Int, time: Timestamp, tcp: TCPHeader, source: Endpoint, destination: Endpoint, wireLength: Int) -> SegmentReport {
        let forward = first == source ? 0 : 1
        summary.count(forward: forward == 0, wireLength: wireLength, payload: 0, retransmission: false, time: time)
        var report = SegmentReport(
            frame: frame, time: time, stream: stream, source: source, destination: destination,
            flags: tcp.flags, seq: tcp.sequenceNumber, ack: tcp.acknowledgementNumber, seqRaw: tcp.sequenceNumber,
            ackRaw: tcp.acknowledgementNumber, length: tcp.capturedPayloadLength, window: Int(tcp.window), tcp: tcp,
            analysis: [], facts: [], initialRTT: initialRTT, events: [])
        report.inFragment = true
        report.fromClient = lifecycle.handshake.map { $0.client == source } ?? (forward == 0)
        return report
    }

    /// The shift for one side's windows: nil until its SYN is seen; 0 when either side's SYN
    /// lacked the option (RFC 7323: scaling needs both).
    static func shift(of side: ConnectionTracker.Direction, other: ConnectionTracker.Direction) -> Int? {
        guard let mine = side.offeredScale else { return nil }
        if mine < 0 { return 0 }
        if let theirs = other.offeredScale, theirs < 0 { return 0 }
        return min(mine, 14)
    }

    /// At the end of the capture or when forgotten: the handshake it never completed (a SYN
    /// nobody answered is a timeout) and the close it never finished.
    func reportUnfinished(into pending: inout [ConnectionTracker.Record]) {
        if var handshake = lifecycle.handshake, !lifecycle.handshakeReported {
            if handshake.state == .complete && handshake.ackFrame == nil {
                // Answered but never acknowledged in this capture: not a timeout.
                handshake.state = handshake.synAckFrame == nil ? .timeout : .halfOpen
            }
            pending.append(.handshake(handshake))
            lifecycle.handshakeReported = true
            summary.note(.handshake(handshake))
        }
        if !lifecycle.closeReported, let firstFIN = lifecycle.firstFIN {
            let client = lifecycle.handshake.map { $0.client == first ? 0 : 1 } ?? 0
            let close = CloseRecord(
                stream: stream, how: lifecycle.dataAfterFIN ? .halfClose : .fin,
                first: firstFIN.side == client ? .client : .server, frames: lifecycle.closeFrames, complete: false)
            pending.append(.close(close))
            lifecycle.closeReported = true
            summary.note(.close(close))
        }
    }
}
