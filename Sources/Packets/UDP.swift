/// A UDP header (RFC 768): ports, a length and a checksum — all UDP adds to IP.
public struct UDPHeader: Hashable, Sendable, BitwiseCopyable {
    public var offset: Int
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus data, as the length field says (8 at least).
    public var length: Int
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var payloadLength: Int { length - 8 }
    public var capturedPayloadLength: Int
    public var payloadOffset: Int { offset + 8 }
}

extension UDPHeader {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = UDPHeader(
        offset: 0, sourcePort: 0, destinationPort: 0, length: 0, checksum: 0, checksumStatus: .unverified,
        capturedPayloadLength: 0)

    /// `ipLength` is what the IP header leaves for UDP.
    static func decode(_ view: ByteView, at offset: Int, ipLength: Int, pseudoHeader: PseudoHeader) throws(DecodeError) -> UDPHeader {
        try view.require(8, at: offset, .udp)
        let length = Int(view.u16(offset + 4))
        guard length >= 8 else {
            throw DecodeError(.udp, at: offset + 4, .badLength(.udpLength, value: length, limit: ipLength))
        }
        guard length <= ipLength else {
            throw DecodeError(.udp, at: offset + 4, .badLength(.udpLength, value: length, limit: ipLength))
        }
        let captured = min(length, view.count - offset)
        let checksum = view.u16(offset + 6)
        var status: ChecksumStatus
        if checksum == 0, pseudoHeader.isIPv4 {
            status = .absent
        } else {
            status = pseudoHeader.verify(view, at: offset, length: length, captured: captured, found: checksum)
        }
        return UDPHeader(
            offset: offset, sourcePort: view.u16(offset), destinationPort: view.u16(offset + 2),
            length: length, checksum: checksum, checksumStatus: status, capturedPayloadLength: captured - 8)
    }
}
