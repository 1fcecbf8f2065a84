import CZlib

/// A gzip-compressed file inflated as it is read (zlib's inflate, gzip and zlib headers both,
/// members one after another as `cat a.gz b.gz` makes them). Why zlib and not a Swift
/// package: none of the offline packages inflates, and zlib is what tshark uses for the same
/// files. Memory is one 64 KiB input buffer and zlib's 32 KiB window, whatever the file.
final class GzipStream {
    private let descriptor: Int32
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    private var finished = false

    /// Starts inflating; `alreadyRead` is what the reader took from the file before it saw the
    /// gzip magic (the start of the compressed stream).
    init(descriptor: Int32, alreadyRead: UnsafeRawBufferPointer) throws(CaptureFormatReader.Failure) {
        self.descriptor = descriptor
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1 << 16, alreadyRead.count), alignment: 16)
        // z_stream points back at itself inside zlib's state, so it lives at a fixed address.
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        if alreadyRead.count > 0 { input.copyMemory(from: alreadyRead) }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(alreadyRead.count)
        guard socketlab_inflate_init(stream) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw .notACapture("zlib could not start inflating the gzip file (out of memory)")
        }
    }

    func release() {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    /// Inflates into `room`; the number of bytes written, 0 at the end of the last member.
    func read(into room: UnsafeMutableRawBufferPointer) throws(CaptureFormatReader.Failure) -> Int {
        guard !finished else { return 0 }
        stream.pointee.next_out = room.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(room.count)
        while produced(room) == 0 {
            if stream.pointee.avail_in == 0 && !inputEnded { try refill() }
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress: more input is needed, and there is none.
                guard inputEnded && stream.pointee.avail_in == 0 else { continue }
                throw .damaged("the gzip file ends inside its compressed data")
            case Z_STREAM_END:
                // Another member may follow (`cat a.gz b.gz`); anything else ends the file,
                // as gzip -d ignores trailing zeros.
                if stream.pointee.avail_in == 0 && !inputEnded { try refill() }
                guard stream.pointee.avail_in > 0, stream.pointee.next_in.pointee == 0x1F else {
                    finished = true
                    return produced(room)
                }
                inflateReset(stream)
            case Z_DATA_ERROR:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "corrupt data"
                throw .damaged("the gzip data is damaged (zlib: \(message))")
            case Z_MEM_ERROR:
                throw .damaged("zlib ran out of memory inflating the file")
            default:
                throw .damaged("zlib's inflate failed (status \(status))")
            }
        }
        return produced(room)
    }

    private func produced(_ room: UnsafeMutableRawBufferPointer) -> Int { room.count - Int(stream.pointee.avail_out) }

    private func refill() throws(CaptureFormatReader.Failure) {
        let got = try readRetryingEINTR(descriptor, into: input)
        if got == 0 { inputEnded = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(got)
    }
}
