import Packets
#if canImport(Glibc)
import Glibc
#endif

/// A pcap or pcapng file opened for reading (told apart by their magic number), read by
/// `CaptureFormatReader` as tshark reads it (see there why not by libpcap). Timestamps come in
/// nanoseconds whatever the file holds.
public final class CaptureFile {
    public let path: String
    /// The link type of the file (pcap) or of its first interface (pcapng); a frame of another
    /// interface carries its own in `FrameView.linkType`.
    public let linkType: LinkType
    public let snapshotLength: Int
    private let descriptor: Int32
    private var reader: CaptureFormatReader
    private var framesRead = 0
    private var failed: CaptureError?

    private let ownsDescriptor: Bool

    /// Opens `path`; `-` reads standard input (`tcpdump -w - | inspector read -`).
    public convenience init(path: String) throws(CaptureError) {
        if path == "-" {
            try self.init(descriptor: 0, name: "standard input", owned: false)
            return
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadableFile(path: path, detail: String(cString: strerror(errno)))
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw .unreadableFile(path: path, detail: "it is a folder")
        }
        try self.init(descriptor: descriptor, name: path, owned: true)
    }

    /// Reads a capture from an open descriptor (a pipe, a socket, a file), named `name` in
    /// messages; `owned`: closed when this is released (also when the init throws).
    public init(descriptor: Int32, name: String, owned: Bool) throws(CaptureError) {
        path = name
        ownsDescriptor = owned
        do throws(CaptureFormatReader.Failure) {
            reader = try CaptureFormatReader(descriptor: descriptor)
        } catch {
            if owned { close(descriptor) }
            switch error {
            case .notACapture(let detail), .damaged(let detail): throw .unreadableFile(path: name, detail: detail)
            }
        }
        self.descriptor = descriptor
        linkType = reader.linkType
        snapshotLength = reader.snapshotLength
    }

    deinit {
        reader.release()
        if ownsDescriptor { close(descriptor) }
    }

    /// Calls `body` for each frame in order, with the bytes borrowed from the read buffer.
    /// A file cut short delivers every whole frame before the cut, then throws `truncatedFile`.
    public func forEach(_ body: (FrameView) -> Void) throws(CaptureError) {
        while let frame = try nextView() { body(frame) }
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
        if let failed { throw failed }
        do throws(CaptureFormatReader.Failure) {
            guard let record = try reader.next() else { return nil }
            framesRead += 1
            return FrameView(timestamp: record.timestamp, originalLength: record.originalLength, bytes: record.bytes,
                             number: framesRead, linkType: record.linkType == linkType ? nil : record.linkType)
        } catch {
            let detail: String
            switch error {
            case .notACapture(let text), .damaged(let text): detail = text
            }
            let failure = CaptureError.truncatedFile(path: path, framesRead: framesRead, detail: detail)
            failed = failure
            throw failure
        }
    }
}
