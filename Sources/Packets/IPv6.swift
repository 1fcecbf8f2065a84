/// One IPv6 extension header (RFC 8200 §4) between the fixed header and the transport.
/// Stored in small integers: an IPv6 header keeps up to six of these inline.
public struct IPv6ExtensionHeader: Hashable, Sendable, BitwiseCopyable {
    /// Which header this is: hop-by-hop (0), routing (43), fragment (44), destination options (60).
    public var kind: IPProtocol
    /// Routing header only: routing type and segments left.
    public var routingType: UInt8 = 0
    public var segmentsLeft: UInt8 = 0
    /// Fragment header only: more-fragments flag and identification.
    public var moreFragments = false
    public var fragmentIdentification: UInt32 = 0
    // Small integers: an IPv6 header keeps six of these inline. Extension headers sit within
    // the first few kilobytes of a frame, so 16 bits hold their offset.
    private var storedOffset: UInt16
    private var storedLength: UInt16
    private var storedFragmentOffset: UInt16 = 0

    init(kind: IPProtocol, offset: Int, length: Int) {
        self.kind = kind
        storedOffset = UInt16(truncatingIfNeeded: offset)
        storedLength = UInt16(truncatingIfNeeded: length)
    }

    /// Where the header starts in the frame, and its length in bytes.
    public var offset: Int { Int(storedOffset) }
    public var length: Int { Int(storedLength) }
    /// Fragment header only: this fragment's offset in the original payload, in bytes.
    public var fragmentOffset: Int {
        get { Int(storedFragmentOffset) * 8 }
        set { storedFragmentOffset = UInt16(truncatingIfNeeded: newValue / 8) }
    }
}

/// The IPv6 header (RFC 8200) and its extension headers.
public struct IPv6Header: Hashable, Sendable, BitwiseCopyable {
    public var offset: Int
    public var trafficClass: UInt8
    public var flowLabel: UInt32
    /// Everything after the 40-byte fixed header, extension headers included, as the field
    /// says (0 for a jumbogram, RFC 2675).
    public var payloadLength: Int
    /// The payload as far as the frame carries it: the field, or the bytes on the wire when the
    /// field is 0 (a jumbogram, or segmentation offload) or claims more than was there.
    public var datagramPayloadLength: Int
    public var lengthExceedsFrame: Bool
    /// The fixed header's next-header field.
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address
    /// The protocol after the last extension header (TCP, UDP, ICMPv6…).
    public var upperProtocol: IPProtocol
    /// Where the upper-layer header starts in the frame.
    public var upperOffset: Int

    // Up to six extension headers inline (RFC 8200 §4.1's longest usual chain): a tuple keeps
    // the header bitwise-copyable, so copying a decoded packet is a plain memcpy.
    private typealias Six = (IPv6ExtensionHeader, IPv6ExtensionHeader, IPv6ExtensionHeader, IPv6ExtensionHeader, IPv6ExtensionHeader, IPv6ExtensionHeader)
    private static let none = IPv6ExtensionHeader(kind: .hopByHop, offset: 0, length: 0)
    private var extensions: Six = (none, none, none, none, none, none)
    public private(set) var extensionCount = 0
    private var fragmentIndex = -1

    static let maximumExtensions = 6

    /// Extension headers in order (at most 6 are decoded).
    public var extensionHeaders: [IPv6ExtensionHeader] { (0..<extensionCount).map(extensionHeader(at:)) }

    public func extensionHeader(at index: Int) -> IPv6ExtensionHeader {
        precondition(index >= 0 && index < extensionCount, "extension header \(index) of \(extensionCount)")
        return withUnsafeBytes(of: extensions) {
            $0.load(fromByteOffset: index * MemoryLayout<IPv6ExtensionHeader>.stride, as: IPv6ExtensionHeader.self)
        }
    }

    mutating func append(_ header: IPv6ExtensionHeader) {
        withUnsafeMutableBytes(of: &extensions) {
            $0.storeBytes(of: header, toByteOffset: extensionCount * MemoryLayout<IPv6ExtensionHeader>.stride, as: IPv6ExtensionHeader.self)
        }
        if header.kind == .fragment { fragmentIndex = extensionCount }
        extensionCount += 1
    }

    public var fragment: IPv6ExtensionHeader? { fragmentIndex >= 0 ? extensionHeader(at: fragmentIndex) : nil }
    public static func == (a: IPv6Header, b: IPv6Header) -> Bool {
        a.offset == b.offset && a.trafficClass == b.trafficClass && a.flowLabel == b.flowLabel
            && a.payloadLength == b.payloadLength && a.nextHeader == b.nextHeader && a.hopLimit == b.hopLimit
            && a.source == b.source && a.destination == b.destination && a.extensionHeaders == b.extensionHeaders
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(destination)
        hasher.combine(payloadLength)
        hasher.combine(extensionHeaders)
    }

