import Crypto
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A file to send: opened once, its size and permission bits read from the open descriptor
/// (fstat, not stat on the path, so they describe the very file that is read), read in large
/// blocks from any offset.
public final class OutgoingFile {
    public let path: String
    public let size: Int64
    /// Permission bits only (`st_mode & 0o777`): the receiver gives the copy the same.
    public let mode: UInt32
    private let descriptor: FileDescriptor

    public init(path: String) throws(FileProblem) {
        self.path = path
        descriptor = try fileCall("open()", path) { try FileDescriptor.open(FilePath(path), .readOnly) }
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0 else {
            try? descriptor.close()
            throw FileProblem("fstat()", path, SystemPackage.Errno(rawValue: Glibc.errno))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            try? descriptor.close()
            throw FileProblem("open()", path, (status.st_mode & S_IFMT) == S_IFDIR ? .isDirectory : .invalidArgument)
        }
        size = Int64(status.st_size)
        mode = UInt32(status.st_mode) & 0o777
    }

    deinit { try? descriptor.close() }

    /// The last path component: the name the receiver is asked to use.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }

    /// Reads at most `buffer.count` bytes at `offset`; 0 at the end of the file.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FileProblem) -> Int {
        try fileCall("read()", path) { try descriptor.read(fromAbsoluteOffset: offset, into: buffer) }
    }

    /// The SHA-256 state after the first `count` bytes, and its hex digest: the check that a
    /// receiver's partial file is the start of this one.
    public func prefixDigest(_ count: Int64) throws -> (state: SHA256, hex: String) {
        let hasher = try Digest.prefix(count) { offset, buffer in try read(at: offset, into: buffer) }
        return (hasher, Digest.hex(hasher.finalize()))
    }
}
