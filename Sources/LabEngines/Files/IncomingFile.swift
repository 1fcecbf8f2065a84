import Crypto
import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A file arriving in a served folder. The bytes go to `.NAME.part` (created 0600, never
/// through a symlink, locked with flock(2) so that two senders of one name cannot interleave)
/// and the real name appears only in `finish`, by rename(2) or link(2), after the SHA-256 of
/// what was written matched the sender's. A transfer cut short leaves only the partial file,
/// which a resumed transfer continues.
public final class IncomingFile {
    public let folder: String
    public let name: FileName
    /// Bytes the partial file held when it was opened: what a resume can build on.
    public let heldBytes: Int64
    public private(set) var written: Int64 = 0
    private let descriptor: FileDescriptor
    private var hasher = SHA256()
    /// The digest state after the held bytes, once `heldDigest()` has read them.
    private var heldHasher: SHA256?
    private var open = true

    var partialPath: String { folder + "/" + name.partial }
    public var finalPath: String { folder + "/" + name.value }

    /// Opens the partial file for `name` in `folder`. Refuses a name that exists already
    /// (unless `overwrite`), a name another transfer is writing, and `size` bytes that would
    /// not fit on the disk or are over `maxSize`.
    public init(folder: String, name: FileName, size: Int64, maxSize: Int64, overwrite: Bool) throws(StoreRefusal) {
        self.folder = folder
        self.name = name
        guard size <= maxSize else { throw .tooLarge(size: size, limit: maxSize) }
        if !overwrite && access(folder + "/" + name.value, F_OK) == 0 { throw .exists(name.value) }
        let path = folder + "/" + name.partial
        do {
            descriptor = try fileCall("open()", path) {
                try FileDescriptor.open(FilePath(path), .readWrite, options: [.create, .noFollow], permissions: [.ownerReadWrite])
            }
        } catch { throw .file(error) }
        if flock(descriptor.rawValue, LOCK_EX | LOCK_NB) != 0 {
            try? descriptor.close()
            throw .busy(name.value)
        }
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            try? descriptor.close()
            throw .file(FileProblem("fstat()", path, .invalidArgument))
        }
        heldBytes = Int64(status.st_size)
        var space = statvfs()
        if statvfs(folder, &space) == 0 {
            let free = Int64(space.f_bavail) * Int64(space.f_frsize) + heldBytes
            if size > free {
                try? descriptor.close()
                throw .noSpace(needed: size, free: free)
            }
        }
    }

    deinit { if open { try? descriptor.close() } }

    /// The SHA-256 of the bytes the partial file holds: the sender compares it with the
    /// start of its own file before it continues from there (same size is not same bytes).
    public func heldDigest() throws -> String {
        let prefix = try Digest.prefix(heldBytes) { offset, buffer in
            try fileCall("read()", partialPath) { try descriptor.read(fromAbsoluteOffset: offset, into: buffer) }
        }
        heldHasher = prefix
        return Digest.hex(prefix.finalize())
    }

    /// Starts writing at `offset`: 0 for a fresh transfer, `heldBytes` to resume (after
    /// `heldDigest()`). Anything past `offset` is cut off first.
    public func begin(at offset: Int64) throws(FileProblem) {
        if offset > 0, offset == heldBytes, let heldHasher {
            hasher = heldHasher
        } else {
            hasher = SHA256()
            precondition(offset == 0, "resume only from the held bytes, after heldDigest()")
        }
        try fileCall("ftruncate()", partialPath) { try descriptor.resize(to: offset) }
        _ = try fileCall("lseek()", partialPath) { try descriptor.seek(offset: offset, from: .start) }
        written = offset
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileProblem) {
        guard !bytes.isEmpty else { return }
        _ = try fileCall("write()", partialPath) { try descriptor.writeAll(bytes) }
        hasher.update(bufferPointer: bytes)
        written += Int64(bytes.count)
    }

    /// The SHA-256 of everything written so far (held prefix included).
    public var digest: String { Digest.hex(hasher.finalize()) }

    /// Compares the digest with `expected` (TFTP has none to compare); on a match makes the
    /// file durable (fsync), gives it `mode` (permission bits only: never set-uid) and puts it
    /// under its real name. On a mismatch the partial file is removed: its bytes are wrong
    /// somewhere, so no resume.
    @discardableResult
    public func finish(expectedDigest expected: String?, mode: UInt32, overwrite: Bool) throws(StoreRefusal) -> String {
        let actual = digest
        if let expected, actual != expected.lowercased() {
            discard()
            throw .digestMismatch(received: actual, sent: expected)
        }
        do {
            try fileCall("fsync()", partialPath) { if fsync(descriptor.rawValue) != 0 { throw SystemPackage.Errno(rawValue: Glibc.errno) } }
            _ = fchmod(descriptor.rawValue, mode_t(mode & 0o777))
            try fileCall(overwrite ? "rename()" : "link()", finalPath) {
                if overwrite {
                    if rename(partialPath, finalPath) != 0 { throw SystemPackage.Errno(rawValue: Glibc.errno) }
                } else {
                    // link() fails with EEXIST instead of replacing a file that appeared
                    // meanwhile; rename() would replace it silently.
                    if link(partialPath, finalPath) != 0 { throw SystemPackage.Errno(rawValue: Glibc.errno) }
                    unlink(partialPath)
                }
            }
        } catch let problem {
            if problem.errno == .fileExists { discard(); throw .exists(name.value) }
            throw .file(problem)
        }
        syncFolder()
        close()
        return actual
    }

    /// Closes the partial file and keeps it, for a resume (the sender vanished).
    public func close() {
        guard open else { return }
        open = false
        try? descriptor.close()
    }

    /// Removes the partial file.
    public func discard() {
        unlink(partialPath)
        close()
    }

    /// fsync on the folder, so the new name survives a crash as well as the bytes do.
    private func syncFolder() {
        let folderDescriptor = Glibc.open(folder, O_RDONLY | O_DIRECTORY)
        guard folderDescriptor >= 0 else { return }
        fsync(folderDescriptor)
        Glibc.close(folderDescriptor)
    }
}

