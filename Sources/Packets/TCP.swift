/// The TCP flags byte plus the AE/NS bit: the control bits of RFC 9293 §3.1 and RFC 3168's ECN.
public struct TCPFlags: OptionSet, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// Formerly NS (RFC 3540, historic), now AE for accurate ECN.
    public static let ae = TCPFlags(rawValue: 0x100)
    /// The three bits before AE, reserved (RFC 9293 §3.1): tshark shows them as "Reserved".
    public static let reserved = TCPFlags(rawValue: 0xE00)

    /// Names in DESIGN's JSON order: SYN, ACK, FIN, RST, PSH, URG, ECE, CWR (then AE, and
    /// "Reserved" when any reserved bit is set, as tshark's summary says).
    public var names: [String] {
        var names: [String] = []
        for (flag, name) in [(TCPFlags.syn, "SYN"), (.ack, "ACK"), (.fin, "FIN"), (.rst, "RST"), (.psh, "PSH"), (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"), (.ae, "AE")]
        where contains(flag) { names.append(name) }
        if !isDisjoint(with: .reserved) { names.append("Reserved") }
        return names
    }

    /// tcpdump's flag letters: `[S.]` is SYN-ACK, `[P.]` data with PSH, `[F.]`, `[R]`.
    public var tcpdumpText: String {
        var text = ""
        if contains(.fin) { text += "F" }
        if contains(.syn) { text += "S" }
        if contains(.rst) { text += "R" }
        if contains(.psh) { text += "P" }
        if contains(.urg) { text += "U" }
        if contains(.ece) { text += "E" }
        if contains(.cwr) { text += "W" }
        if contains(.ae) { text += "e" }
        if contains(.ack) { text += "." }
        return text.isEmpty ? "none" : text
    }

    public var description: String { names.joined(separator: ",") }
}

/// A TCP header (RFC 9293 §3.1) and where its payload lies in the frame.
public struct TCPHeader: Hashable, Sendable, BitwiseCopyable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Raw 32-bit sequence and acknowledgement numbers as on the wire.
    public var sequenceNumber: UInt32
    public var acknowledgementNumber: UInt32
    public var flags: TCPFlags
    /// The window field before any scaling (the scale is known only from the handshake).
    public var window: UInt16
    public var checksum: UInt16
    public var urgentPointer: UInt16
    public var checksumStatus: ChecksumStatus
    public var options: TCPOptions
    // Lengths and offsets in the integer sizes the protocol gives them (an IP datagram is at
    // most 65,535 bytes): a smaller header is cheaper to move, a million times over.
    private var storedOffset: UInt32
    private var storedHeaderLength: UInt8
    private var storedPayloadLength: UInt16
    private var storedCapturedPayloadLength: UInt16

    /// Where the header starts in the frame.
    public var offset: Int { Int(storedOffset) }
    /// Data offset × 4: 20 to 60 bytes.
    public var headerLength: Int { Int(storedHeaderLength) }
    /// Payload bytes as sent (from the IP length), and how many of them the capture holds.
    public var payloadLength: Int { Int(storedPayloadLength) }
    public var capturedPayloadLength: Int { Int(storedCapturedPayloadLength) }

    init(offset: Int, sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgementNumber: UInt32,
         headerLength: Int, flags: TCPFlags, window: UInt16, checksum: UInt16, checksumStatus: ChecksumStatus,
         urgentPointer: UInt16, options: TCPOptions, payloadLength: Int, capturedPayloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgementNumber = acknowledgementNumber
        self.flags = flags
        self.window = window
        self.checksum = checksum
        self.urgentPointer = urgentPointer
        self.checksumStatus = checksumStatus
        self.options = options
        storedOffset = UInt32(truncatingIfNeeded: offset)
        storedHeaderLength = UInt8(truncatingIfNeeded: headerLength)
        storedPayloadLength = UInt16(truncatingIfNeeded: payloadLength)
        storedCapturedPayloadLength = UInt16(truncatingIfNeeded: max(0, capturedPayloadLength))
    }
    public var payloadOffset: Int { offset + headerLength }

    /// How much sequence space the segment uses: payload, plus one each for SYN and FIN.
    public var sequenceLength: Int {
        payloadLength + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }
}

extension TCPHeader {
    /// A placeholder for a `Packet`'s slot before any frame filled it; never shown.
    static let blank = TCPHeader(
        offset: 0, sourcePort: 0, destinationPort: 0, sequenceNumber: 0, acknowledgementNumber: 0,
        headerLength: 0, flags: [], window: 0, checksum: 0, checksumStatus: .unverified, urgentPointer: 0,
        options: TCPOptions(), payloadLength: 0, capturedPayloadLength: 0)

