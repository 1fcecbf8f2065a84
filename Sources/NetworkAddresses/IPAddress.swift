#if canImport(Glibc)
import Glibc
#endif

// The address value types that both a socket (SocketCore) and a decoded packet (Packets) use,
// so that "the address my socket connected to" and "the address in this SYN" are one type and
// compare equal. A leaf module: it knows nothing of sockets or of packets.

/// An IPv4 address, kept as the 32-bit number it is on the wire.
///
/// Parsed with `inet_pton` and printed with `inet_ntop`, the two calls Beej's guide teaches,
/// so "what does 127.1 mean?" has the same answer here as in C (inet_pton refuses it).
public struct IPv4Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The address in host byte order: 127.0.0.1 is 0x7F00_0001.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    /// `inet_pton(AF_INET, …)`: dotted quad only, nil otherwise.
    public init?(_ text: String) {
        var raw = in_addr()
        guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
        value = UInt32(bigEndian: raw.s_addr)
    }
    package init(_ raw: in_addr) { value = UInt32(bigEndian: raw.s_addr) }

    public static let any = IPv4Address(0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    package var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }

    /// The four bytes in network order.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// Dotted quad, written directly: an inspector prints millions of these.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// An IPv6 address: 128 bits, kept as two big-endian halves so it is cheap to hash and compare.
public struct IPv6Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
    /// `inet_pton(AF_INET6, …)`: any RFC 4291 text form, without brackets or zone.
    public init?(_ text: String) {
        var raw = in6_addr()
        guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
        self.init(raw)
    }
    package init(_ raw: in6_addr) {
        var high: UInt64 = 0, low: UInt64 = 0
        withUnsafeBytes(of: raw) { bytes in
            for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        }
        self.high = high
        self.low = low
    }

    /// The sixteen bytes at the start of `bytes`, in network order (as in a packet header).
    public init(networkBytes bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 16, "an IPv6 address is 16 bytes")
        self.init(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    /// fe80::/10 — valid only on one link, so it needs a scope id (the interface).
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }

    package var in6Addr: in6_addr {
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { bytes in
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        }
        return raw
    }

    /// The sixteen bytes in network order.
    public var bytes: [UInt8] { withUnsafeBytes(of: in6Addr) { Array($0) } }

    /// RFC 5952's canonical text, as `inet_ntop` writes it: `::1`, `fe80::1`.
    public var description: String {
        var raw = in6Addr
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
        return String(cBuffer: text)
    }
}

extension String {
    /// The text in a NUL-terminated C buffer that a call such as inet_ntop() filled in.
    package init(cBuffer: [CChar]) {
        let end = cBuffer.firstIndex(of: 0) ?? cBuffer.endIndex
        self.init(decoding: cBuffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address of either IP version: what a decoded packet or an ICMP quote carries.
public enum IPAddress: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }
}
