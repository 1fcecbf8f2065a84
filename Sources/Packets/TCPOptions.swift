/// One SACK block (RFC 2018): the receiver holds bytes `left ..< right` beyond its ACK.
public struct SACKBlock: Hashable, Sendable {
    public var left: UInt32
    public var right: UInt32
    public init(left: UInt32, right: UInt32) {
        self.left = left
        self.right = right
    }
}

/// One TCP option as sent.
public enum TCPOption: Hashable, Sendable {
    /// Kind 0: end of the option list.
    case endOfList
    /// Kind 1: padding, so the next option starts on a 4-byte boundary.
    case noOperation
    /// Kind 2 (RFC 9293): the largest segment this side wants to receive. SYN only.
    case maximumSegmentSize(UInt16)
    /// Kind 3 (RFC 7323): shift the window field left by this many bits. SYN only.
    case windowScale(UInt8)
    /// Kind 4 (RFC 2018): this side understands SACK blocks. SYN only.
    case sackPermitted
    /// Kind 5 (RFC 2018): blocks of data received above the cumulative ACK.
    case sack([SACKBlock])
    /// Kind 8 (RFC 7323): the sender's clock value and the one it echoes.
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other kind, kept raw: kind, and the data after the length byte.
    case unknown(kind: UInt8, data: [UInt8])

    /// tcpdump's spelling in its `options [...]` list.
    public var tcpdumpText: String {
        switch self {
        case .endOfList: "eol"
        case .noOperation: "nop"
        case .maximumSegmentSize(let mss): "mss \(mss)"
        case .windowScale(let shift): "wscale \(shift)"
        case .sackPermitted: "sackOK"
        case .sack(let blocks): "sack \(blocks.count) " + blocks.map { "{\($0.left):\($0.right)}" }.joined(separator: "")
        case .timestamps(let value, let echo): "TS val \(value) ecr \(echo)"
        case .unknown(let kind, let data): "unknown-\(kind)" + (data.isEmpty ? "" : " 0x" + data.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        }
    }
}

/// A TCP header's options: the raw bytes, plus the options a connection negotiates, parsed once
/// at decode time so the inspector reads them without walking the list again.
public struct TCPOptions: Hashable, Sendable, BitwiseCopyable {
    public private(set) var raw = OptionBytes()
    public private(set) var windowScale: UInt8?
    public private(set) var sackPermitted = false
    public private(set) var mss: UInt16?
    public private(set) var timestampValue: UInt32?
    public private(set) var timestampEchoReply: UInt32?
    private var storedSackBlockCount: UInt8 = 0
    /// Whether an option has an impossible length, and where the options start in the frame.
    /// (The error itself is rebuilt on demand: keeping it inline would double the header's
    /// size, and every decoded packet is moved a few times.)
    private(set) var isMalformed = false
    /// The capture ended inside the options: those not listed may still have been sent.
    public internal(set) var isCut = false
    private var frameOffset: UInt32 = 0

    /// How many SACK blocks the segment carries (at most 4 fit).
    public var sackBlockCount: Int {
        get { Int(storedSackBlockCount) }
        set { storedSackBlockCount = UInt8(truncatingIfNeeded: newValue) }
    }

    /// Set when an option's length byte is impossible; options after it are not decoded.
    public var problem: DecodeError? {
        guard isMalformed else { return nil }
        return raw.withBytes { bytes in
            var scratch = TCPOptions()
            return scratch.scan(bytes, offset: Int(frameOffset))
        }
    }

    public var isEmpty: Bool { raw.isEmpty }

    init() {}

    /// No options: what a 20-byte header has.
    @inline(__always)
    mutating func removeAll() {
        raw.removeAll()
        windowScale = nil
        sackPermitted = false
        mss = nil
        timestampValue = nil
        timestampEchoReply = nil
        storedSackBlockCount = 0
        isMalformed = false
        isCut = false
        frameOffset = 0
    }

