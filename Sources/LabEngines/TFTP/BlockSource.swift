/// Where a TFTP sender's blocks come from, in order: a file as it is (octet), or a file with
/// its line ends rewritten for the wire (netascii).
protocol BlockSource {
    /// Fills `buffer` with the next bytes, fewer than `buffer.count` only at the end (the
    /// transfer then ends with that block). The sender reads straight into the DATA packet it
    /// will send, so a block costs no allocation and one copy.
    func nextBlock(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension BlockSource {
    /// The next `size` bytes as an array (for tests and for reading a whole block at once).
    func nextBlock(size: Int) throws -> [UInt8] {
        var failure: (any Error)?
        let block = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            do { count = try nextBlock(into: UnsafeMutableRawBufferPointer(buffer)) } catch { failure = error; count = 0 }
        }
        if let failure { throw failure }
        return block
    }
}

/// A file, as it is: RFC 1350's octet mode. Read 256 KiB at a time, so that lock-step's one
/// block per round trip does not also cost one read(2) per block.
final class OctetSource: BlockSource {
    let file: OutgoingFile
    private var offset: Int64 = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
    private var start = 0, end = 0
    private var atEnd = false
    init(_ file: OutgoingFile) { self.file = file }
    deinit { buffer.deallocate() }

    func nextBlock(into block: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < block.count {
            if start == end {
                if atEnd { break }
                let got = try file.read(at: offset, into: buffer)
                if got == 0 { atEnd = true; break }
                offset += Int64(got)
                (start, end) = (0, got)
            }
            let take = min(block.count - filled, end - start)
            (block.baseAddress! + filled).copyMemory(from: buffer.baseAddress! + start, byteCount: take)
            filled += take
            start += take
        }
        return filled
    }
}

/// RFC 1350's netascii, as Telnet (RFC 854) defines it: a line ends in CR LF on the wire and
/// a lone CR is sent as CR NUL. This side's files end lines in LF.
final class NetASCIISource: BlockSource {
    let file: OutgoingFile
    private var offset: Int64 = 0
    private var pending: [UInt8] = []
    private var atEnd = false
    init(_ file: OutgoingFile) { self.file = file }

    func nextBlock(into block: UnsafeMutableRawBufferPointer) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while pending.count < block.count && !atEnd {
            let got = try chunk.withUnsafeMutableBytes { try file.read(at: offset, into: $0) }
            if got == 0 { atEnd = true; break }
            offset += Int64(got)
            for byte in chunk[..<got] {
                switch byte {
                case 0x0A: pending += [0x0D, 0x0A]
                case 0x0D: pending += [0x0D, 0x00]
                default: pending.append(byte)
                }
            }
        }
        let count = min(block.count, pending.count)
        guard count > 0 else { return 0 }
        pending.withUnsafeBytes { block.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        pending.removeFirst(count)
        return count
    }
}

/// netascii back to this side's line ends: CR LF → LF, CR NUL → CR. A CR at the end of one
/// block is held until the next block says what it was.
struct NetASCIIDecoder {
    private var heldCR = false

    mutating func decode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            if heldCR {
                heldCR = false
                switch byte {
                case 0x0A: out.append(0x0A); continue
                case 0x00: out.append(0x0D); continue
                default: out.append(0x0D)  // a bare CR (not netascii, kept as it was)
                }
            }
            if byte == 0x0D { heldCR = true } else { out.append(byte) }
        }
        return out
    }

    /// At the end of the transfer: a CR still held was the last byte.
    mutating func finish() -> [UInt8] {
        defer { heldCR = false }
        return heldCR ? [0x0D] : []
    }
}

/// Where a TFTP receiver's blocks go: the partial file, with netascii's line ends put back,
/// in writes of 256 KiB rather than one write(2) per block — with a window of blocks, the
/// receiver's calls per block are what limits the rate.
final class BlockSink {
    let file: IncomingFile
    let netascii: Bool
    private var decoder = NetASCIIDecoder()
    private var pending: [UInt8] = []
    static let writeSize = 256 << 10

    init(_ file: IncomingFile, netascii: Bool) {
        self.file = file
        self.netascii = netascii
        pending.reserveCapacity(Self.writeSize + 65_536)
    }

    /// One block's payload, as it came.
    func take(_ bytes: ArraySlice<UInt8>) throws {
        if netascii { pending += decoder.decode(bytes) } else { pending += bytes }
        if pending.count >= Self.writeSize { try flush() }
    }

    /// After the last block: everything written (a CR held by netascii too).
    func finish() throws {
        if netascii { pending += decoder.finish() }
        try flush()
    }

    private func flush() throws {
        try pending.withUnsafeBytes { try file.append($0) }
        pending.removeAll(keepingCapacity: true)
    }
}