    /// Decodes in place, field by field, as `IPv4Header.decode(_:at:)` does and for the same
    /// reason: no temporary header built and copied for every frame. `length` is the TCP
    /// segment length the IP header gives (header + payload).
    ///
    /// A header cut short is kept as far as tshark keeps it: with the first 16 bytes (ports,
    /// numbers, flags, window) the segment counts, so a SYN cut by a small snaplen still opens
    /// its connection; options are read as far as they were captured. The cut is returned (not
    /// thrown). With fewer than 16 bytes, or a data offset below 5 words or past the segment,
    /// there is no usable header.
    @inline(__always)
    mutating func decode(_ view: ByteView, at offset: Int, length: Int, pseudoHeader: PseudoHeader) throws(DecodeError) -> DecodeError? {
        let available = view.count - offset
        guard available >= 20 else { return try decodeCut(view, at: offset, length: length) }
        let dataOffsetFlags = view.u16(offset + 12)
        let headerLength = Int(dataOffsetFlags >> 12) * 4
        guard headerLength >= 20, headerLength <= length else { return try decodeBogus(view, at: offset, length: length) }
        guard available >= headerLength else { return try decodeCut(view, at: offset, length: length) }
        let captured = min(length, available)
        readFixedFields(view, at: offset, dataOffsetFlags: dataOffsetFlags)
        checksum = view.u16(offset + 16)
        urgentPointer = view.u16(offset + 18)
        checksumStatus = pseudoHeader.verify(view, at: offset, length: length, captured: captured, found: checksum)
        if headerLength > 20 {
            options.decode(view, at: offset + 20, count: headerLength - 20)
        } else {
            options.removeAll()
        }
        store(offset: offset, headerLength: headerLength, payload: length - headerLength, captured: captured - headerLength)
        return nil
    }

    /// Ports, numbers, flags and window: the first 16 bytes, which every path reads.
    @inline(__always)
    private mutating func readFixedFields(_ view: ByteView, at offset: Int, dataOffsetFlags: UInt16) {
        sourcePort = view.u16(offset)
        destinationPort = view.u16(offset + 2)
        sequenceNumber = view.u32(offset + 4)
        acknowledgementNumber = view.u32(offset + 8)
        flags = TCPFlags(rawValue: dataOffsetFlags & 0xFFF)
        window = view.u16(offset + 14)
    }

    @inline(__always)
    private mutating func store(offset: Int, headerLength: Int, payload: Int, captured: Int) {
        storedOffset = UInt32(truncatingIfNeeded: offset)
        storedHeaderLength = UInt8(truncatingIfNeeded: headerLength)
        storedPayloadLength = UInt16(truncatingIfNeeded: payload)
        storedCapturedPayloadLength = UInt16(truncatingIfNeeded: max(0, captured))
    }

    /// A data offset below 5 words or past the segment: tshark still counts the segment in
    /// its connection (ports, numbers and flags are where they always are), with no options
    /// and no payload. So does SocketLab, and the returned problem says what was wrong.
    private mutating func decodeBogus(_ view: ByteView, at offset: Int, length: Int) throws(DecodeError) -> DecodeError? {
        let dataOffsetFlags = view.u16(offset + 12)
        let words = Int(dataOffsetFlags >> 12)
        let problem = DecodeError(.tcp, at: offset + 12, .badLength(.tcpDataOffset, value: words, limit: length))
        guard length >= 20 else { throw problem }
        readFixedFields(view, at: offset, dataOffsetFlags: dataOffsetFlags)
        checksum = view.u16(offset + 16)
        urgentPointer = view.u16(offset + 18)
        checksumStatus = .unverified
        options.removeAll()
        store(offset: offset, headerLength: 20, payload: 0, captured: 0)
        return problem
    }

    /// The header when the capture holds fewer bytes than it (the rare path).
    private mutating func decodeCut(_ view: ByteView, at offset: Int, length: Int) throws(DecodeError) -> DecodeError? {
        let available = max(0, view.count - offset)
        guard available >= 16 else { throw DecodeError(.tcp, at: offset, .truncated(needed: 20, available: available)) }
        let dataOffsetFlags = view.u16(offset + 12)
        let headerLength = Int(dataOffsetFlags >> 12) * 4
        guard headerLength >= 20, headerLength <= length else {
            throw DecodeError(.tcp, at: offset + 12, .badLength(.tcpDataOffset, value: headerLength / 4, limit: length))
        }
        readFixedFields(view, at: offset, dataOffsetFlags: dataOffsetFlags)
        checksum = available >= 18 ? view.u16(offset + 16) : 0
        urgentPointer = available >= 20 ? view.u16(offset + 18) : 0
        checksumStatus = .unverified
        if available > 20 {
            options.decode(view, at: offset + 20, count: available - 20, cut: true)
        } else {
            options.removeAll()
            options.isCut = headerLength > 20
        }
        store(offset: offset, headerLength: headerLength, payload: length - headerLength, captured: 0)
        return DecodeError(.tcp, at: offset, .truncated(needed: headerLength, available: available))
    }
}

/// The pseudo-header a TCP, UDP or ICMPv6 checksum covers (RFC 9293 §3.1, RFC 8200 §8.1),
/// summed once by the IP layer, and whether the checksum can be checked at all.
struct PseudoHeader {
    /// The sum of the addresses and the protocol (the length is added per segment).
    var partialSum: InternetChecksum
    /// False for IP fragments: the checksum covers the reassembled datagram.
    var verifiable: Bool
    /// Only IPv4 lets UDP send no checksum.
    var isIPv4: Bool

    func verify(_ view: ByteView, at offset: Int, length: Int, captured: Int, found: UInt16) -> ChecksumStatus {
        guard verifiable, captured == length else { return .unverified }
        var sum = partialSum
        if isIPv4 { sum.add(word: UInt16(truncatingIfNeeded: length)) } else { sum.add(word32: UInt32(length)) }
        sum.add(view.slice(offset, length))
        return .from(found: found, sumIncludingField: sum.value)
    }
}
