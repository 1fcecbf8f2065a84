import ArgumentParser
import SocketCore

/// `--host` of every server tool, read the same way: an IPv4 or IPv6 address (`0.0.0.0`,
/// `::`, `127.0.0.1`, `::1`, brackets optional) or a host name, with the tool's port. A Unix
/// path is not a TCP host: a server asked for `unix:` says so instead of making a socket file
/// named `:9000` in the current folder.
public enum ListenAddress {
    public static func resolve(host: String, port: UInt16) throws -> SocketAddress {
        guard !host.hasPrefix("unix:") else {
            throw ValidationError("--host takes an IP address or a host name (0.0.0.0, ::, 127.0.0.1, ::1), not a Unix socket path")
        }
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        guard let address = try SocketAddress.resolve(host: name, port: port).first else {
            throw ValidationError("--host \(host) resolves to no address")
        }
        return address
    }
}
