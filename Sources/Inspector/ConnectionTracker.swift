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
        var lifecycle = Lifecycle()
    }

    /// A connection-level record, ready to print once known.
    public enum Record: Sendable {
        case handshake(HandshakeRecord)
        case close(CloseRecord)

        public var stream: Int {
            switch self {
            case .handshake(let record): record.stream
            case .close(let record): record.stream
            }
        }
    }
    private var pending: [Record] = []

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
            // A SYN is the only thing that changes either side's scale.
            for side in 0..<2 {
                table[i].sequence[side].windowShift = shift(of: table[i].directions[side], other: table[i].directions[1 - side])
            }
        }
        let seq = tcp.sequenceNumber &- table[i].directions[forward].baseSeq!
        let ack = tcp.flags.contains(.ack) ? tcp.acknowledgementNumber &- table[i].directions[reverse].baseSeq! : 0
        // RFC 7323 §2.2: a SYN's window is never scaled; later ones by the sender's shift, once
        // known (the field as sent when the capture missed the handshake).
        let window = tcp.flags.contains(.syn) ? Int(tcp.window) : Int(tcp.window) << (table[i].sequence[forward].windowShift ?? 0)

        // Handshake RTT: from the latest SYN to the first segment that is a plain ACK.
        if isFirstSYN { table[i].lastSYNTime = time }
        if tcp.flags.intersection([.syn, .ack, .rst, .fin]) == .ack, table[i].initialRTT == nil, let start = table[i].lastSYNTime {
            table[i].initialRTT = time.seconds(since: start)
        }

        var evidence: [(AnalysisFlags, String)] = []
        let analyzer = SegmentAnalyzer(
            seq: tcp.sequenceNumber, ack: tcp.acknowledgementNumber, length: tcp.payloadLength,
            flags: tcp.flags.rawValue, window: Int(tcp.window), time: time, frame: frame, initialRTT: table[i].initialRTT)
        var sender = table[i].sequence[forward], receiver = table[i].sequence[reverse]
        let analysis = analyzer.run(forward: &sender, reverse: &receiver, evidence: &evidence)
        table[i].sequence[forward] = sender
        table[i].sequence[reverse] = receiver

        var report = SegmentReport(
            frame: frame, time: time, stream: table[i].stream, source: source, destination: destination,
            flags: tcp.flags, seq: seq, ack: ack, seqRaw: tcp.sequenceNumber, ackRaw: tcp.acknowledgementNumber,
            length: tcp.payloadLength, window: window, tcp: tcp, analysis: analysis,
            evidence: evidence.map { flag, why in
                let label = (flag.name ?? "analysis").split(separator: "_").joined(separator: " ")
                return label.prefix(1).uppercased() + label.dropFirst() + " — " + why + "."
            },
            initialRTT: table[i].initialRTT, notes: [])
        var conversation = table[i]
        report.notes = follow(&conversation, report: report, forward: forward)
        table[i] = conversation
        return report
    }

    /// Handshake and close records completed since the last call.
    public mutating func takeRecords() -> [Record] {
        defer { pending.removeAll() }
        return pending
    }

    /// At the end of the capture: the records of connections that never finished opening or
    /// closing (a SYN nobody answered is a timeout).
    public mutating func finish() -> [Record] {
        for i in table.indices {
            if var handshake = table[i].lifecycle.handshake, !table[i].lifecycle.handshakeReported {
                if handshake.state == .complete && handshake.ackFrame == nil { handshake.state = .timeout }
                pending.append(.handshake(handshake))
                table[i].lifecycle.handshakeReported = true
            }
            if !table[i].lifecycle.closeReported, let first = table[i].lifecycle.firstFIN {
                let client = table[i].lifecycle.handshake.map { $0.client == table[i].first ? 0 : 1 } ?? 0
                pending.append(.close(CloseRecord(
                    stream: table[i].stream, how: table[i].lifecycle.dataAfterFIN ? .halfClose : .fin,
                    first: first.side == client ? "client" : "server", frames: table[i].lifecycle.closeFrames, complete: false)))
                table[i].lifecycle.closeReported = true
            }
        }
        return takeRecords()
    }

    /// The shift for one side's windows: nil until its SYN is seen; 0 when either side's SYN
    /// lacked the option (RFC 7323: scaling needs both).
    private func shift(of side: Direction, other: Direction) -> Int? {
        guard let mine = side.offeredScale else { return nil }
        if mine < 0 { return 0 }
        if let theirs = other.offeredScale, theirs < 0 { return 0 }
        return min(mine, 14)
    }

    /// Updates the connection's opening and closing state and says, in plain English, what
    /// this segment does in the life of the connection.
    private mutating func follow(_ conversation: inout Conversation, report: SegmentReport, forward: Int) -> [String] {
        var notes: [String] = []
        let tcp = report.tcp
        let flags = tcp.flags
        var life = conversation.lifecycle
        defer { conversation.lifecycle = life }
        let clientSide = life.handshake.map { $0.client == conversation.first ? 0 : 1 }
        /// "client" or "server" (when the capture missed the SYN: by who spoke first).
        func party(_ side: Int) -> String {
            guard let clientSide else { return side == 0 ? "first sender" : "other side" }
            return side == clientSide ? "client" : "server"
        }
        func role(_ side: Int) -> String { "the " + party(side) }

        if flags.contains(.syn) && !flags.contains(.ack) {
            if var handshake = life.handshake, handshake.client == report.source {
                handshake.synCount += 1
                life.handshake = handshake
                notes.append("SYN again (attempt \(handshake.synCount)) — no SYN-ACK came back, so the client retransmits its SYN with the same ISN; Linux waits 1 s, then 2 s, 4 s… before giving up with ETIMEDOUT.")
            } else if var handshake = life.handshake, handshake.server == report.source {
                handshake.state = .simultaneousOpen
                life.handshake = handshake
                notes.append("SYN from the other side too — a simultaneous open: both ends called connect() at once (RFC 9293 §3.5).")
            } else {
                life.handshake = HandshakeRecord(
                    stream: conversation.stream, client: report.source, server: report.destination,
                    clientISN: tcp.sequenceNumber, serverISN: nil, synFrame: report.frame, synAckFrame: nil, ackFrame: nil,
                    synCount: 1, rtt: nil, clientOptions: OfferedOptions(tcp.options), serverOptions: nil, state: .complete)
                notes.append("SYN — the client \(report.source) asks to open a connection to \(report.destination) and picks its initial sequence number \(tcp.sequenceNumber) (shown as 0 from now on). It offers \(OfferedOptions(tcp.options).text).")
            }
        } else if flags.contains(.syn) && flags.contains(.ack), var handshake = life.handshake, handshake.server == report.source {
            handshake.serverISN = tcp.sequenceNumber
            handshake.synAckFrame = report.frame
            let offered = OfferedOptions(tcp.options)
            handshake.serverOptions = offered
            life.handshake = handshake
            var text = "SYN-ACK — the server agrees; its ACK \(tcp.acknowledgementNumber) is the client's ISN + 1: a SYN uses one sequence number. Its own ISN is \(tcp.sequenceNumber). It offers \(offered.text)."
            let client = handshake.clientOptions
            if client.windowScale != nil && offered.windowScale != nil {
                text += " Both offered window scaling, so from now on each side's window field is multiplied by its own factor."
            } else if client.windowScale != nil || offered.windowScale != nil {
                text += " Only one side offered window scaling, so neither scales: windows stay below 64 KiB."
            }
            if client.sackPermitted && offered.sackPermitted { text += " SACK is on: a receiver can report the blocks it holds beyond a gap." }
            if let a = client.mss, let b = offered.mss { text += " Each side will send segments of at most the other's MSS (\(b) and \(a) bytes)." }
            notes.append(text)
        } else if flags.intersection([.syn, .fin, .rst, .ack]) == .ack, var handshake = life.handshake,
                  handshake.ackFrame == nil, handshake.synAckFrame != nil, handshake.client == report.source {
            handshake.ackFrame = report.frame
            handshake.rtt = conversation.initialRTT
            life.handshake = handshake
            let rtt = conversation.initialRTT.map { " in " + SegmentAnalyzer.milliseconds($0) } ?? ""
            notes.append("ACK — handshake complete\(rtt); both sides are now ESTABLISHED and accept() returns on the server.")
            pending.append(.handshake(handshake))
            life.handshakeReported = true
        }

        if flags.contains(.rst) {
            life.closeFrames.append(report.frame)
            if var handshake = life.handshake, handshake.synAckFrame == nil, handshake.server == report.source {
                handshake.state = .refused
                life.handshake = handshake
                notes.append("RST — nothing listens on \(report.source): the server's kernel refuses the connection, and the client's connect() fails with ECONNREFUSED.")
                pending.append(.handshake(handshake))
                life.handshakeReported = true
            } else {
                notes.append("RST — \(role(forward)) aborts the connection: no FIN exchange, no TIME_WAIT; unread data is thrown away. (A close() with SO_LINGER set to 0 does this, and so does data arriving for a socket that is already closed.)")
                if !life.closeReported {
                    pending.append(.close(CloseRecord(stream: conversation.stream, how: .rst, first: party(forward), frames: life.closeFrames, complete: true)))
                    life.closeReported = true
                }
            }
        }

        let seqEnd = tcp.sequenceNumber &+ UInt32(truncatingIfNeeded: tcp.sequenceLength)
        if flags.contains(.fin) {
            if life.firstFIN == nil {
                life.firstFIN = (forward, report.frame, seqEnd)
                life.closeFrames.append(report.frame)
                notes.append("FIN — \(role(forward)) has nothing more to send (it called close() or shutdown(SHUT_WR)); it closes first, so it is the side that will wait in TIME_WAIT.")
            } else if let first = life.firstFIN, first.side != forward, life.secondFIN == nil {
                life.secondFIN = (forward, report.frame, seqEnd)
                life.closeFrames.append(report.frame)
                notes.append("FIN — \(role(forward)) closes its direction too" + (life.dataAfterFIN ? ", after sending more data: that was a half-close." : "."))
            }
        } else if report.length > 0, let first = life.firstFIN, first.side != forward, life.secondFIN == nil {
            if !life.dataAfterFIN {
                notes.append("Data after the other side's FIN — a half-close: \(role(first.side)) stopped sending but still receives, so \(role(forward)) goes on.")
            }
            life.dataAfterFIN = true
        }
        if let second = life.secondFIN, second.side != forward, flags.contains(.ack), tcp.acknowledgementNumber == second.seqEnd,
           !life.closeReported, let first = life.firstFIN {
            life.closeFrames.append(report.frame)
            notes.append("ACK of the last FIN — the connection is closed. The \(party(first.side)) closed first and now waits in TIME_WAIT (2 × MSL) so that a late segment cannot confuse a new connection on the same ports.")
            pending.append(.close(CloseRecord(
                stream: conversation.stream, how: life.dataAfterFIN ? .halfClose : .fin,
                first: party(first.side), frames: life.closeFrames, complete: true)))
            life.closeReported = true
        }

        return notes + report.evidence
    }
}
