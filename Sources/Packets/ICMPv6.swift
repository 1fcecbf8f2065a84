/// An ICMPv6 message (RFC 4443), with the neighbour discovery basics of RFC 4861: what
/// replaces ARP in IPv6, and what a student sees first on any IPv6 link.
public struct ICMPv6Header: Hashable, Sendable, BitwiseCopyable {
    public var offset: Int
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    public var checksumStatus: ChecksumStatus
    public var restOfHeader: UInt32
    public var message: Message
    public var bodyLength: Int

    public enum Message: Hashable, Sendable, BitwiseCopyable {
        case echoRequest(identifier: UInt16, sequence: UInt16)
        case echoReply(identifier: UInt16, sequence: UInt16)
        /// Type 1: code 0 no route, 1 prohibited, 3 address unreachable, 4 port unreachable.
        case destinationUnreachable(QuotedDatagram?)
        /// Type 2: the link MTU the router could not exceed.
        case packetTooBig(mtu: UInt32, QuotedDatagram?)
        /// Type 3: hop limit exceeded (code 0) or reassembly timeout (code 1).
        case timeExceeded(QuotedDatagram?)
        /// Type 4: a field the receiver could not parse, at `pointer`.
        case parameterProblem(pointer: UInt32, QuotedDatagram?)
        /// Type 133 and 134: router solicitation and advertisement.
        case routerSolicitation
        case routerAdvertisement(hopLimit: UInt8, managed: Bool, other: Bool, lifetime: UInt16)
        /// Type 135: "who has `target`?", the IPv6 ARP request.
        case neighborSolicitation(target: IPv6Address, sourceLinkAddress: MACAddress?)
        /// Type 136: "`target` is at …", with router, solicited and override flags.
        case neighborAdvertisement(target: IPv6Address, router: Bool, solicited: Bool, override: Bool, targetLinkAddress: MACAddress?)
        case other
    }

    public var name: String {
        switch type {
        case 1: "destination unreachable"
        case 2: "packet too big"
        case 3: "time exceeded"
        case 4: "parameter problem"
        case 128: "echo request"
        case 129: "echo reply"
        case 133: "router solicitation"
        case 134: "router advertisement"
        case 135: "neighbor solicitation"
        case 136: "neighbor advertisement"
        case 137: "redirect"
        default: "type \(type) code \(code)"
        }
    }
}

extension ICMPv6Header {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = ICMPv6Header(
        offset: 0, type: 0, code: 0, checksum: 0, checksumStatus: .unverified, restOfHeader: 0, message: .other, bodyLength: 0)

    static func decode(_ view: ByteView, at offset: Int, length: Int, pseudoHeader: PseudoHeader) throws(DecodeError) -> ICMPv6Header {
        try view.require(8, at: offset, .icmpv6)
        let captured = min(length, view.count - offset)
        let type = view.u8(offset), rest = view.u32(offset + 4)
        let checksum = view.u16(offset + 2)
        let quoteView = ByteView(bytes: view.slice(0, offset + captured))
        func quoted() -> QuotedDatagram? { try? QuotedDatagram.decode(quoteView, at: offset + 8, version: 6) }
        /// NDP options (RFC 4861 §4.6): type, length in 8-byte units, data; 1 and 2 carry a MAC.
        func linkAddress(from start: Int, kind: UInt8) -> MACAddress? {
            var position = start
            while position + 8 <= offset + captured {
                let length = Int(view.u8(position + 1)) * 8
                guard length > 0 else { return nil }
                if view.u8(position) == kind && length == 8 { return MACAddress(view, at: position + 2) }
                position += length
            }
            return nil
        }
        let message: Message
        switch type {
        case 128: message = .echoRequest(identifier: UInt16(rest >> 16), sequence: UInt16(truncatingIfNeeded: rest))
        case 129: message = .echoReply(identifier: UInt16(rest >> 16), sequence: UInt16(truncatingIfNeeded: rest))
        case 1: message = .destinationUnreachable(quoted())
        case 2: message = .packetTooBig(mtu: rest, quoted())
        case 3: message = .timeExceeded(quoted())
        case 4: message = .parameterProblem(pointer: rest, quoted())
        case 133: message = .routerSolicitation
        case 134:
            message = .routerAdvertisement(
                hopLimit: UInt8(rest >> 24), managed: rest & 0x0080_0000 != 0, other: rest & 0x0040_0000 != 0,
                lifetime: UInt16(truncatingIfNeeded: rest))
        case 135, 136:
            try view.require(24, at: offset, .icmpv6)
            let target = IPv6Address(networkBytes: view.slice(offset + 8, 16))
            if type == 135 {
                message = .neighborSolicitation(target: target, sourceLinkAddress: linkAddress(from: offset + 24, kind: 1))
            } else {
                message = .neighborAdvertisement(
                    target: target, router: rest & 0x8000_0000 != 0, solicited: rest & 0x4000_0000 != 0,
                    override: rest & 0x2000_0000 != 0, targetLinkAddress: linkAddress(from: offset + 24, kind: 2))
            }
        default: message = .other
        }
        return ICMPv6Header(
            offset: offset, type: type, code: view.u8(offset + 1), checksum: checksum,
            checksumStatus: pseudoHeader.verify(view, at: offset, length: length, captured: captured, found: checksum),
            restOfHeader: rest, message: message, bodyLength: length - 8)
    }
}

extension ICMPv6Header {
    /// An ICMPv6 message by itself, as a socket hands it over (no IPv6 header in front). Its
    /// checksum covers a pseudo-header with addresses the socket does not show, and the kernel
    /// has checked it: it is left unverified here.
    public init(message bytes: [UInt8]) throws(DecodeError) {
        // withUnsafeBytes rethrows untyped errors; the Result keeps this one typed.
        let result = bytes.withUnsafeBytes { (raw) -> Result<ICMPv6Header, DecodeError> in
            Result { () throws(DecodeError) in
                try ICMPv6Header.decode(ByteView(bytes: raw), at: 0, length: raw.count,
                                        pseudoHeader: PseudoHeader(partialSum: InternetChecksum(), verifiable: false, isIPv4: false))
            }
        }
        self = try result.get()
    }
}
