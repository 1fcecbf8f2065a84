import PacketCapture
import Packets

/// Everything the pictures of one TCP connection need, collected segment by segment while
/// the tracker runs; the drawing happens once, at the end, from these facts alone (the
/// analysis decides, the pictures only draw what it decided).
struct StreamPicture {
    let stream: Int
    var client = ""
    var server = ""
    var clientPort: UInt16 = 0
    var serverPort: UInt16 = 0
    /// The ladder's rows, at most `PictureOptions.ladderLimit` of them.
    var arrows: [Arrow] = []
    /// Segments the ladder left out (a long connection); the graphs still show them all.
    var arrowsLeftOut = 0
    var segments = 0
    /// Per direction (0: client → server, 1: server → client): the time-sequence marks.
    var sent: [[SentSegment]] = [[], []]
    /// ACKs and windows each direction received: acks[0] are the server's ACKs of the client's data.
    var acks: [[AckPoint]] = [[], []]
    var sacks: [[SackMark]] = [[], []]
    var rtt: [[RTTSample]] = [[], []]
    var first: Timestamp?
    var last: Timestamp?
    var handshake: String?
    var close: String?
    var summary: ConversationSummary?
    var states = SideStates()
    /// Per direction: the send time of each segment's end, for RTT samples (Karn: not a
    /// retransmitted one).
    private var waiting: [[(end: UInt32, time: Double)]] = [[], []]
    private var highestAck: [UInt32?] = [nil, nil]
    private var highestSent: [UInt32?] = [nil, nil]

    init(stream: Int) {
        self.stream = stream
    }

    /// One segment, as the tracker reported it. `time` is seconds since the capture's first frame.
    mutating func add(_ report: SegmentReport, time: Double, notes: [String], limit: Int) {
        if segments == 0 {
            let (c, s) = report.fromClient ? (report.source, report.destination) : (report.destination, report.source)
            client = "\(c)"
            server = "\(s)"
            clientPort = c.port
            serverPort = s.port
        }
        segments += 1
        if first == nil { first = report.time }
        last = report.time
        let direction = report.fromClient ? 0 : 1
        let before = states
        states.apply(report)
        let marks = report.analysis.names
        if arrows.count < limit {
            arrows.append(Arrow(frame: report.frame, time: time, epoch: report.time, fromClient: report.fromClient,
                                flags: report.flags.names.joined(separator: ","), seq: report.seq, ack: report.ack,
                                hasAck: report.flags.contains(.ack), length: report.length, window: report.window, marks: marks, notes: notes,
                                clientState: states.client != before.client || arrows.isEmpty ? states.client : nil,
                                serverState: states.server != before.server || arrows.isEmpty ? states.server : nil))
        } else {
            arrowsLeftOut += 1
        }
        // The sender's data (and SYN/FIN, which take a sequence number) for its direction's graph.
        let occupies = report.length + (report.flags.contains(.syn) ? 1 : 0) + (report.flags.contains(.fin) ? 1 : 0)
        // On the time-sequence graph a segment is resent when it starts below what its side had
        // already sent (tcptrace's rule, and what the picture shows: a bar below the top) — a
        // SYN or FIN sent again too, which takes a sequence number and which tcptrace draws
        // red like resent data. The
        // ladder keeps Wireshark's marks, which also tell a fast or spurious retransmission and
        // an out-of-order segment apart.
        let end = report.seq &+ UInt32(occupies)
        let isRetransmission = occupies > 0 && highestSent[direction].map { Self.after($0, report.seq) } ?? false
        if occupies > 0, highestSent[direction].map({ Self.after(end, $0) }) ?? true { highestSent[direction] = end }
        sent[direction].append(SentSegment(time: time, epoch: report.time, seq: report.seq, seqRaw: report.seqRaw, length: report.length,
                                           occupies: occupies, retransmission: isRetransmission, syn: report.flags.contains(.syn),
                                           fin: report.flags.contains(.fin), frame: report.frame))
        if report.length > 0 || report.flags.contains(.syn) || report.flags.contains(.fin) {
            if !isRetransmission { waiting[direction].append((report.seq &+ UInt32(occupies), time)) }
        }
        // Its ACK is about the other direction's data.
        if report.flags.contains(.ack) {
            let other = 1 - direction
            acks[other].append(AckPoint(time: time, epoch: report.time, ack: report.ack, ackRaw: report.ackRaw, window: report.window, frame: report.frame))
            let offset = report.ackRaw &- report.ack
            for block in report.tcp.options.sackBlocks {
                sacks[other].append(SackMark(time: time, epoch: report.time, left: block.left &- offset, right: block.right &- offset,
                                             leftRaw: block.left, rightRaw: block.right, frame: report.frame))
            }
            if highestAck[other].map({ Self.after(report.ack, $0) }) ?? true {
                highestAck[other] = report.ack
                // The newest segment this ACK covers gives the sample, once.
                var sample: Double?
                while let next = waiting[other].first, !Self.after(next.end, report.ack) {
                    sample = time - next.time
                    waiting[other].removeFirst()
                }
                if let sample { rtt[other].append(RTTSample(time: time, seconds: sample, frame: report.frame)) }
            }
            if waiting[other].count > 100_000 { waiting[other].removeFirst(50_000) }
        }
    }

