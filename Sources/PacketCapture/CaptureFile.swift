import CPcap
import Packets

/// A pcap or pcapng file opened for reading (libpcap tells the two apart by their magic
/// number). Timestamps come in nanoseconds whatever the file holds.
public final class CaptureFile {
    public let path: String
    public let linkType: LinkType
    public let snapshotLength: Int
    private let handle: OpaquePointer
    private var framesRead = 0

    public init(path: String) throws(CaptureError) {
        self.path = path
        var error = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &error) else {
            throw .unreadableFile(path: path, detail: String(cBuffer: error))
        }
        self.handle = handle
        linkType = LinkType(pcap_datalink(handle))
        snapshotLength = Int(pcap_snapshot(handle))
    }

    deinit { pcap_close(handle) }

    /// Calls `body` for each frame in order, with the bytes borrowed from libpcap's buffer.
    /// A file cut short delivers every whole frame before the cut, then throws `truncatedFile`.
    ///
    /// One `pcap_loop` over the whole file rather than `pcap_next_ex` per frame: libpcap then
    /// sets up its read once, not once per frame, which is a tenth of a million-frame read.
    public func forEach(_ body: (FrameView) -> Void) throws(CaptureError) {
        let (result, count) = withoutActuallyEscaping(body) { body in
            let loop = Loop(body: body, framesRead: framesRead)
            let result = pcap_loop(handle, -1, { user, header, data in
                guard let user, let header, let data else { return }
                // A borrowed reference: retaining the loop for each of a million frames
                // would cost as much as libpcap's own work per frame.
                Unmanaged<Loop>.fromOpaque(user)._withUnsafeGuaranteedRef { loop in
                    loop.framesRead += 1
                    loop.body(FrameView(header: header.pointee, data: data, number: loop.framesRead))
                }
            }, Unmanaged.passUnretained(loop).toOpaque().assumingMemoryBound(to: UInt8.self))
            return withExtendedLifetime(loop) { (result, loop.framesRead) }
        }
        framesRead = count
        // 0: the end of the file. -2 would be pcap_breakloop, which nothing here calls.
        if result == PCAP_ERROR {
            throw .truncatedFile(path: path, framesRead: framesRead, detail: lastError(handle))
        }
    }

    /// What `pcap_loop`'s C callback needs: the body, and the frame count it advances.
    private final class Loop {
        let body: (FrameView) -> Void
        var framesRead: Int
        init(body: @escaping (FrameView) -> Void, framesRead: Int) {
            self.body = body
            self.framesRead = framesRead
        }
    }

    /// The next frame, copied, or nil at the end of the file.
    public func next() throws(CaptureError) -> CapturedFrame? {
        try nextView()?.owned()
    }

    /// Every remaining frame, copied.
    public func readAll() throws(CaptureError) -> [CapturedFrame] {
        var frames: [CapturedFrame] = []
        while let frame = try next() { frames.append(frame) }
        return frames
    }

    private func nextView() throws(CaptureError) -> FrameView? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return nil }
            framesRead += 1
            return FrameView(header: header.pointee, data: data, number: framesRead)
        case PCAP_ERROR_BREAK:
            return nil  // the end of the file
        default:
            throw .truncatedFile(path: path, framesRead: framesRead, detail: lastError(handle))
        }
    }
}

extension FrameView {
    /// A pcap header's `ts.tv_usec` holds nanoseconds when the handle was opened for them.
    init(header: pcap_pkthdr, data: UnsafePointer<UInt8>, number: Int) {
        self.init(
            timestamp: Timestamp(seconds: Int64(header.ts.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: header.ts.tv_usec)),
            originalLength: Int(header.len),
            bytes: UnsafeRawBufferPointer(start: data, count: Int(header.caplen)),
            number: number)
    }
}