    public var isFragment: Bool { fragment.map { $0.moreFragments || $0.fragmentOffset != 0 } ?? false }
    /// Bytes from the upper-layer header to the end of the IPv6 payload.
    public var upperLength: Int { offset + 40 + datagramPayloadLength - upperOffset }
}

extension IPProtocol {
    var isIPv6Extension: Bool {
        switch rawValue {
        case 0, 43, 44, 60: true
        default: false
        }
    }
}

extension IPv6Header {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = IPv6Header(
        offset: 0, trafficClass: 0, flowLabel: 0, payloadLength: 0, datagramPayloadLength: 0, lengthExceedsFrame: false,
        nextHeader: IPProtocol(0), hopLimit: 0,
        source: .any, destination: .any, upperProtocol: IPProtocol(0), upperOffset: 0)

    /// `reported` is how many bytes the wire held from `offset` on.
    static func decode(_ view: ByteView, at offset: Int, reported given: Int? = nil) throws(DecodeError) -> IPv6Header {
        try view.require(40, at: offset, .ipv6)
        let reported = given ?? view.count - offset
        let field = Int(view.u16(offset + 4))
        let first = view.u32(offset)
        guard first >> 28 == 6 else {
            throw DecodeError(.ipv6, at: offset, .wrongVersion(expected: 6, found: Int(first >> 28)))
        }
        var header = IPv6Header(
            offset: offset, trafficClass: UInt8(truncatingIfNeeded: first >> 20), flowLabel: first & 0xF_FFFF,
            payloadLength: field, datagramPayloadLength: max(0, field == 0 ? reported - 40 : min(field, reported - 40)),
            lengthExceedsFrame: field > reported - 40, nextHeader: IPProtocol(view.u8(offset + 6)),
            hopLimit: view.u8(offset + 7),
            source: IPv6Address(networkBytes: view.slice(offset + 8, 16)),
            destination: IPv6Address(networkBytes: view.slice(offset + 24, 16)),
            upperProtocol: IPProtocol(view.u8(offset + 6)), upperOffset: offset + 40)
        // Walk the chain of extension headers (RFC 8200 §4.1 order, but accept any order).
        var next = header.nextHeader
        var position = offset + 40
        let end = offset + 40 + header.datagramPayloadLength
        while next.isIPv6Extension {
            guard header.extensionCount < IPv6Header.maximumExtensions else { break }
            try view.require(8, at: position, .ipv6Extension)
            let length = next == .fragment ? 8 : (Int(view.u8(position + 1)) + 1) * 8
            guard position + length <= end else {
                throw DecodeError(.ipv6Extension, at: position + 1, .badLength(.ipv6ExtensionLength, value: length, limit: header.datagramPayloadLength))
            }
            try view.require(length, at: position, .ipv6Extension)
            var ext = IPv6ExtensionHeader(kind: next, offset: position, length: length)
            if next == .fragment {
                let word = view.u16(position + 2)
                ext.fragmentOffset = Int(word >> 3) * 8
                ext.moreFragments = word & 1 != 0
                ext.fragmentIdentification = view.u32(position + 4)
            } else if next == .routing {
                ext.routingType = view.u8(position + 2)
                ext.segmentsLeft = view.u8(position + 3)
            }
            header.append(ext)
            next = IPProtocol(view.u8(position))
            position += length
            // A non-first fragment's "next header" describes the reassembled payload only.
            if ext.kind == .fragment && ext.fragmentOffset != 0 { break }
        }
        header.upperProtocol = next
        header.upperOffset = position
        return header
    }

    /// The IPv6 pseudo-header (RFC 8200 §8.1) without its length, for TCP, UDP and ICMPv6.
    func pseudoHeader(verifiable: Bool) -> PseudoHeader {
        var sum = InternetChecksum()
        sum.addIPv6PseudoHeader(source: source, destination: destination, length: 0, protocol: upperProtocol)
        return PseudoHeader(partialSum: sum, verifiable: verifiable, isIPv4: false)
    }
}

extension InternetChecksum {
    /// Adds RFC 8200 §8.1's pseudo-header: both addresses, upper-layer length, next header.
    public mutating func addIPv6PseudoHeader(source: IPv6Address, destination: IPv6Address, length: Int, protocol: IPProtocol) {
        add(word64: source.high)
        add(word64: source.low)
        add(word64: destination.high)
        add(word64: destination.low)
        add(word32: UInt32(length))
        add(word32: UInt32(`protocol`.rawValue))
    }
}
