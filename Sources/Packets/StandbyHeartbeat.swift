/// One heartbeat of `standby` (Lab 10): what each machine of a hot-standby pair tells the other
/// every interval over UDP — VRRP's advertisement (RFC 5798 §5.1) in spirit: the sender's
/// state, its priority (0: "I am leaving, take over now") and its interval, so that the
/// backup computes the master's down interval from what the master says, as VRRP does.
///
/// VRRP version 3 dropped authentication; this heartbeat carries an HMAC-SHA256 over every
/// byte before it instead, so that a host without the key can neither take over nor force a
/// handover. `epoch` (when the sender started, in milliseconds since 1970) and `sequence`
/// (1, 2, 3… within one epoch) make each heartbeat unique, so a recorded one replayed later
/// is recognised: the receiver accepts only a pair larger than the last it accepted, and a
/// restarted sender starts a larger epoch.
///
/// Layout (network byte order), 28 bytes, the name, then the 32-byte HMAC:
///
///     0      4   5       6          7          8             10         12      20         28
///     "SLHB" | v | state | priority | name len | interval ms | reserved | epoch | sequence | name | HMAC
///
/// The codec is here, in Packets, so that the tool that sends it and labcheck 10 that reads
/// it out of a student's capture agree on one reading. The HMAC itself is checked by the
/// tool (swift-crypto); decoding only finds its bytes.
public struct StandbyHeartbeat: Hashable, Sendable {
    public static let magic: [UInt8] = Array("SLHB".utf8)
    public static let version: UInt8 = 1
    public static let macLength = 32
    public static let headerLength = 28
    /// A name is at most this many bytes of UTF-8: it fits a log line and a ladder label.
    public static let maxNameLength = 32
    /// The UDP port the lab uses unless told otherwise (1985 is HSRP's, VRRP has no port).
    public static let defaultPort: UInt16 = 1985

    /// VRRP's three states (RFC 5798 §6.4).
    public enum State: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case initialize = 0
        case backup = 1
        case master = 2

        public var description: String {
            switch self {
            case .initialize: "INIT"
            case .backup: "BACKUP"
            case .master: "MASTER"
            }
        }
    }

    public var state: State
    /// 1…254 while running; 0 in the last heartbeat of a master that stops cleanly.
    public var priority: UInt8
    public var intervalMilliseconds: UInt16
    public var epoch: UInt64
    public var sequence: UInt64
    public var name: String
    /// Whether this heartbeat comes after `other` from the same sender: a later epoch, or the
    /// same epoch and a larger sequence number.
    public func isLater(than other: (epoch: UInt64, sequence: UInt64)) -> Bool {
        epoch > other.epoch || (epoch == other.epoch && sequence > other.sequence)
    }

    /// The 32 bytes after the signed part (all zero until signed).
    public var mac: [UInt8]

    public init(state: State, priority: UInt8, intervalMilliseconds: UInt16, epoch: UInt64, sequence: UInt64, name: String,
                mac: [UInt8] = [UInt8](repeating: 0, count: StandbyHeartbeat.macLength)) {
        self.state = state
        self.priority = priority
        self.intervalMilliseconds = intervalMilliseconds
        self.epoch = epoch
        self.sequence = sequence
        self.name = String(decoding: Array(name.utf8.prefix(Self.maxNameLength)), as: UTF8.self)
        self.mac = mac
    }

    /// The bytes the HMAC covers: everything before it.
    public var signedBytes: [UInt8] {
        let nameBytes = Array(name.utf8.prefix(Self.maxNameLength))
        var bytes = Self.magic + [Self.version, state.rawValue, priority, UInt8(nameBytes.count)]
        bytes += [UInt8(intervalMilliseconds >> 8), UInt8(intervalMilliseconds & 0xFF), 0, 0]
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (56 - 8 * UInt64($0))) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (56 - 8 * UInt64($0))) }
        return bytes + nameBytes
    }

    public func encoded() -> [UInt8] { signedBytes + mac.prefix(Self.macLength) + [UInt8](repeating: 0, count: max(0, Self.macLength - mac.count)) }

    /// Decodes one heartbeat datagram; nil for anything else (another program's datagram on
    /// the port, a cut one, a version this codec does not know, trailing bytes).
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        let view = ByteView(bytes: bytes)
        guard view.count >= Self.headerLength + Self.macLength, Array(bytes[0..<4]) == Self.magic, view.u8(4) == Self.version,
              let state = State(rawValue: view.u8(5)) else { return nil }
        let nameLength = Int(view.u8(7))
        guard nameLength <= Self.maxNameLength, view.count == Self.headerLength + nameLength + Self.macLength else { return nil }
        self.state = state
        priority = view.u8(6)
        intervalMilliseconds = view.u16(8)
        epoch = UInt64(view.u32(12)) << 32 | UInt64(view.u32(16))
        sequence = UInt64(view.u32(20)) << 32 | UInt64(view.u32(24))
        name = String(decoding: view.slice(Self.headerLength, nameLength), as: UTF8.self)
        mac = Array(view.slice(Self.headerLength + nameLength, Self.macLength))
    }

    public init?(decoding bytes: [UInt8]) {
        guard let heartbeat = bytes.withUnsafeBytes({ StandbyHeartbeat(decoding: $0) }) else { return nil }
        self = heartbeat
    }
}
