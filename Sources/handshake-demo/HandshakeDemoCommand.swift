import ArgumentParser
import Capture
#if canImport(Glibc)
import Glibc
#endif
import LabKit
import SocketCore
import ToolSupport

@main
struct HandshakeDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake-demo",
        abstract: "The life of a TCP connection on loopback, one socket call at a time, with its packets and states.",
        discussion: """
            Starts a server and a client in this process on loopback and walks through \
            socket() → bind() → listen() → connect() (SYN, SYN-ACK, ACK) → accept() → data both \
            ways → close (FIN, ACK, FIN, ACK). After each call it draws the packets the call \
            caused, captured live and annotated by the inspector as a ladder (client left, \
            server right), and the states of both sockets (TCP_INFO; TIME-WAIT from the \
            kernel's table). The capture is saved for Wireshark. Without capture privilege it \
            still runs the calls and shows the states. Exit codes: 0 success; 2 bad usage; \
            3 a privilege the demo cannot do without.
            """)

    @Flag(help: "Wait for Enter before each call (for a lecture).")
    var step = false
    @Flag(help: "Connect to a port where nothing listens: the SYN is answered by RST.")
    var refused = false
    @Flag(help: "Close with SO_LINGER 0: RST instead of FIN, no TIME-WAIT.")
    var abort = false
    @Flag(help: "shutdown(SHUT_WR) first: the client stops sending but still receives.")
    var halfClose = false
    @Flag(help: "Over IPv6 (::1) instead of IPv4 (127.0.0.1).")
    var ipv6 = false
    @Option(help: "The server's port (default: one the kernel picks).")
    var port: UInt16 = 0
    @Option(help: "Save the capture here (pcap).")
    var write = "handshake-demo.pcap"
    @Flag(help: "JSON Lines: steps, states and the inspector's packet records.")
    var json = false
    @Flag(help: "No colours.")
    var noColor = false

    func validate() throws {
        if [refused, abort, halfClose].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --refused, --abort, --half-close")
        }
    }

    func run() throws {
        var options = HandshakeDemo.Options()
        options.variant = refused ? .refused : abort ? .abort : halfClose ? .halfClose : .normal
        options.family = ipv6 ? .ipv6 : .ipv4
        options.port = port
        options.step = step
        options.writeTo = write
        options.json = json
        options.color = !noColor && isatty(1) == 1 && getenv("NO_COLOR") == nil
        let demo = HandshakeDemo(options: options, say: { print($0); flushOutput() }, pause: {
            print("   [Enter for the next call]", terminator: "")
            flushOutput()
            _ = readLine()
        })
        var standardError = StandardError()
        if !json { print("SocketLab handshake demo: \(options.variant.rawValue) connection over \(ipv6 ? "IPv6 (::1)" : "IPv4 (127.0.0.1)")") }
        try demo.run()
        if let problem = demo.captureProblem {
            if case .permissionDenied = problem {
                print("handshake-demo: no packet view — capturing needs root or CAP_NET_RAW: run it with sudo, or once: sudo setcap cap_net_raw,cap_net_admin+eip \(realPath(CommandLine.arguments[0]))", to: &standardError)
            } else {
                print("handshake-demo: no packet view — \(problem)", to: &standardError)
            }
        }
    }

    func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func main() { runAsSocketLabTool() }
}
