#if canImport(Glibc)
import Glibc
#endif
import Capture
import Packets

/// The bytes the inspector is about to print. A million JSON lines built as Swift strings and
/// printed one by one cost more than everything else the inspector does, so the renderers
/// append UTF-8 straight into one buffer, numbers and addresses formatted in place, and the
/// buffer goes out with one write per 64 KiB (or per frame in live mode, where a student is
/// watching).
public struct OutputBuffer {
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(1 << 17) }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// One line of text and its newline.
    public mutating func line(_ text: String) {
        append(text)
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// A decimal number, without going through a String.
    mutating func number(_ value: some BinaryInteger) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            number(UInt64(value.magnitude))
            return
        }
        var rest = UInt64(value)
        guard rest >= 10 else {
            bytes.append(UInt8(ascii: "0") &+ UInt8(rest))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") &+ UInt8(rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// A number, or `null`.
    mutating func optional(_ value: (some BinaryInteger)?) {
        if let value { number(value) } else { append("null") }
    }

    /// `digits` decimal digits with leading zeros (the fraction of a timestamp).
    mutating func padded(_ value: UInt32, digits: Int) {
        var divisor: UInt32 = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `seconds.nanoseconds`, as tshark's `frame.time_epoch`.
    mutating func timestamp(_ time: Timestamp) {
        number(time.seconds)
        bytes.append(UInt8(ascii: "."))
        padded(time.nanoseconds, digits: 9)
    }

    /// An address as tcpdump and tshark write it; IPv4 without building a String.
    mutating func address(_ address: IPAddress) {
        switch address {
        case .v4(let v4):
            let value = v4.value
            number(value >> 24)
            byte(UInt8(ascii: "."))
            number(value >> 16 & 0xff)
            byte(UInt8(ascii: "."))
            number(value >> 8 & 0xff)
            byte(UInt8(ascii: "."))
            number(value & 0xff)
        case .v6(let v6):
            append(v6.description)
        }
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    mutating func quoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                default:
                    append("u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0xf)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes everything to standard output and empties the buffer. Returns false when the
    /// reader has gone (a closed pipe: `inspector read … | head`).
    @discardableResult
    public mutating func flush() -> Bool {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// Flushes once enough has gathered to make the write worth a system call.
    @discardableResult
    public mutating func flushIfFull() -> Bool {
        bytes.count >= 1 << 16 ? flush() : true
    }
}
