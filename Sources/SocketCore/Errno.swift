#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An `errno` value with the name a student looks up in `man 2 connect`.
///
/// glibc's `strerrorname_np` is not visible to Swift, and a student should see
/// `ECONNREFUSED`, not `111`, so the names of the errors sockets meet are listed here.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The symbolic name, e.g. `ECONNREFUSED`; `E<number>` for one not in the table.
    public var name: String { Errno.names[rawValue] ?? "E\(rawValue)" }

    /// The C library's one-line text, e.g. "Connection refused".
    public var message: String { String(cString: strerror(rawValue)) }

    /// `ECONNREFUSED (111, Connection refused)`.
    public var description: String { "\(name) (\(rawValue), \(message))" }

    public static let EPERM = Errno(rawValue: Glibc.EPERM)
    public static let ENOENT = Errno(rawValue: Glibc.ENOENT)
    public static let EINTR = Errno(rawValue: Glibc.EINTR)
    public static let EBADF = Errno(rawValue: Glibc.EBADF)
    public static let EAGAIN = Errno(rawValue: Glibc.EAGAIN)
    public static let EACCES = Errno(rawValue: Glibc.EACCES)
    public static let EINVAL = Errno(rawValue: Glibc.EINVAL)
    public static let EMFILE = Errno(rawValue: Glibc.EMFILE)
    public static let EPIPE = Errno(rawValue: Glibc.EPIPE)
    public static let EMSGSIZE = Errno(rawValue: Glibc.EMSGSIZE)
    public static let EADDRINUSE = Errno(rawValue: Glibc.EADDRINUSE)
    public static let EADDRNOTAVAIL = Errno(rawValue: Glibc.EADDRNOTAVAIL)
    public static let ENETUNREACH = Errno(rawValue: Glibc.ENETUNREACH)
    public static let ECONNABORTED = Errno(rawValue: Glibc.ECONNABORTED)
    public static let ECONNRESET = Errno(rawValue: Glibc.ECONNRESET)
    public static let ENOTCONN = Errno(rawValue: Glibc.ENOTCONN)
    public static let ETIMEDOUT = Errno(rawValue: Glibc.ETIMEDOUT)
    public static let ECONNREFUSED = Errno(rawValue: Glibc.ECONNREFUSED)
    public static let EHOSTUNREACH = Errno(rawValue: Glibc.EHOSTUNREACH)
    public static let EINPROGRESS = Errno(rawValue: Glibc.EINPROGRESS)
    public static let EAFNOSUPPORT = Errno(rawValue: Glibc.EAFNOSUPPORT)

    private static let names: [Int32: String] = [
        Glibc.EPERM: "EPERM", Glibc.ENOENT: "ENOENT", Glibc.EINTR: "EINTR", Glibc.EIO: "EIO",
        Glibc.EBADF: "EBADF", Glibc.EAGAIN: "EAGAIN", Glibc.ENOMEM: "ENOMEM",
        Glibc.EACCES: "EACCES", Glibc.EFAULT: "EFAULT", Glibc.EEXIST: "EEXIST",
        Glibc.ENOTDIR: "ENOTDIR", Glibc.EINVAL: "EINVAL", Glibc.ENFILE: "ENFILE",
        Glibc.EMFILE: "EMFILE", Glibc.ENOSPC: "ENOSPC", Glibc.EPIPE: "EPIPE",
        Glibc.ENAMETOOLONG: "ENAMETOOLONG", Glibc.ENOTSOCK: "ENOTSOCK",
        Glibc.EDESTADDRREQ: "EDESTADDRREQ", Glibc.EMSGSIZE: "EMSGSIZE",
        Glibc.EPROTOTYPE: "EPROTOTYPE", Glibc.ENOPROTOOPT: "ENOPROTOOPT",
        Glibc.EPROTONOSUPPORT: "EPROTONOSUPPORT", Glibc.ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT",
        Glibc.EOPNOTSUPP: "EOPNOTSUPP", Glibc.EAFNOSUPPORT: "EAFNOSUPPORT",
        Glibc.EADDRINUSE: "EADDRINUSE", Glibc.EADDRNOTAVAIL: "EADDRNOTAVAIL",
        Glibc.ENETDOWN: "ENETDOWN", Glibc.ENETUNREACH: "ENETUNREACH",
        Glibc.ENETRESET: "ENETRESET", Glibc.ECONNABORTED: "ECONNABORTED",
        Glibc.ECONNRESET: "ECONNRESET", Glibc.ENOBUFS: "ENOBUFS", Glibc.EISCONN: "EISCONN",
        Glibc.ENOTCONN: "ENOTCONN", Glibc.ESHUTDOWN: "ESHUTDOWN",
        Glibc.ETIMEDOUT: "ETIMEDOUT", Glibc.ECONNREFUSED: "ECONNREFUSED",
        Glibc.EHOSTDOWN: "EHOSTDOWN", Glibc.EHOSTUNREACH: "EHOSTUNREACH",
        Glibc.EALREADY: "EALREADY", Glibc.EINPROGRESS: "EINPROGRESS",
    ]
}
