/// Bounds-checked big-endian reads over a captured frame. Every decoder checks its header's
/// length once (`require`) and then reads fields with unchecked loads inside that range, so a
/// short frame becomes a `DecodeError`, never an out-of-bounds read.
struct ByteView {
    let bytes: UnsafeRawBufferPointer

    var count: Int { bytes.count }

    /// Throws unless `length` bytes starting at `offset` were captured.
    @inline(__always)
    func require(_ length: Int, at offset: Int, _ layer: DecodeError.Layer) throws(DecodeError) {
        guard offset >= 0, length >= 0, offset <= bytes.count, bytes.count - offset >= length else {
            throw DecodeError(layer, at: offset, .truncated(needed: length, available: max(0, bytes.count - offset)))
        }
    }

    @inline(__always) func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    @inline(__always) func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func u16LittleEndian(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) func u32Native(_ offset: Int) -> UInt32 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }
    @inline(__always) func u64Native(_ offset: Int) -> UInt64 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }
    @inline(__always) func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }
}