    /// Decodes the `count` option bytes at `offset` of the frame in place, replacing what was
    /// held.
    /// `cut`: the capture ended inside the options; an option it cut is not an error, and
    /// `isCut` tells the tracker that options it never saw may have been there.
    @inline(__always)
    mutating func decode(_ view: ByteView, at offset: Int, count: Int, cut: Bool = false) {
        removeAll()
        isCut = cut
        frameOffset = UInt32(truncatingIfNeeded: offset)
        // Linux puts exactly NOP, NOP, timestamps on every segment after the handshake: read
        // that layout directly, and walk the list only for anything else.
        if count == 12, view.u32Native(offset) == UInt32(bigEndian: 0x0101_080A) {
            raw.replace(twelveBytes: view.u64Native(offset), view.u32Native(offset + 8))
            timestampValue = view.u32(offset + 4)
            timestampEchoReply = view.u32(offset + 8)
            return
        }
        let bytes = view.slice(offset, count)
        raw.replace(with: bytes)
        let problem = scan(bytes, offset: offset)
        // An option that runs past the end of a cut capture was cut, not malformed.
        if cut, case .badLength(.tcpOptionPastEnd, _, _)? = problem?.problem { return }
        if cut, case .truncated? = problem?.problem { return }
        isMalformed = problem != nil
    }

    /// Walks the options, recording the ones a connection negotiates; returns the first
    /// impossible length, after which nothing more is decoded.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer, offset: Int) -> DecodeError? {
        var index = 0
        let view = ByteView(bytes: bytes)
        while index < bytes.count {
            let kind = bytes[index]
            if kind == 0 { break }
            if kind == 1 { index += 1; continue }
            guard index + 1 < bytes.count else {
                return DecodeError(.tcpOptions, at: offset + index, .truncated(needed: 2, available: 1))
            }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.count else {
                return DecodeError(.tcpOptions, at: offset + index + 1, (length < 2 ? .badLength(.tcpOptionTooShort(kind: kind), value: length, limit: 2) : .badLength(.tcpOptionPastEnd(kind: kind), value: length, limit: bytes.count - index)))
            }
            switch (kind, length) {
            case (2, 4): mss = view.u16(index + 2)
            case (3, 3): windowScale = bytes[index + 2]
            case (4, 2): sackPermitted = true
            case (5, _) where (length - 2) % 8 == 0: sackBlockCount = (length - 2) / 8
            case (8, 10):
                timestampValue = view.u32(index + 2)
                timestampEchoReply = view.u32(index + 6)
            case (2, _), (3, _), (4, _), (5, _), (8, _):
                return DecodeError(.tcpOptions, at: offset + index + 1, .badLength(.tcpOptionWrongSize(kind: kind), value: length, limit: 0))
            default: break
            }
            index += length
        }
        return nil
    }

    /// Every option in the order sent. Builds an array: for display, not for the hot path.
    public var list: [TCPOption] {
        var options: [TCPOption] = []
        let bytes = raw.array  // for display: an array is fine here
        var index = 0
        while index < bytes.count {
            let kind = bytes[index]
            if kind == 0 { options.append(.endOfList); break }
            if kind == 1 { options.append(.noOperation); index += 1; continue }
            guard index + 1 < bytes.count else { break }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.count else { break }
            let data = Array(bytes[(index + 2)..<(index + length)])
            func u32(_ at: Int) -> UInt32 { data[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
            switch (kind, length) {
            case (2, 4): options.append(.maximumSegmentSize(UInt16(data[0]) << 8 | UInt16(data[1])))
            case (3, 3): options.append(.windowScale(data[0]))
            case (4, 2): options.append(.sackPermitted)
            case (5, _) where (length - 2) % 8 == 0:
                options.append(.sack(stride(from: 0, to: data.count, by: 8).map { SACKBlock(left: u32($0), right: u32($0 + 4)) }))
            case (8, 10): options.append(.timestamps(value: u32(0), echoReply: u32(4)))
            default: options.append(.unknown(kind: kind, data: data))
            }
            index += length
        }
        return options
    }

    /// The SACK blocks, if the segment carries any.
    public var sackBlocks: [SACKBlock] {
        for option in list { if case .sack(let blocks) = option { return blocks } }
        return []
    }
}
