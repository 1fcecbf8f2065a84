import ExitStatus
import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong opening, filtering or reading a capture, each with the exit
/// code DESIGN.md gives it and a message a student can act on.
public enum CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No permission to capture: exit 3, with the exact sudo / setcap advice.
    case permissionDenied(device: String, detail: String)
    /// No interface of that name (`capture interfaces` lists them).
    case noSuchDevice(String, detail: String)
    /// The BPF filter does not compile: the filter and libpcap's complaint.
    case badFilter(String, detail: String)
    /// A file that cannot be opened or is not a pcap/pcapng file.
    case unreadableFile(path: String, detail: String)
    /// A file cut short: `framesRead` whole frames came before the cut.
    case truncatedFile(path: String, framesRead: Int, detail: String)
    /// A file that cannot be written.
    case unwritableFile(path: String, detail: String)
    /// Any other libpcap failure: the call and its message.
    case libpcap(call: String, detail: String)

    /// DESIGN.md: 2 bad input (file, filter, interface name), 3 missing privilege, 1 otherwise.
    public var exitStatus: ExitStatus {
        switch self {
        case .permissionDenied: .missingPrivilege
        case .noSuchDevice, .badFilter, .unreadableFile, .truncatedFile, .unwritableFile: .badInput
        case .libpcap: .failure
        }
    }

    public var description: String {
        switch self {
        case .permissionDenied(let device, let detail):
            let program = executablePath() ?? "PROGRAM"
            return """
                no permission to capture on \(device) (\(detail)).
                  Capturing packets needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities. Either run it with sudo:
                    sudo \(program) …
                  or give the program the two capabilities once, then run it as yourself:
                    sudo setcap cap_net_raw,cap_net_admin+eip \(program)
                """
        case .noSuchDevice(let device, let detail):
            return "no interface named \(device) (\(detail)); `ip link` or `capture interfaces` lists them, and lo is loopback"
        case .badFilter(let filter, let detail):
            return "the capture filter \"\(filter)\" is not valid BPF syntax: \(detail). Examples: \"tcp port 8080\", \"icmp or udp\", \"host 127.0.0.1 and tcp\" (see man pcap-filter)"
        case .unreadableFile(let path, let detail):
            return "cannot read \(path) as a capture: \(detail). SocketLab reads pcap and pcapng files (tcpdump -w, Wireshark, dumpcap)"
        case .truncatedFile(let path, let framesRead, let detail):
            return "\(path) is cut short after \(framesRead) whole frame\(framesRead == 1 ? "" : "s") (\(detail)); everything before the cut was read"
        case .unwritableFile(let path, let detail):
            return "cannot write \(path): \(detail)"
        case .libpcap(let call, let detail):
            return "\(call) failed: \(detail)"
        }
    }
}

/// The running program's path, for advice such as "setcap … /path/to/inspector".
private func executablePath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// libpcap's error text for a handle (`pcap_geterr`).
func lastError(_ handle: OpaquePointer) -> String {
    String(cString: pcap_geterr(handle))
}
