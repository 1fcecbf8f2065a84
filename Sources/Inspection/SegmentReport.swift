import PacketCapture
import Packets

/// What the inspector knows about one TCP segment: tshark's numbers (stream, relative and raw
/// sequence and acknowledgement numbers, payload length, scaled window) and, for the segments
/// that matter, the facts a view puts into a sentence for a student (`Sentences`).
public struct SegmentReport: Sendable {
    /// 1-based, as Wireshark numbers frames.
    public var frame: Int
    public var time: Timestamp
    /// 0-based, numbered as tshark's `tcp.stream`.
    public var stream: Int
    public var source: Endpoint
    public var destination: Endpoint
    public var flags: TCPFlags
    /// Relative to the sender's initial sequence number, as tshark shows them.
    public var seq: UInt32
    /// Relative to the other side's initial sequence number; 0 when the ACK flag is off.
    public var ack: UInt32
    public var seqRaw: UInt32
    public var ackRaw: UInt32
    /// Payload bytes.
    public var length: Int
    /// The window field shifted by the sender's window scale once the handshake has fixed it;
    /// the field as sent when the capture missed the handshake or the segment is a SYN.
    public var window: Int
    /// The TCP header as decoded, for the options and the rest.
    public var tcp: TCPHeader
    /// Wireshark's analysis flags for this segment, and the facts behind each with their numbers.
    public var analysis: AnalysisFlags
    public var facts: [AnalysisFact]
    /// The connection's handshake RTT once known (tshark's `tcp.analysis.initial_rtt`).
    public var initialRTT: Double?
    /// What it does in the life of the connection (empty for ordinary data and ACKs, unless
    /// the tracker records every segment).
    public var events: [SegmentEvent]
    /// Sent by the client (the side that sent the SYN; when the capture missed it, the side
    /// seen first). The ladder draws the client on the left.
    public var fromClient = true
    /// SOCKS5 messages this segment completes (empty unless the connection speaks SOCKS).
    public var socks: [SocksStep] = []
    /// In a first IP fragment never reassembled: raw numbers, `length` only what the fragment
    /// holds (the segment's own length is unknown), not analysed.
    public var inFragment = false
}