    /// `a` comes after `b` in sequence space (RFC 1982 arithmetic, as TCP's).
    static func after(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }
}

struct Arrow {
    var frame: Int
    var time: Double
    var epoch: Timestamp
    var fromClient: Bool
    var flags: String
    var seq: UInt32
    var ack: UInt32
    var hasAck: Bool
    var length: Int
    var window: Int
    var marks: [String]
    var notes: [String]
    /// Each side's TCP state after this segment, where it changed.
    var clientState: String?
    var serverState: String?

    var label: String {
        var text = flags + " seq=\(seq)"
        if hasAck { text += " ack=\(ack)" }
        if length > 0 { text += " len=\(length)" }
        return text + " win=\(window)"
    }
}

struct SentSegment {
    var time: Double
    var epoch: Timestamp
    var seq: UInt32
    var seqRaw: UInt32
    var length: Int
    /// Sequence numbers it takes: the payload, plus one for a SYN or a FIN.
    var occupies: Int
    var retransmission: Bool
    var syn: Bool
    var fin: Bool
    var frame: Int
}

struct AckPoint {
    var time: Double
    var epoch: Timestamp
    var ack: UInt32
    var ackRaw: UInt32
    var window: Int
    var frame: Int
}

struct SackMark {
    var time: Double
    var epoch: Timestamp
    var left: UInt32
    var right: UInt32
    var leftRaw: UInt32
    var rightRaw: UInt32
    var frame: Int
}

struct RTTSample {
    var time: Double
    var seconds: Double
    var frame: Int
}

/// Each side's TCP state as the segments on the wire imply it (RFC 9293's state diagram,
/// §3.3.2): a side changes state when it sends or receives a SYN, a FIN, the ACK of its FIN or
/// a RST. What a capture cannot see (a socket's LISTEN before the SYN, the end of TIME-WAIT) is
/// drawn as the diagram names it.
struct SideStates: Equatable {
    var client = "CLOSED"
    var server = "LISTEN"
    /// The sequence number that acknowledges each side's FIN, once sent.
    var clientFinAck: UInt32?
    var serverFinAck: UInt32?

    mutating func apply(_ report: SegmentReport) {
        let fromClient = report.fromClient
        var sender = fromClient ? client : server
        var receiver = fromClient ? server : client
        let flags = report.flags
        if flags.contains(.rst) {
            client = "CLOSED"
            server = "CLOSED"
            return
        }
        if flags.contains(.syn) {
            if flags.contains(.ack) {
                sender = "SYN-RECEIVED"
                if receiver == "SYN-SENT" { receiver = "ESTABLISHED" }
            } else {
                sender = sender == "LISTEN" ? "SYN-SENT" : (sender == "CLOSED" ? "SYN-SENT" : sender)
            }
        } else if flags.contains(.ack) {
            if receiver == "SYN-RECEIVED" { receiver = "ESTABLISHED" }
            if sender == "SYN-SENT" { sender = "ESTABLISHED" }
            // The ACK of the receiver's FIN.
            if let finAck = fromClient ? serverFinAck : clientFinAck, !StreamPicture.after(finAck, report.ack) {
                switch receiver {
                case "FIN-WAIT-1": receiver = "FIN-WAIT-2"
                case "CLOSING": receiver = "TIME-WAIT"
                case "LAST-ACK": receiver = "CLOSED"
                default: break
                }
            }
        }
        if flags.contains(.fin) {
            let finAck = report.seq &+ UInt32(report.length) &+ 1
            if fromClient { clientFinAck = finAck } else { serverFinAck = finAck }
            switch sender {
            case "ESTABLISHED", "SYN-RECEIVED": sender = "FIN-WAIT-1"
            case "CLOSE-WAIT": sender = "LAST-ACK"
            default: break
            }
            switch receiver {
            case "ESTABLISHED": receiver = "CLOSE-WAIT"
            case "FIN-WAIT-1": receiver = "CLOSING"
            case "FIN-WAIT-2": receiver = "TIME-WAIT"
            default: break
            }
        }
        if fromClient { client = sender; server = receiver } else { server = sender; client = receiver }
    }
}
