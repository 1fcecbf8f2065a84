import Foundation
import SocketCore

/// The kernel's own table of TCP sockets (/proc/net/tcp and tcp6, what `ss -tan` reads):
/// the state of a connection even after its descriptor is closed. TIME-WAIT lives only here:
/// Linux hands a closing connection to a small timewait entry, and the socket itself then
/// reports CLOSED through TCP_INFO.
public enum KernelTCPTable {
    public static func state(local: SocketAddress, remote: SocketAddress) -> TCPState? {
        let path = local.family == .ipv4 ? "/proc/net/tcp" : "/proc/net/tcp6"
        // Line by line with getline: a proc file reports size 0, and a whole-file read can stop
        // after the first chunk once the table is long (a busy machine, many TIME-WAITs).
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        let wantLocal = encode(local), wantRemote = encode(remote)
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        while getline(&buffer, &capacity, file) > 0, let buffer {
            let fields = String(cString: buffer).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count > 3, fields[1] == wantLocal, fields[2] == wantRemote,
                  let raw = UInt8(fields[3], radix: 16) else { continue }
            return TCPState(rawValue: raw)
        }
        return nil
    }

    /// The TCP ports the processes `pids` listen on: the LISTEN rows of /proc/net/tcp and
    /// tcp6 whose socket inode one of them holds open (/proc/PID/fd → socket:[inode]), which is
    /// how `ss -ltnp` finds a socket's owner. A student's server on the wrong port is then
    /// named with the port it did pick.
    public static func listeningPorts(of pids: [pid_t]) -> [UInt16] {
        var inodes = Set<String>()
        for pid in pids {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for entry in entries {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)"),
                      target.hasPrefix("socket:[") else { continue }
                inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
            }
        }
        guard !inodes.isEmpty else { return [] }
        var ports = Set<UInt16>()
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var buffer: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(buffer) }
            while getline(&buffer, &capacity, file) > 0, let buffer {
                // sl local remote st tx:rx tr:when retrnsmt uid timeout inode
                let fields = String(cString: buffer).split(whereSeparator: { $0 == " " || $0 == "\n" })
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
                      let colon = fields[1].lastIndex(of: ":"), let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
                ports.insert(port)
            }
        }
        return ports.sorted()
    }

    /// `0100007F:1F90` for 127.0.0.1:8080: each 32-bit word of the address as the machine
    /// stores it (little-endian here), in hex; the port in hex.
    static func encode(_ address: SocketAddress) -> Substring {
        let port = String(format: "%04X", address.port ?? 0)
        var bytes: [UInt8] = []
        switch address {
        case .ipv4(let ip, _): bytes = withUnsafeBytes(of: ip.value.bigEndian) { Array($0) }
        case .ipv6(let ip, _, _): bytes = withUnsafeBytes(of: ip.high.bigEndian) { Array($0) } + withUnsafeBytes(of: ip.low.bigEndian) { Array($0) }
        default: return ""
        }
        var text = ""
        for word in stride(from: 0, to: bytes.count, by: 4) {
            for byte in bytes[word..<word + 4].reversed() { text += String(format: "%02X", byte) }
        }
        return Substring(text + ":" + port)
    }
}
