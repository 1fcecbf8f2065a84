import ExitStatus
import SocketCore

/// A failure of the machinery a lab runs on — starting a program, a network namespace, a
/// topology step — with a hint a student or a course maintainer can act on. Not a
/// `SocketError`: none of these is a socket call, and an errno is given only where the kernel
/// gave one.
public enum HostError: Error, Sendable, CustomStringConvertible {
    /// posix_spawn() failed: the program is missing or not executable.
    case spawnFailed(program: String, errno: Errno)
    /// Entering a network namespace failed (open or setns).
    case namespaceUnavailable(name: String, call: String, errno: Errno)
    /// A command that builds or changes a topology exited with an error.
    case stepFailed(command: String, output: String)
    /// Topologies need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN).
    case notPrivileged(what: String)
    /// The named topology is not up.
    case notUp(topology: String)
    /// A host or interface the topology does not have.
    case unknownHost(String, known: [String])
    /// A loss or rate out of range.
    case badValue(String)

    public var description: String {
        switch self {
        case .spawnFailed(let program, let errno):
            "could not start \(program): \(errno.name) (\(errno.message))"
                + (errno == .ENOENT ? " — is it installed and on PATH?" : "")
        case .namespaceUnavailable(let name, let call, let errno):
            "\(call) for network namespace \(name) failed: \(errno.name) (\(errno.message))"
                + (errno == .ENOENT ? " — is the topology up? (sudo scripts/twohosts up)" : errno == .EPERM ? " — entering a namespace needs root" : "")
        case .stepFailed(let command, let output):
            "\(command) failed: \(output.isEmpty ? "no output" : output)"
        case .notPrivileged(let what):
            "\(what) needs root (network namespaces, veth, nftables): run it with sudo"
        case .notUp(let topology):
            "the \(topology) topology is not up: sudo topology up \(topology)"
        case .unknownHost(let name, let known):
            "no host \(name.debugDescription) here; the hosts are \(known.joined(separator: ", "))"
        case .badValue(let text):
            text
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .notPrivileged: .missingPrivilege
        case .namespaceUnavailable(_, _, let errno) where errno == .EPERM: .missingPrivilege
        case .unknownHost, .badValue: .badInput
        default: .failure
        }
    }
}
