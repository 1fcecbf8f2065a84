/// The Internet checksum of RFC 1071: the 16-bit one's complement of the one's complement sum
/// of the data taken as 16-bit big-endian words. IPv4, TCP, UDP, ICMP and ICMPv6 all use it.
///
/// The sum is independent of byte order (RFC 1071 §2(B)), so words are summed as the machine
/// loads them and swapped once at the end. It is also independent of word size (§2(C)): a
/// 64-bit one's complement sum, each carry out added back in, folds down to the same 16 bits.
/// So the bytes go in 32 at a time as four 64-bit words with add-with-carry, which makes
/// checksumming every packet of a million-packet capture cheap.
public struct InternetChecksum: Sendable {
    /// A 64-bit one's complement sum: never 0 unless every word added was 0.
    private var sum: UInt64 = 0

    public init() {}

    /// One's complement addition: the carry out of bit 63 comes back in at bit 0.
    @inline(__always)
    private static func plus(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (total, carry) = a.addingReportingOverflow(b)
        return total &+ (carry ? 1 : 0)
    }

    /// Adds bytes. Every chunk but the last must have an even length (headers always do).
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        var accumulator = sum
        while remaining >= 32 {
            accumulator = Self.plus(accumulator, pointer.loadUnaligned(as: UInt64.self))
            accumulator = Self.plus(accumulator, pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            accumulator = Self.plus(accumulator, pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            accumulator = Self.plus(accumulator, pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            pointer += 32
            remaining -= 32
        }
        while remaining >= 8 {
            accumulator = Self.plus(accumulator, pointer.loadUnaligned(as: UInt64.self))
            pointer += 8
            remaining -= 8
        }
        // The last 0 to 7 bytes, as one word padded with zeros: an odd last byte is then the
        // high byte of a 16-bit word, as RFC 1071 pads it.
        var tail: UInt64 = 0
        #if _endian(little)
        // Loads placed where a load of the whole padded word would put them: a copy into
        // `tail` calls memcpy, a sixth of the checksum's cost on a small segment.
        if remaining & 4 != 0 {
            tail = UInt64(pointer.loadUnaligned(as: UInt32.self))
            pointer += 4
        }
        if remaining & 2 != 0 {
            tail |= UInt64(pointer.loadUnaligned(as: UInt16.self)) << ((remaining & 4) * 8)
            pointer += 2
        }
        if remaining & 1 != 0 {
            tail |= UInt64(pointer.load(as: UInt8.self)) << ((remaining & 6) * 8)
        }
        #else
        withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: remaining)) }
        #endif
        sum = Self.plus(accumulator, tail)
    }

    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add($0) }
    }

    /// Adds a 16-bit field given as its numeric value (such as a length or a protocol number).
    @inline(__always)
    public mutating func add(word: UInt16) {
        sum = Self.plus(sum, UInt64(word.bigEndian))
    }

    /// Adds a 32-bit field given as its numeric value (as two 16-bit words).
    @inline(__always)
    public mutating func add(word32: UInt32) {
        // Its two words swapped, in the halves where a load from memory puts them.
        let swapped = word32.bigEndian
        sum = Self.plus(sum, UInt64(swapped))
    }

    /// Adds a 64-bit field given as its numeric value (as four 16-bit words).
    @inline(__always)
    public mutating func add(word64: UInt64) {
        sum = Self.plus(sum, word64.bigEndian)
    }

    /// Adds bytes already loaded from memory as a number (up to 8 of them, zero-padded), for
    /// a header of fixed size that needs no loop.
    @inline(__always)
    mutating func add(asLoaded word: UInt64) {
        sum = Self.plus(sum, word)
    }

    /// The checksum to put in the header: the complement of the folded sum, as a number.
    /// Checksumming data that already holds a correct checksum gives 0.
    @inline(__always)
    public var value: UInt16 {
        let half = UInt32(truncatingIfNeeded: sum).addingReportingOverflow(UInt32(truncatingIfNeeded: sum >> 32))
        let folded32 = half.partialValue &+ (half.overflow ? 1 : 0)
        let quarter = UInt16(truncatingIfNeeded: folded32).addingReportingOverflow(UInt16(truncatingIfNeeded: folded32 >> 16))
        let folded = quarter.partialValue &+ (quarter.overflow ? 1 : 0)
        return UInt16(bigEndian: ~folded)
    }

    /// The checksum of one buffer.
    @inline(__always)
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

func hex2(_ value: UInt8) -> String {
    (value < 16 ? "0" : "") + String(value, radix: 16)
}
