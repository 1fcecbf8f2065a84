/// How a SocketLab tool ends, the contract of DESIGN.md written once: every error type says
/// which of these it means, and every tool exits with its raw value. A script, a Makefile
/// and an autograder can rely on it.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// 0: everything worked; every check passed.
    case success = 0
    /// 1: a check or a lab failed, or a network operation did (refused, timed out, reset).
    case failure = 1
    /// 2: bad usage or bad input: an unknown option, a port out of range, a malformed
    /// address, an unknown host, a truncated capture, a malformed answers file.
    case badInput = 2
    /// 3: a missing privilege (raw sockets and live capture need root or CAP_NET_RAW); the
    /// message says how to get it.
    case missingPrivilege = 3
}

/// An error that knows which status its tool ends with. `runAsSocketLabTool` prints its
/// description and exits with `exitStatus`, so a new error type needs no new catch clause.
public protocol ExitStatusError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}
