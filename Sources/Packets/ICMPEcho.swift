/// An ICMP or ICMPv6 echo request or reply (RFC 792, RFC 4443 §4), built to send: what
/// `ping` puts on the wire. The checksum is computed here for ICMP; for ICMPv6 it covers a
/// pseudo-header with both addresses, which the kernel fills in for raw ICMPv6 sockets
/// (RFC 3542 §3.1), unless the addresses are given.
public struct ICMPEcho: Hashable, Sendable {
    public enum Version: Sendable { case v4, v6 }
    public var version: Version
    public var isReply: Bool
    public var identifier: UInt16
    public var sequence: UInt16
    public var payload: [UInt8]

    public init(version: Version = .v4, isReply: Bool = false, identifier: UInt16, sequence: UInt16, payload: [UInt8]) {
        self.version = version
        self.isReply = isReply
        self.identifier = identifier
        self.sequence = sequence
        self.payload = payload
    }

    /// 8 (echo request) or 0 (reply) for ICMP; 128 or 129 for ICMPv6.
    public var type: UInt8 {
        switch version {
        case .v4: isReply ? 0 : 8
        case .v6: isReply ? 129 : 128
        }
    }

    /// The message with its checksum in place. For ICMPv6, pass the addresses to compute it;
    /// without them it is left 0 for the kernel.
    public func encoded(source: IPv6Address? = nil, destination: IPv6Address? = nil) -> [UInt8] {
        var bytes: [UInt8] = [type, 0, 0, 0,
                              UInt8(identifier >> 8), UInt8(truncatingIfNeeded: identifier),
                              UInt8(sequence >> 8), UInt8(truncatingIfNeeded: sequence)]
        bytes += payload
        let checksum: UInt16?
        switch version {
        case .v4:
            checksum = InternetChecksum.of(bytes)
        case .v6:
            if let source, let destination {
                var sum = InternetChecksum()
                sum.addIPv6PseudoHeader(source: source, destination: destination, length: bytes.count, protocol: .icmpv6)
                sum.add(bytes)
                checksum = sum.value
            } else {
                checksum = nil
            }
        }
        if let checksum {
            bytes[2] = UInt8(checksum >> 8)
            bytes[3] = UInt8(truncatingIfNeeded: checksum)
        }
        return bytes
    }

    /// Reads an echo message from the bytes a socket received (no IP header: a ping socket,
    /// or a raw ICMPv6 socket; for raw ICMP strip the IPv4 header first). Nil if it is not an
    /// echo message of this version or is shorter than 8 bytes.
    public init?(parsing bytes: [UInt8], version: Version) {
        guard bytes.count >= 8 else { return nil }
        let type = bytes[0]
        switch (version, type) {
        case (.v4, 0), (.v6, 129): isReply = true
        case (.v4, 8), (.v6, 128): isReply = false
        default: return nil
        }
        self.version = version
        identifier = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        sequence = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
        payload = Array(bytes[8...])
    }
}
