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
