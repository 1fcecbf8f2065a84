/// The Internet checksum of RFC 1071: the 16-bit one's complement of the one's complement sum
/// of the data taken as 16-bit big-endian words. IPv4, TCP, UDP, ICMP and ICMPv6 all use it.
///
/// The sum is independent of byte order (RFC 1071 §2(B)), so words are summed as the machine
/// loads them, eight bytes at a time, and swapped once at the end: checksumming every packet of
/// a million-packet capture must cost little.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0

    public init() {}

    /// Adds bytes. Every chunk but the last must have an even length (headers always do).
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        var accumulator = sum
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            accumulator &+= (word & 0xFFFF_FFFF) &+ (word >> 32)
            index += 8
        }
        while index + 2 <= count {
            accumulator &+= UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt16.self))
            index += 2
        }
        if index < count {
            // An odd last byte is the high byte of a word padded with zero.
            accumulator &+= UInt64((UInt16(bytes[index]) << 8).bigEndian)
        }
        sum = accumulator
    }

    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add($0) }
    }

    /// Adds a 16-bit field given as its numeric value (such as a length or a protocol number).
    public mutating func add(word: UInt16) {
        sum &+= UInt64(word.bigEndian)
    }

    /// Adds a 32-bit field given as its numeric value (as two 16-bit words).
    public mutating func add(word32: UInt32) {
        add(word: UInt16(word32 >> 16))
        add(word: UInt16(truncatingIfNeeded: word32))
    }

    /// The checksum to put in the header: the complement of the folded sum, as a number.
    /// Checksumming data that already holds a correct checksum gives 0.
    public var value: UInt16 {
        var folded = sum
        while folded >> 16 != 0 { folded = (folded & 0xFFFF) &+ (folded >> 16) }
        return UInt16(bigEndian: ~UInt16(folded))
    }

    /// The checksum of one buffer.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        return checksum.value
    }

    public static func of(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { of($0) }
    }
}

/// What the checksum in a header says about the bytes captured.
public enum ChecksumStatus: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The checksum is right.
    case good
    /// The checksum is wrong. On the capturing host this is usually checksum offload: the
    /// network card fills it in after the capture point, so report it, never drop the packet.
    case bad(found: UInt16, expected: UInt16)
    /// Not checked: the packet was cut short by the snaplen, or is an IP fragment.
    case unverified
    /// UDP over IPv4 may send 0, meaning "no checksum" (RFC 768).
    case absent

    public var description: String {
        switch self {
        case .good: "correct"
        case .bad(let found, let expected):
            "incorrect 0x\(hex4(found)), should be 0x\(hex4(expected)) (on the capturing host this is usually checksum offload)"
        case .unverified: "not verified"
        case .absent: "none (0)"
        }
    }

    /// `found` is the header's field; `sum` is the checksum over everything with the field in
    /// place, which is 0 exactly when the field is right.
    @inline(__always)
    static func from(found: UInt16, sumIncludingField sum: UInt16) -> ChecksumStatus {
        sum == 0 ? .good : .bad(found: found, expected: expected(found: found, sum: sum))
    }

    /// The field that would have made the sum come out right: RFC 1624's incremental update,
    /// taking `found` out of the sum. (Kept out of line: on the capturing host nearly every
    /// TCP checksum is "bad" because of offload, so this runs for most frames.)
    private static func expected(found: UInt16, sum: UInt16) -> UInt16 {
        let folded = UInt32(~sum) &+ UInt32(~found)
        return ~UInt16(truncatingIfNeeded: (folded & 0xFFFF) &+ (folded >> 16))
    }
}

func hex4(_ value: UInt16) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 4 - text.count) + text
}
