/// IP protocol numbers (IANA), the IPv4 "protocol" and IPv6 "next header" field.
public struct IPProtocol: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let hopByHop = IPProtocol(0)
    public static let icmp = IPProtocol(1)
    public static let tcp = IPProtocol(6)
    public static let udp = IPProtocol(17)
    public static let routing = IPProtocol(43)
    public static let fragment = IPProtocol(44)
    public static let icmpv6 = IPProtocol(58)
    public static let noNextHeader = IPProtocol(59)
    public static let destinationOptions = IPProtocol(60)

    public var description: String {
        switch rawValue {
        case 0: "Hop-by-Hop"
        case 1: "ICMP"
        case 6: "TCP"
        case 17: "UDP"
        case 43: "Routing"
        case 44: "Fragment"
        case 58: "ICMPv6"
        case 59: "No Next Header"
        case 60: "Destination Options"
        default: "protocol \(rawValue)"
        }
    }
}

/// Up to 40 bytes kept inline (IPv4 and TCP options): no heap allocation per packet.
///
/// A tuple rather than `InlineArray<40, UInt8>`: a value-generic type's copies go through
/// generic metadata at run time, which made decoding several times slower.
public struct OptionBytes: Sendable, BitwiseCopyable, Hashable {
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private var storedCount: UInt8 = 0
    public var count: Int { Int(storedCount) }

    init() {}

    /// Holds `bytes` (at most 40) instead. Bytes past `count` are never read, so they are
    /// left as they were rather than cleared.
    @inline(__always)
    mutating func replace(with bytes: UnsafeRawBufferPointer) {
        storedCount = UInt8(min(bytes.count, 40))
        let count = self.count
        if let base = bytes.baseAddress {
            withUnsafeMutableBytes(of: &storage) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(start: base, count: count))
            }
        }
    }

    /// Holds 12 bytes, given as one 8-byte and one 4-byte load (the usual TCP options).
    @inline(__always)
    mutating func replace(twelveBytes first: UInt64, _ last: UInt32) {
        storedCount = 12
        withUnsafeMutableBytes(of: &storage) { bytes in
            bytes.storeBytes(of: first, as: UInt64.self)
            bytes.storeBytes(of: last, toByteOffset: 8, as: UInt32.self)
        }
    }

    @inline(__always)
    mutating func removeAll() { storedCount = 0 }
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "option byte \(index) of \(count)")
        return withUnsafeBytes(of: storage) { $0[index] }
    }
    public var isEmpty: Bool { count == 0 }
    public var array: [UInt8] { withUnsafeBytes(of: storage) { Array($0.prefix(count)) } }
    /// Lends the bytes to `body` without copying them out.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    public static func == (a: OptionBytes, b: OptionBytes) -> Bool { a.array == b.array }
    public func hash(into hasher: inout Hasher) { hasher.combine(array) }
}

/// The IPv4 header (RFC 791), every field.
public struct IPv4Header: Hashable, Sendable, BitwiseCopyable {
    /// Where the header starts in the frame.
    public var offset: Int
    /// IHL × 4: 20 to 60 bytes.
    public var headerLength: Int
    /// DSCP (6 bits) and ECN (2 bits), once called type of service.
    public var dscp: UInt8
    public var ecn: UInt8
    /// Header plus payload, as sent. The frame may hold fewer (snaplen) or more (Ethernet padding).
    /// A field of 0 (segmentation offload, BIG TCP) reads as the bytes on the wire, as tshark reads it.
    public var totalLength: Int
    /// The datagram as far as the frame carries it: the total length, or less when the header
    /// claims more than was on the wire (`lengthExceedsFrame`).
    public var datagramLength: Int
    public var lengthExceedsFrame: Bool
    public var identification: UInt16
    public var reservedFlag: Bool
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// In bytes (the field counts 8-byte units).
    public var fragmentOffset: Int
    public var ttl: UInt8
    public var `protocol`: IPProtocol
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var source: IPv4Address
    public var destination: IPv4Address
    /// Options as sent (record route, timestamp…), kept raw.
    public var options: OptionBytes

