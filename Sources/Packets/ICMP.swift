/// The start of the datagram an ICMP error quotes (RFC 792: the IP header and at least the
/// first 8 bytes of its payload; RFC 4443 for ICMPv6: as much as fits). Enough to tell which
/// socket's packet failed: addresses, protocol, ports or echo identifier.
public struct QuotedDatagram: Hashable, Sendable, BitwiseCopyable {
    /// 4 or 6.
    public var version: Int
    public var source: IPAddress
    public var destination: IPAddress
    /// The quoted header's TTL or hop limit: what was left when it died (traceroute reads it).
    public var hopLimit: UInt8
    /// IPv4 only: the quoted identification, to match the datagram that was sent.
    public var identification: UInt16?
    public var `protocol`: IPProtocol
    /// TCP and UDP: the ports (the first 4 bytes of the transport header).
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// TCP: the sequence number of the quoted segment.
    public var tcpSequenceNumber: UInt32?
    /// ICMP/ICMPv6 echo: identifier and sequence of the request that failed.
    public var echoIdentifier: UInt16?
    public var echoSequence: UInt16?

    /// Decodes what is quoted; a quote too short for the ports still gives the IP header.
    static func decode(_ view: ByteView, at offset: Int, version: Int) throws(DecodeError) -> QuotedDatagram {
        var quoted: QuotedDatagram
        let upper: Int
        if version == 4 {
            let ip = try IPv4Header.decode(view, at: offset)
            quoted = QuotedDatagram(
                version: 4, source: .v4(ip.source), destination: .v4(ip.destination), hopLimit: ip.ttl,
                identification: ip.identification, protocol: ip.protocol)
            upper = offset + ip.headerLength
        } else {
            let ip = try IPv6Header.decode(view, at: offset)
            quoted = QuotedDatagram(
                version: 6, source: .v6(ip.source), destination: .v6(ip.destination), hopLimit: ip.hopLimit,
                identification: nil, protocol: ip.upperProtocol)
            upper = ip.upperOffset
        }
        let available = view.count - upper
        switch quoted.protocol {
        case .tcp, .udp:
            if available >= 4 {
                quoted.sourcePort = view.u16(upper)
                quoted.destinationPort = view.u16(upper + 2)
            }
            if quoted.protocol == .tcp && available >= 8 { quoted.tcpSequenceNumber = view.u32(upper + 4) }
        case .icmp, .icmpv6:
            if available >= 8, view.u8(upper) == 8 || view.u8(upper) == 128 {
                quoted.echoIdentifier = view.u16(upper + 4)
                quoted.echoSequence = view.u16(upper + 6)
            }
        default: break
        }
        return quoted
    }
}

/// An ICMP message (RFC 792): echo and the two errors a student meets, the rest kept raw.
public struct ICMPHeader: Hashable, Sendable, BitwiseCopyable {
    public var offset: Int
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    /// The 4 bytes after the checksum (identifier and sequence for echo; unused, pointer or
    /// MTU for errors).
    public var restOfHeader: UInt32
    public var message: Message
    /// Bytes after the 8-byte header (echo data, or the quoted datagram).
    public var bodyLength: Int

    public enum Message: Hashable, Sendable, BitwiseCopyable {
        case echoRequest(identifier: UInt16, sequence: UInt16)
        case echoReply(identifier: UInt16, sequence: UInt16)
        /// Type 3: code 0 net, 1 host, 2 protocol, 3 port unreachable, 4 fragmentation
        /// needed (then `restOfHeader` holds the next-hop MTU), 13 administratively prohibited.
        case destinationUnreachable(QuotedDatagram?)
        /// Type 11: code 0 TTL exceeded in transit (what traceroute uses), 1 reassembly.
        case timeExceeded(QuotedDatagram?)
        case other
    }

    public static let echoReplyType: UInt8 = 0
    public static let destinationUnreachableType: UInt8 = 3
    public static let echoRequestType: UInt8 = 8
    public static let timeExceededType: UInt8 = 11

    /// A short name as tcpdump prints it.
    public var name: String {
        switch (type, code) {
        case (0, _): "echo reply"
        case (8, _): "echo request"
        case (3, 0): "net unreachable"
        case (3, 1): "host unreachable"
        case (3, 2): "protocol unreachable"
        case (3, 3): "port unreachable"
        case (3, 4): "fragmentation needed"
        case (3, 13): "administratively prohibited"
        case (3, _): "destination unreachable (code \(code))"
        case (11, 0): "time exceeded in-transit"
        case (11, 1): "ip reassembly time exceeded"
        case (5, _): "redirect"
        case (12, _): "parameter problem"
        default: "type \(type) code \(code)"
        }
    }
}

extension ICMPHeader {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = ICMPHeader(
        offset: 0, type: 0, code: 0, checksum: 0, checksumStatus: .unverified, restOfHeader: 0, message: .other, bodyLength: 0)

    static func decode(_ view: ByteView, at offset: Int, length: Int, verifiable: Bool) throws(DecodeError) -> ICMPHeader {
        try view.require(8, at: offset, .icmp)
        let captured = min(length, view.count - offset)
        let type = view.u8(offset), rest = view.u32(offset + 4)
        let checksum = view.u16(offset + 2)
        var status = ChecksumStatus.unverified
        if verifiable && captured == length {
            status = .from(found: checksum, sumIncludingField: InternetChecksum.of(view.slice(offset, length)))
        }
        let message: Message
        switch type {
        case 0: message = .echoReply(identifier: UInt16(rest >> 16), sequence: UInt16(truncatingIfNeeded: rest))
        case 8: message = .echoRequest(identifier: UInt16(rest >> 16), sequence: UInt16(truncatingIfNeeded: rest))
        case 3, 11:
            // The quote may be cut short by the snaplen; the message itself is still whole.
            let quoteView = ByteView(bytes: view.slice(0, offset + captured))
            let quoted = try? QuotedDatagram.decode(quoteView, at: offset + 8, version: 4)
            message = type == 3 ? .destinationUnreachable(quoted) : .timeExceeded(quoted)
        default: message = .other
        }
        return ICMPHeader(
            offset: offset, type: type, code: view.u8(offset + 1), checksum: checksum,
            checksumStatus: status, restOfHeader: rest, message: message, bodyLength: length - 8)
    }
}

extension ICMPHeader {
    /// An ICMP message by itself, as an unprivileged ping socket hands it over (no IP header
    /// in front), its checksum verified.
    public init(message bytes: [UInt8]) throws(DecodeError) {
        // withUnsafeBytes rethrows untyped errors; the Result keeps this one typed.
        let result = bytes.withUnsafeBytes { (raw) -> Result<ICMPHeader, DecodeError> in
            Result { () throws(DecodeError) in
                try ICMPHeader.decode(ByteView(bytes: raw), at: 0, length: raw.count, verifiable: true)
            }
        }
        self = try result.get()
    }
}
