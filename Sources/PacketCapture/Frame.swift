import Packets

#if canImport(Glibc)
import Glibc
#endif

/// When a frame was captured: seconds and nanoseconds since the Unix epoch. Files in
/// microseconds are read with nanosecond precision (libpcap scales them), so one type serves.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// Seconds from `earlier` to this one.
    public func seconds(since earlier: Timestamp) -> Double {
        Double(seconds - earlier.seconds) + (Double(nanoseconds) - Double(earlier.nanoseconds)) / 1e9
    }

    /// tcpdump's default time column: local time of day with microseconds, `18:11:07.452544`.
    public var timeOfDay: String {
        var whole = time_t(seconds)
        var parts = tm()
        localtime_r(&whole, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let micro = String(nanoseconds / 1000)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))." + String(repeating: "0", count: 6 - micro.count) + micro
    }

    /// `seconds.nanoseconds`, as tshark's `frame.time_epoch` prints it.
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: 9 - fraction.count) + fraction
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

    /// A frame that did not come from libpcap: a fuzzer's input, a test's hand-built bytes.
    public init(timestamp: Timestamp, originalLength: Int, bytes: UnsafeRawBufferPointer, number: Int) {
        self.number = number
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.bytes = bytes
    }

    public var isTruncated: Bool { bytes.count < originalLength }
    public func owned() -> CapturedFrame {
        CapturedFrame(timestamp: timestamp, originalLength: originalLength, bytes: Array(bytes), number: number)
    }
    public func decode(_ linkType: LinkType) -> Packet { Packet(decoding: bytes, linkType: linkType) }
}

/// A captured frame that owns its bytes.
public struct CapturedFrame: Hashable, Sendable {
    public var timestamp: Timestamp
    public var originalLength: Int
    public var bytes: [UInt8]
    public var number: Int

    public init(timestamp: Timestamp, originalLength: Int, bytes: [UInt8], number: Int) {
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.bytes = bytes
        self.number = number
    }

    public func decode(_ linkType: LinkType) -> Packet { Packet(decoding: bytes, linkType: linkType) }
}