/// Why a served folder will not take a file, before or after its bytes: each is one line to
/// the sender (TCP transfer's REFUSED, TFTP's ERROR code and message) and to the log.
public enum StoreRefusal: Error, Sendable, CustomStringConvertible {
    case name(FileNameRefusal)
    case exists(String)
    case busy(String)
    case tooLarge(size: Int64, limit: Int64)
    case noSpace(needed: Int64, free: Int64)
    case notFound(String)
    case digestMismatch(received: String, sent: String)
    case file(FileProblem)

    public var description: String {
        switch self {
        case .name(let refusal): refusal.description
        case .exists(let name): "\(name) exists already in the receiver's folder (the sender may replace it only with --overwrite, and the receiver must allow it with --overwrite)"
        case .busy(let name): "another transfer is writing \(name) right now"
        case .tooLarge(let size, let limit): "the file is \(size) bytes, over the receiver's limit of \(limit) bytes (--max-size)"
        case .noSpace(let needed, let free): "the file is \(size: needed) and the receiver's disk has \(size: free) free"
        case .notFound(let name): "\(name) does not exist in the served folder"
        case .digestMismatch(let received, let sent): "the SHA-256 of the bytes received (\(received.prefix(16))…) is not the sender's (\(sent.prefix(16))…): the file was changed on the way or on disk; nothing was saved"
        case .file(let problem): problem.description
        }
    }
}

extension DefaultStringInterpolation {
    /// "1.5 MB", "20 bytes": sizes in decimal units, as `df -H` and the progress line write them.
    mutating func appendInterpolation(size bytes: Int64) {
        appendLiteral(ByteCount.text(bytes))
    }
}

/// Sizes and rates for people: decimal units (1 MB = 1,000,000 bytes), as network rates are.
public enum ByteCount {
    public static func text(_ bytes: Int64) -> String {
        let value = Double(bytes)
        if bytes < 1000 { return "\(bytes) bytes" }
        for (limit, unit) in [(1e6, "kB"), (1e9, "MB"), (1e12, "GB")] where value < limit {
            return format(value / (limit / 1000)) + " " + unit
        }
        return format(value / 1e12) + " TB"
    }

    public static func rate(_ bytesPerSecond: Double) -> String {
        guard bytesPerSecond.isFinite, bytesPerSecond >= 0 else { return "-" }
        return text(Int64(bytesPerSecond)).replacingOccurrences(of: " bytes", with: " B") + "/s"
    }

    static func format(_ value: Double) -> String {
        let digits = value < 10 ? 2 : value < 100 ? 1 : 0
        var text = String(Int((value * pow(10, Double(digits))).rounded()))
        if digits > 0 {
            while text.count <= digits { text = "0" + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
        }
        return text
    }
}

/// SHA-256 digests as lowercase hex, the form `sha256sum` prints.
public enum Digest {
    public static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// The SHA-256 state after the first `count` bytes that `read(offset, buffer)` gives (in
    /// 1 MiB reads; fewer bytes if the file is shorter): the prefix digests of a resume.
    static func prefix(_ count: Int64, read: (Int64, UnsafeMutableRawBufferPointer) throws -> Int) throws -> SHA256 {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < count {
            let want = Int(min(Int64(buffer.count), count - offset))
            let got = try buffer.withUnsafeMutableBytes { try read(offset, UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            guard got > 0 else { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            offset += Int64(got)
        }
        return hasher
    }

    public static func isHex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }
}
