import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An `errno` value with the name a student looks up in `man 2 connect`.
///
/// A student should see `ECONNREFUSED`, not `111`: the name comes from glibc's
/// `strerrorname_np` (through CLinux: a GNU extension Swift's Glibc module leaves out).
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The symbolic name, e.g. `ECONNREFUSED`; `E<number>` for one not in the table.
    public var name: String { socketlab_errno_name(rawValue).map { String(cString: $0) } ?? "E\(rawValue)" }

    /// The C library's one-line text, e.g. "Connection refused".
    public var message: String { String(cString: strerror(rawValue)) }

    /// `ECONNREFUSED (111, Connection refused)`.
    public var description: String { "\(name) (\(rawValue), \(message))" }

    public static let EPERM = Errno(rawValue: Glibc.EPERM)
    public static let ENOENT = Errno(rawValue: Glibc.ENOENT)
    public static let EINTR = Errno(rawValue: Glibc.EINTR)
    public static let EBADF = Errno(rawValue: Glibc.EBADF)
    public static let EAGAIN = Errno(rawValue: Glibc.EAGAIN)
    /// The same number as EAGAIN on Linux; named for code that reads like the man page.
    public static let EWOULDBLOCK = Errno(rawValue: Glibc.EWOULDBLOCK)
    public static let EACCES = Errno(rawValue: Glibc.EACCES)
    public static let EINVAL = Errno(rawValue: Glibc.EINVAL)
    public static let EMFILE = Errno(rawValue: Glibc.EMFILE)
    public static let ENFILE = Errno(rawValue: Glibc.ENFILE)
    public static let ENOBUFS = Errno(rawValue: Glibc.ENOBUFS)
    public static let ENOMEM = Errno(rawValue: Glibc.ENOMEM)
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
    public static let ENXIO = Errno(rawValue: Glibc.ENXIO)
    public static let EEXIST = Errno(rawValue: Glibc.EEXIST)
    public static let EPROTONOSUPPORT = Errno(rawValue: Glibc.EPROTONOSUPPORT)
    public static let ESOCKTNOSUPPORT = Errno(rawValue: Glibc.ESOCKTNOSUPPORT)
}
