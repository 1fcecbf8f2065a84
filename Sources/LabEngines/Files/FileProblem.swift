import SystemPackage
import ExitStatus

/// A file operation that failed, named like a SocketError: the call, the path, the errno
/// and what to do about it. Disk full and permission denied are the two a lab meets.
public struct FileProblem: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: SystemPackage.Errno

    public init(_ call: String, _ path: String, _ errno: SystemPackage.Errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        var text = "\(call) \(path) failed: \(errno.rawValue == 0 ? "unknown error" : "\(Self.name(errno)) (\(errno.rawValue), \(errno.description))")"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    public var hint: String? {
        switch errno {
        case .noSpace: "the disk is full: free some space or choose another folder (df -h shows how much is left)"
        case .permissionDenied, .notPermitted: "this user may not write there: choose a folder you own, or fix its permissions (ls -ld)"
        case .noSuchFileOrDirectory: "check the path: the file or its folder does not exist"
        case .isDirectory: "that is a folder, not a file"
        case .readOnlyFileSystem: "the file system is mounted read-only"
        case .tooManyOpenFiles: "this process has too many files open (ulimit -n)"
        default: nil
        }
    }

    public var exitStatus: ExitStatus {
        switch errno {
        case .noSuchFileOrDirectory, .isDirectory: .badInput
        case .permissionDenied, .notPermitted: .missingPrivilege
        default: .failure
        }
    }

    /// ENOSPC, EACCES…: the name a student can look up.
    static func name(_ errno: SystemPackage.Errno) -> String {
        switch errno {
        case .noSpace: "ENOSPC"
        case .permissionDenied: "EACCES"
        case .notPermitted: "EPERM"
        case .noSuchFileOrDirectory: "ENOENT"
        case .isDirectory: "EISDIR"
        case .fileExists: "EEXIST"
        case .readOnlyFileSystem: "EROFS"
        case .tooManyOpenFiles: "EMFILE"
        case .resourceTemporarilyUnavailable: "EWOULDBLOCK"
        case .ioError: "EIO"
        default: "E\(errno.rawValue)"
        }
    }
}

/// Runs one file call, turning swift-system's Errno into a FileProblem that names the call.
@inline(__always)
func fileCall<T>(_ call: String, _ path: String, _ body: () throws -> T) throws(FileProblem) -> T {
    do { return try body() } catch let errno as SystemPackage.Errno {
        throw FileProblem(call, path, errno)
    } catch {
        throw FileProblem(call, path, .ioError)
    }
}

extension FileProblem: ExitStatusError {}

extension StoreRefusal: ExitStatusError {
    public var exitStatus: ExitStatus {
        switch self {
        case .name, .notFound: .badInput
        case .file(let problem): problem.exitStatus
        default: .failure
        }
    }
}
