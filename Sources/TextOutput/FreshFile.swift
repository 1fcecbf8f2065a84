#if canImport(Glibc)
import Glibc
#endif

/// Files a tool writes in the student's folder (a capture, a server's log), opened the way a
/// setuid program must open them, since students run these tools with sudo: a symbolic link
/// is never followed (a planted `labcheck-05.pcap -> /etc/shadow` must not be overwritten by
/// root), and with `.fresh` an existing file is never replaced: the next free name is taken
/// (`labcheck-05-2.pcap`) and the caller says where the file went.
public enum FreshFile {
    public enum Mode: Sendable {
        /// A new file: `name-2.ext`, `name-3.ext`… when the name is taken.
        case fresh
        /// The name asked for, replacing a regular file there (as `tcpdump -w` does), but
        /// never through a symbolic link.
        case replace
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String { "cannot write \(path): \(reason)" }

        /// Why, and what to do.
        public var reason: String {
            switch errno {
            case ELOOP: "it is a symbolic link, and a file is never written through one (remove it, or choose another name)"
            case EACCES, EPERM: "this folder is not writable by you (\(String(cString: strerror(errno)))); run from a folder you own"
            case ENOENT: "its folder does not exist"
            case EISDIR: "it is a folder"
            default: String(cString: strerror(errno))
            }
        }
    }

    /// Opens `path` for writing (close-on-exec); returns the descriptor and the path used.
    public static func open(_ path: String, mode: Mode = .fresh, permissions: mode_t = 0o644) throws(Failure) -> (descriptor: Int32, path: String) {
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (mode == .fresh ? O_EXCL : O_TRUNC)
        for attempt in 1...1000 {
            let candidate = attempt == 1 ? path : numbered(path, attempt)
            let descriptor = Glibc.open(candidate, flags, permissions)
            // (A path the user named may be a device: `--write /dev/null` is how a handout
            // says "no file", as with tcpdump -w.)
            if descriptor >= 0 { return (descriptor, candidate) }
            let error = errno
            if mode == .fresh && error == EEXIST { continue }
            throw Failure(path: candidate, errno: error)
        }
        throw Failure(path: path, errno: EEXIST)
    }

    /// Writes `text` to `path` (opened as `open` does) and closes it: a chart, a page, a
    /// results file, a key (`permissions` 0o600). Returns the path used.
    @discardableResult
    public static func write(_ text: String, to path: String, mode: Mode = .replace, permissions: mode_t = 0o644) throws(Failure) -> String {
        let (descriptor, used) = try open(path, mode: mode, permissions: permissions)
        defer { Glibc.close(descriptor) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(path: used, errno: errno) }
            bytes = bytes.dropFirst(written)
        }
        return used
    }

    /// `mkdtemp(/tmp/PREFIX-XXXXXX)`: a new folder of this user's for a tool's scratch files
    /// (FIFOs, socket files, a token); nil when /tmp refuses.
    public static func temporaryFolder(_ prefix: String) -> String? {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return nil }
        return String(cString: made)
    }

    /// `capture.pcap` → `capture-2.pcap`; `log` → `log-2`.
    static func numbered(_ path: String, _ n: Int) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(path[..<dot]) + "-\(n)" + String(path[dot...])
        }
        return path + "-\(n)"
    }
}
