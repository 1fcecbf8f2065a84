#if canImport(Glibc)
import Glibc
#endif
import CLinux
import SocketCore

/// The network namespaces `scripts/twohosts` makes (`slab-a` at 10.99.0.1, `slab-b` at
/// 10.99.0.2), entered by the calling thread. A socket stays in the namespace it was created
/// in, so one process can hold a server socket on host B and a client socket on host A.
public struct TwoHosts: Sendable {
    public static let a = "slab-a", b = "slab-b"
    public static let addressA = "10.99.0.1", addressB = "10.99.0.2"

    /// Whether the topology is up.
    public static var isUp: Bool {
        access("/var/run/netns/\(a)", F_OK) == 0 && access("/var/run/netns/\(b)", F_OK) == 0
    }

    /// Moves the calling thread into namespace `name` ("slab-a", or a path such as
    /// /proc/self/ns/net to come back).
    public static func enter(_ name: String) throws(SocketError) {
        let path = name.hasPrefix("/") ? name : "/var/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SocketError.system(call: "open(\(path))", errno: Errno(rawValue: errno), address: nil) }
        defer { close(fd) }
        guard socketlab_enter_network_namespace(fd) == 0 else {
            throw SocketError.system(call: "setns(\(path))", errno: Errno(rawValue: errno), address: nil)
        }
    }
}
