import PacketCapture

/// Per connection and direction: packets, bytes, duration, retransmissions and how it ended —
/// a row of the table `tshark -z conv,tcp` and tcptrace print, and DESIGN.md's `summary`
/// record. Each conversation keeps its own, handed out when it is forgotten or the capture ends.
public struct ConversationSummary: Sendable {
    public var stream: Int
    /// A is the side that sent the first segment seen (the client when the SYN is in).
    public var a: Endpoint
    public var b: Endpoint
    public var framesAToB = 0, bytesAToB = 0, payloadAToB = 0, retransmissionsAToB = 0
    public var framesBToA = 0, bytesBToA = 0, payloadBToA = 0, retransmissionsBToA = 0
    public var start: Timestamp
    public var end: Timestamp
    public var state: ConnectionState = .open

    init(stream: Int, a: Endpoint, b: Endpoint, start: Timestamp) {
        self.stream = stream
        self.a = a
        self.b = b
        self.start = start
        self.end = start
    }

    mutating func count(forward: Bool, wireLength: Int, payload: Int, retransmission: Bool, time: Timestamp) {
        if forward {
            framesAToB += 1
            bytesAToB += wireLength
            payloadAToB += payload
            if retransmission { retransmissionsAToB += 1 }
        } else {
            framesBToA += 1
            bytesBToA += wireLength
            payloadBToA += payload
            if retransmission { retransmissionsBToA += 1 }
        }
        end = time
    }

    /// The state column follows the connection's records.
    mutating func note(_ record: ConnectionTracker.Record) {
        switch record {
        case .handshake(let h):
            if h.state != .complete || state == .open {
                state = switch h.state {
                case .complete: .established
                case .refused: .refused
                case .timeout: .timeout
                case .halfOpen: .halfOpen
                case .simultaneousOpen: .simultaneousOpen
                }
            }
        case .close(let c):
            state = c.how == .rst ? .reset : (c.complete ? .closed : .closing)
        case .summary:
            break
        }
    }

    public var duration: Double { end.seconds(since: start) }
}

/// Where a connection got to, as the summary's state column says it (DESIGN.md's names).
public enum ConnectionState: String, Sendable {
    /// Segments seen, no handshake record yet (the capture may have missed the SYN).
    case open
    case established
    case refused
    /// A SYN nobody answered, or a handshake whose last ACK the capture never saw.
    case timeout
    case halfOpen = "half_open"
    case simultaneousOpen = "simultaneous_open"
    /// A FIN seen, the close not finished in this capture.
    case closing
    case closed
    case reset
}

/// The text form of the summaries: a header once, then a row per connection.
enum ConversationTable {
    static let header = "TCP conversations (A is the side that spoke first)\n"
        + pad("stream", 6) + "  " + pad("A", 23) + "  " + pad("B", 23) + "  " + pad("A→B frames/bytes", 18)
        + "  " + pad("B→A frames/bytes", 18) + "  " + pad("retrans", 8) + "  " + pad("duration", 10) + "  state"

    static func row(_ row: ConversationSummary) -> String {
        var out = OutputBuffer()
        write(row, to: &out)
        return String(decoding: out.bytes.dropLast(), as: UTF8.self)
    }

    /// One row, straight into the output: a long capture has a row per connection.
    static func write(_ row: ConversationSummary, to out: inout OutputBuffer) {
        var start = out.count
        out.number(row.stream)
        out.pad(from: &start, to: 6)
        out.endpoint(row.a)
        out.pad(from: &start, to: 23)
        out.endpoint(row.b)
        out.pad(from: &start, to: 23)
        out.number(row.framesAToB)
        out.byte(UInt8(ascii: "/"))
        out.number(row.bytesAToB)
        out.pad(from: &start, to: 18)
        out.number(row.framesBToA)
        out.byte(UInt8(ascii: "/"))
        out.number(row.bytesBToA)
        out.pad(from: &start, to: 18)
        out.number(row.retransmissionsAToB)
        out.byte(UInt8(ascii: "/"))
        out.number(row.retransmissionsBToA)
        out.pad(from: &start, to: 8)
        out.microseconds(row.duration)
        out.append(" s")
        out.pad(from: &start, to: 10)
        out.line(row.state.rawValue)
    }

    private static func pad(_ text: some StringProtocol, _ width: Int) -> String {
        text.count >= width ? String(text) : String(text) + String(repeating: " ", count: width - text.count)
    }
}

extension OutputBuffer {
    /// Spaces after what was written since `start` up to `width` columns, and two more
    /// between columns; `start` moves to the next column. (The cells are ASCII.)
    mutating func pad(from start: inout Int, to width: Int) {
        repeated(UInt8(ascii: " "), count: max(0, width - (count - start)) + 2)
        start = count
    }

    /// Seconds with six decimals, written in place (a row per connection: no Strings).
    mutating func microseconds(_ seconds: Double) {
        let clamped = seconds.isNaN ? 0 : min(max(seconds, -9e9), 9e9)
        let units = Int64((clamped * 1_000_000).rounded())
        if units < 0 { byte(UInt8(ascii: "-")) }
        number(units.magnitude / 1_000_000)
        byte(UInt8(ascii: "."))
        padded(UInt32(units.magnitude % 1_000_000), digits: 6)
    }

    /// `127.0.0.1.8080`, tcpdump's way.
    mutating func endpoint(_ endpoint: Endpoint) {
        address(endpoint.address)
        byte(UInt8(ascii: "."))
        number(endpoint.port)
    }
}

extension JSONLines {
    /// `{"kind":"summary",…}`: one per connection, when it is forgotten or the capture ends.
    static func write(_ row: ConversationSummary, to out: inout OutputBuffer) {
        out.append("{\"kind\":\"summary\",\"stream\":")
        out.number(row.stream)
        out.append(",\"a\":")
        out.quoted(row.a.machineReadable)
        out.append(",\"b\":")
        out.quoted(row.b.machineReadable)
        func direction(_ frames: Int, _ bytes: Int, _ payload: Int, _ retransmissions: Int) {
            out.append("{\"frames\":")
            out.number(frames)
            out.append(",\"bytes\":")
            out.number(bytes)
            out.append(",\"payload\":")
            out.number(payload)
            out.append(",\"retransmissions\":")
            out.number(retransmissions)
            out.append("}")
        }
        out.append(",\"a_to_b\":")
        direction(row.framesAToB, row.bytesAToB, row.payloadAToB, row.retransmissionsAToB)
        out.append(",\"b_to_a\":")
        direction(row.framesBToA, row.bytesBToA, row.payloadBToA, row.retransmissionsBToA)
        out.append(",\"start\":")
        out.timestamp(row.start)
        out.append(",\"duration\":")
        out.append(format9(row.duration))
        out.append(",\"state\":\"")
        out.append(row.state.rawValue)
        out.append("\"}\n")
    }
}