    /// A fragment other than the first, or the first of several: transport decoding is partial.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    /// Payload length: what the header says, or what the wire held when that is less.
    public var payloadLength: Int { datagramLength - headerLength }
}

extension IPv4Header {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = IPv4Header(
        offset: 0, headerLength: 0, dscp: 0, ecn: 0, totalLength: 0, datagramLength: 0, lengthExceedsFrame: false, identification: 0,
        reservedFlag: false, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 0,
        protocol: IPProtocol(0), checksum: 0, checksumStatus: .unverified,
        source: IPv4Address(0), destination: IPv4Address(0), options: OptionBytes())

    static func decode(_ view: ByteView, at offset: Int, reported: Int? = nil) throws(DecodeError) -> IPv4Header {
        var header = blank
        try header.decode(view, at: offset, reported: reported ?? view.count - offset)
        return header
    }

    /// Decodes in place, field by field: a `Packet` decodes straight into its slot, with no
    /// temporary header to build and copy for every frame. On a throw some fields may be new;
    /// the slot is then not marked present, so nobody sees them.
    /// `reported` is how many bytes the wire held from `offset` on (more than were captured
    /// after a snaplen cut).
    @inline(__always)
    mutating func decode(_ view: ByteView, at offset: Int, reported: Int) throws(DecodeError) {
        try view.require(20, at: offset, .ipv4)
        let versionIHL = view.u8(offset)
        guard versionIHL >> 4 == 4 else {
            throw DecodeError(.ipv4, at: offset, .wrongVersion(expected: 4, found: Int(versionIHL >> 4)))
        }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= 20 else {
            throw DecodeError(.ipv4, at: offset, .badLength(.ipv4HeaderLength, value: headerLength / 4, limit: 5))
        }
        try view.require(headerLength, at: offset, .ipv4Options)
        let field = Int(view.u16(offset + 2))
        let totalLength = field == 0 ? reported : field
        guard totalLength >= headerLength else {
            throw DecodeError(.ipv4, at: offset + 2, .badLength(.ipv4TotalLength, value: totalLength, limit: headerLength))
        }
        let flagsFragment = view.u16(offset + 6)
        let serviceByte = view.u8(offset + 1)
        self.offset = offset
        self.headerLength = headerLength
        dscp = serviceByte >> 2
        ecn = serviceByte & 3
        self.totalLength = totalLength
        // Never shorter than the header already read (an outer header may claim less).
        datagramLength = max(headerLength, min(totalLength, reported))
        lengthExceedsFrame = totalLength > reported
        identification = view.u16(offset + 4)
        reservedFlag = flagsFragment & 0x8000 != 0
        dontFragment = flagsFragment & 0x4000 != 0
        moreFragments = flagsFragment & 0x2000 != 0
        fragmentOffset = Int(flagsFragment & 0x1FFF) * 8
        ttl = view.u8(offset + 8)
        self.protocol = IPProtocol(view.u8(offset + 9))
        checksum = view.u16(offset + 10)
        source = IPv4Address(view.u32(offset + 12))
        destination = IPv4Address(view.u32(offset + 16))
        if headerLength == 20 {
            // The usual header, summed as two 8-byte words and a 4-byte one.
            var sum = InternetChecksum()
            sum.add(asLoaded: view.u64Native(offset))
            sum.add(asLoaded: view.u64Native(offset + 8))
            sum.add(asLoaded: UInt64(view.u32Native(offset + 16)))
            checksumStatus = .from(found: checksum, sumIncludingField: sum.value)
            options.removeAll()
        } else {
            checksumStatus = .from(found: checksum, sumIncludingField: InternetChecksum.of(view.slice(offset, headerLength)))
            options.replace(with: view.slice(offset + 20, headerLength - 20))
        }
    }

    /// The TCP/UDP pseudo-header (RFC 9293 §3.1) without its length: addresses, protocol.
    func pseudoHeader(verifiable: Bool) -> PseudoHeader {
        var sum = InternetChecksum()
        sum.add(word32: source.value)
        sum.add(word32: destination.value)
        sum.add(word: UInt16(`protocol`.rawValue))
        return PseudoHeader(partialSum: sum, verifiable: verifiable, isIPv4: true)
    }
}
