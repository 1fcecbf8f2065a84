import Capture
import Packets

/// The options one side offered in its SYN: what the handshake negotiates.
public struct OfferedOptions: Hashable, Sendable {
    public var mss: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted: Bool
    public var timestamps: Bool

    init(_ options: TCPOptions) {
        mss = options.mss
        windowScale = options.windowScale
        sackPermitted = options.sackPermitted
        timestamps = options.timestampValue != nil
    }

    /// "MSS 65495, window scale 7 (windows ×128), SACK, timestamps".
    var text: String {
        var parts: [String] = []
        if let mss { parts.append("MSS \(mss)") }
        if let windowScale { parts.append("window scale \(windowScale) (windows ×\(1 << Int(min(windowScale, 14))))") }
        if sackPermitted { parts.append("SACK") }
        if timestamps { parts.append("timestamps") }
        return parts.isEmpty ? "no options" : parts.joined(separator: ", ")
    }
}

/// How a connection opened (DESIGN.md's `handshake` record).
public struct HandshakeRecord: Sendable {
    public enum State: String, Sendable { case complete, refused, timeout, simultaneousOpen = "simultaneous_open" }
    public var stream: Int
    public var client: Endpoint
    public var server: Endpoint
    public var clientISN: UInt32
    public var serverISN: UInt32?
    /// The frames of the SYN (the first one sent), the SYN-ACK and the ACK.
    public var synFrame: Int
    public var synAckFrame: Int?
    public var ackFrame: Int?
    /// How many times the client sent its SYN (more than 1: retransmitted).
    public var synCount: Int
    /// From the last SYN to the ACK that completes the handshake (tshark's initial_rtt).
    public var rtt: Double?
    public var clientOptions: OfferedOptions
    public var serverOptions: OfferedOptions?
    public var state: State
}

/// How a connection ended (DESIGN.md's `close` record).
public struct CloseRecord: Sendable {
    public enum How: String, Sendable { case fin, rst, halfClose = "half_close" }
    public var stream: Int
    public var how: How
    /// Who closed (or reset) first: "client" or "server".
    public var first: String
    public var frames: [Int]
    /// Whether both FINs and the last ACK were seen.
    public var complete: Bool
}

/// What the tracker learns about a connection's opening and closing, segment by segment.
struct Lifecycle {
    var handshake: HandshakeRecord?
    var handshakeReported = false
    /// The side (0: first sender, 1: the other) that sent the first FIN, and the frames.
    var firstFIN: (side: Int, frame: Int, seqEnd: UInt32)?
    var secondFIN: (side: Int, frame: Int, seqEnd: UInt32)?
    var dataAfterFIN = false
    var closeFrames: [Int] = []
    var close: CloseRecord?
    var closeReported = false
}
