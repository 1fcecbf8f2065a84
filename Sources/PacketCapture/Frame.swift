import Packets

#if canImport(Glibc)
import Glibc
#endif

/// When a frame was captured: seconds and nanoseconds since the Unix epoch. Files in
/// microseconds are read with nanosecond precision (libpcap scales them), so one type serves.
///
/// `nanoseconds` is the fraction as the record holds it. A well-formed record keeps it under
/// one second, but a malformed one can hold more (a microsecond field of 1,000,000 or more):
/// comparisons, differences and clocks then carry the excess into the seconds, and
/// `description` prints the fraction as tshark does, so the two still agree on such a file.
public struct Timestamp: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Whether the record's fraction is one second or more (a malformed record).
    public var fractionOverflows: Bool { nanoseconds >= 1_000_000_000 }

    /// The same instant with the fraction under one second.
    public var normalized: Timestamp {
        guard fractionOverflows else { return self }
        let (carry, rest) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return Timestamp(seconds: seconds &+ Int64(carry), nanoseconds: rest)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        let a = a.normalized, b = b.normalized
        return (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// Seconds from `earlier` to this one. In doubles throughout: two arbitrary 64-bit second
    /// counts (a pcapng file can hold any) must not overflow when subtracted.
    public func seconds(since earlier: Timestamp) -> Double {
        (Double(seconds) - Double(earlier.seconds)) + (Double(nanoseconds) - Double(earlier.nanoseconds)) / 1e9
    }

    /// tcpdump's default time column: local time of day with microseconds, `18:11:07.452544`.
    public var timeOfDay: String {
        let time = normalized
        var whole = time_t(truncatingIfNeeded: time.seconds)
        var parts = tm()
        if localtime_r(&whole, &parts) == nil { parts = tm() }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))." + Self.padded(UInt64(time.nanoseconds / 1000), digits: 6)
    }

    /// `seconds.nanoseconds`, as tshark prints `frame.time_epoch`. tshark keeps the fraction
    /// in a signed 32-bit number and prints it as it is: `1700000000.1000000000` for a
    /// fraction of one second, and a leading minus once it passes 2³¹ nanoseconds.
    public var description: String {
        let fraction = Int32(bitPattern: nanoseconds)
        return (fraction < 0 ? "-" : "") + "\(seconds)." + Self.padded(UInt64(fraction.magnitude), digits: 9)
    }

    /// `value` with leading zeros to `digits` digits (more digits are kept).
    static func padded(_ value: UInt64, digits: Int) -> String {
        let text = String(value)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }
}

/// A frame as libpcap hands it over: valid only during the call that receives it (the bytes
/// live in libpcap's buffer). `owned()` copies it for keeping.
public struct FrameView {
    public var timestamp: Timestamp
    /// Length on the wire; `bytes.count` is what the capture kept (≤ snaplen).
    public var originalLength: Int
    public var bytes: UnsafeRawBufferPointer
    /// 1-based frame number in the file or capture, as Wireshark numbers frames.
    public var number: Int
    /// This frame's link type when it is not the capture's (a pcapng file with interfaces of
    /// several kinds); nil: the capture's.
    public var linkType: LinkType?

    /// A frame that did not come from libpcap: a fuzzer's input, a test's hand-built bytes.
    public init(timestamp: Timestamp, originalLength: Int, bytes: UnsafeRawBufferPointer, number: Int, linkType: LinkType? = nil) {
        self.number = number
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.bytes = bytes
        self.linkType = linkType
    }

    public var isTruncated: Bool { bytes.count < originalLength }
    public func owned() -> CapturedFrame {
        CapturedFrame(timestamp: timestamp, originalLength: originalLength, bytes: Array(bytes), number: number, linkType: linkType)
    }
    /// Decodes the frame; `linkType` is the capture's, used unless the frame has its own.
    public func decode(_ linkType: LinkType) -> Packet {
        var packet = Packet()
        packet.decode(bytes, linkType: self.linkType ?? linkType, originalLength: originalLength)
        return packet
    }
}

/// A captured frame that owns its bytes.
public struct CapturedFrame: Hashable, Sendable {
    public var timestamp: Timestamp
    public var originalLength: Int
    public var bytes: [UInt8]
    public var number: Int
    /// As `FrameView.linkType`: set only when it differs from the capture's.
    public var linkType: LinkType?

    public init(timestamp: Timestamp, originalLength: Int, bytes: [UInt8], number: Int, linkType: LinkType? = nil) {
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.bytes = bytes
        self.number = number
        self.linkType = linkType
    }

    public func decode(_ linkType: LinkType) -> Packet {
        var packet = Packet()
        bytes.withUnsafeBytes { packet.decode($0, linkType: self.linkType ?? linkType, originalLength: originalLength) }
        return packet
    }
}
