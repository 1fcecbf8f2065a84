/// Where a TFTP sender's blocks come from, in order: a file as it is (octet), or a file with
/// its line ends rewritten for the wire (netascii).
protocol BlockSource {
    /// The next `size` bytes, fewer only at the end (then the transfer ends with that block).
    func nextBlock(size: Int) throws -> [UInt8]
}

/// A file, as it is: RFC 1350's octet mode. Read 256 KiB at a time, so that lock-step's one
/// block per round trip does not also cost one read(2) per block.
final class OctetSource: BlockSource {
    let file: OutgoingFile
    private var offset: Int64 = 0
    private var buffer = [UInt8](repeating: 0, count: 256 << 10)
    private var start = 0, end = 0
    private var atEnd = false
    init(_ file: OutgoingFile) { self.file = file }

    func nextBlock(size: Int) throws -> [UInt8] {
        var block: [UInt8] = []
        block.reserveCapacity(size)
        while block.count < size {
            if start == end {
                if atEnd { break }
                let got = try buffer.withUnsafeMutableBytes { try file.read(at: offset, into: $0) }
                if got == 0 { atEnd = true; break }
                offset += Int64(got)
                (start, end) = (0, got)
            }
            let take = min(size - block.count, end - start)
            block.append(contentsOf: buffer[start..<start + take])
            start += take
        }
        return block
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

    func nextBlock(size: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while pending.count < size && !atEnd {
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
        let block = Array(pending.prefix(size))
        pending.removeFirst(block.count)
        return block
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
