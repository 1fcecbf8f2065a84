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
public struct TCPOptions: Hashable, Sendable {
    public private(set) var raw = OptionBytes()
    public private(set) var mss: UInt16?
    public private(set) var windowScale: UInt8?
    public private(set) var sackPermitted = false
    public private(set) var timestampValue: UInt32?
    public private(set) var timestampEchoReply: UInt32?
    /// How many SACK blocks the segment carries (at most 4 fit).
    public private(set) var sackBlockCount = 0
    /// Set when an option's length byte is impossible; options after it are not decoded.
    public private(set) var problem: DecodeError?

    public var isEmpty: Bool { raw.isEmpty }

    init() {}

    /// `bytes` are the option bytes; `offset` is where they start in the frame (for errors).
    init(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        raw = OptionBytes(bytes)
        var index = 0
        while index < bytes.count {
            let kind = bytes[index]
            if kind == 0 { break }
            if kind == 1 { index += 1; continue }
            guard index + 1 < bytes.count else {
                problem = DecodeError(.tcpOptions, at: offset + index, .truncated(needed: 2, available: 1))
                break
            }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.count else {
                problem = DecodeError(.tcpOptions, at: offset + index + 1, .badLength(
                    field: "length of option kind \(kind)", value: length,
                    reason: length < 2 ? "an option's length counts its kind and length bytes, so at least 2" : "runs past the end of the TCP header"))
                break
            }
            let view = ByteView(bytes: bytes)
            switch (kind, length) {
            case (2, 4): mss = view.u16(index + 2)
            case (3, 3): windowScale = bytes[index + 2]
            case (4, 2): sackPermitted = true
            case (5, _) where (length - 2) % 8 == 0: sackBlockCount = (length - 2) / 8
            case (8, 10):
                timestampValue = view.u32(index + 2)
                timestampEchoReply = view.u32(index + 6)
            case (2, _), (3, _), (4, _), (5, _), (8, _):
                problem = DecodeError(.tcpOptions, at: offset + index + 1, .badLength(
                    field: "length of option kind \(kind)", value: length, reason: "that option has a fixed size"))
            default: break
            }
            if problem != nil { break }
            index += length
        }
    }

    /// Every option in the order sent. Builds an array: for display, not for the hot path.
    public var list: [TCPOption] {
        var options: [TCPOption] = []
        let bytes = raw.array
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
