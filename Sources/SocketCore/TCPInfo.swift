#if canImport(Glibc)
import Glibc
#endif

/// The states of RFC 9293's connection state diagram, as Linux numbers them in TCP_INFO.
public enum TCPState: UInt8, Sendable, CustomStringConvertible {
    case established = 1, synSent, synReceived, finWait1, finWait2, timeWait, closed, closeWait, lastAck, listen, closing
    /// Linux's name for a half-open connection waiting in the listen queue (a request sock).
    case newSynReceived

    /// The name RFC 9293 and `ss -t` use: `ESTABLISHED`, `SYN-SENT`, `FIN-WAIT-1`, …
    public var description: String {
        switch self {
        case .established: return "ESTABLISHED"
        case .synSent: return "SYN-SENT"
        case .synReceived: return "SYN-RECEIVED"
        case .finWait1: return "FIN-WAIT-1"
        case .finWait2: return "FIN-WAIT-2"
        case .timeWait: return "TIME-WAIT"
        case .closed: return "CLOSED"
        case .closeWait: return "CLOSE-WAIT"
        case .lastAck: return "LAST-ACK"
        case .listen: return "LISTEN"
        case .closing: return "CLOSING"
        case .newSynReceived: return "SYN-RECEIVED"
        }
    }
}

/// What the kernel knows about one TCP connection (`getsockopt(fd, IPPROTO_TCP, TCP_INFO)`),
/// the same figures `ss -ti` prints. Labs read it to show the state machine as it moves.
public struct TCPInfo: Sendable, Equatable {
    public var state: TCPState?
    /// Smoothed round-trip time and its variation, in microseconds.
    public var rtt: UInt32
    public var rttVariance: UInt32
    /// Retransmission timeout, in microseconds.
    public var rto: UInt32
    /// Consecutive retransmissions of the oldest unacknowledged segment (resets on an ACK).
    public var retransmits: UInt8
    /// Every retransmission over the connection's life.
    public var totalRetransmissions: UInt32
    /// Congestion window, in segments, and the slow-start threshold.
    public var congestionWindow: UInt32
    public var slowStartThreshold: UInt32
    /// Maximum segment size for sending and as received from the peer.
    public var sendMSS: UInt32
    public var receiveMSS: UInt32
    /// Window scale shifts (RFC 7323) this side sends with and receives with.
    public var sendWindowScale: UInt8
    public var receiveWindowScale: UInt8
    /// Segments sent but not yet acknowledged, and segments thought lost.
    public var unacknowledged: UInt32
    public var lost: UInt32
    /// Path MTU.
    public var pathMTU: UInt32
    /// Options negotiated in the handshake: timestamps, SACK, window scaling, ECN.
    public var options: Options

    public struct Options: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let timestamps = Options(rawValue: UInt8(TCPI_OPT_TIMESTAMPS))
        public static let sack = Options(rawValue: UInt8(TCPI_OPT_SACK))
        public static let windowScale = Options(rawValue: UInt8(TCPI_OPT_WSCALE))
        public static let ecn = Options(rawValue: UInt8(TCPI_OPT_ECN))
    }

    init(_ raw: tcp_info) {
        state = TCPState(rawValue: raw.tcpi_state)
        rtt = raw.tcpi_rtt
        rttVariance = raw.tcpi_rttvar
        rto = raw.tcpi_rto
        retransmits = raw.tcpi_retransmits
        totalRetransmissions = raw.tcpi_total_retrans
        congestionWindow = raw.tcpi_snd_cwnd
        slowStartThreshold = raw.tcpi_snd_ssthresh
        sendMSS = raw.tcpi_snd_mss
        receiveMSS = raw.tcpi_rcv_mss
        sendWindowScale = raw.tcpi_snd_wscale
        receiveWindowScale = raw.tcpi_rcv_wscale
        unacknowledged = raw.tcpi_unacked
        lost = raw.tcpi_lost
        pathMTU = raw.tcpi_pmtu
        options = Options(rawValue: raw.tcpi_options)
    }
}

extension Socket {
    /// `getsockopt(fd, IPPROTO_TCP, TCP_INFO)`: the connection's state and the kernel's
    /// measurements of it. Works on listening and connecting sockets too.
    public var tcpInfo: TCPInfo {
        get throws(SocketError) {
            let fd = try open()
            return TCPInfo(try rawOption(fd, level: Int32(IPPROTO_TCP), name: TCP_INFO, as: tcp_info.self, call: .getsockopt("TCP_INFO")))
        }
    }
}
