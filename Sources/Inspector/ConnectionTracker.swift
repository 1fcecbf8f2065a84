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

        return SegmentReport(
            frame: frame, time: time, stream: table[i].stream, source: source, destination: destination,
            flags: tcp.flags, seq: seq, ack: ack, seqRaw: tcp.sequenceNumber, ackRaw: tcp.acknowledgementNumber,
            length: tcp.payloadLength,
            window: scaledWindow(tcp, sender: table[i].directions[forward], receiver: table[i].directions[reverse]),
            tcp: tcp, notes: [])
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
