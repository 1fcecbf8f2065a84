import ArgumentParser
import PacketCapture
#if canImport(Glibc)
import Glibc
#endif
import LabEngines
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

    @Option(help: ArgumentHelp("Be the server of a demo between two machines: listen here and wait.", valueName: "[HOST:]PORT"))
    var server: String?
    @Option(help: ArgumentHelp("Be the client of a demo between two machines: connect to the other's --server.", valueName: "HOST:PORT"))
    var client: String?
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
    @Option(help: "Save the capture here (pcap; default handshake-demo.pcap, or the next free name: an existing file is kept).")
    var write: String?
    @Option(help: "Also draw the connection as a page when it ends: the ladder with each side's state, the time-sequence graphs (inspector read --html).")
    var html: String?
    @Flag(help: "JSON Lines: steps, states and the inspector's packet records.")
    var json = false
    @OptionGroup var color: ColorOption

    func validate() throws {
        if [refused, abort, halfClose].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --refused, --abort, --half-close")
        }
        if server != nil && client != nil { throw ValidationError("one machine is --server, the other --client; not both") }
        if (server != nil || client != nil) && (refused || abort || halfClose) {
            throw ValidationError("the variants run on loopback; between two machines the demo shows the normal life of a connection")
        }
    }

    func run() throws {
        var options = HandshakeDemo.Options()
        options.variant = refused ? .refused : abort ? .abort : halfClose ? .halfClose : .normal
        options.family = ipv6 ? .ipv6 : .ipv4
        if let server {
            // "7000" or ":7000" listen on every address; "10.0.0.5:7000" on that one.
            let text = server.contains(":") ? server : ":" + server
            let spec = text.hasPrefix(":") ? (ipv6 ? "[::]" : "0.0.0.0") + text : text
            options.role = .server(try SocketAddress(spec))
        } else if let client {
            options.role = .client(try SocketAddress.resolve(client, type: .stream).first ?? SocketAddress(client))
        }
        options.port = port
        options.step = step
        options.writeTo = write ?? "handshake-demo.pcap"
        options.writeMode = write == nil ? .fresh : .replace
        options.json = json
        options.color = color.enabled
        options.htmlTo = html
        let demo = HandshakeDemo(options: options, say: { print($0); flushOutput() }, pause: { next in
            print("\n\(next) — press Enter", terminator: "")
            flushOutput()
            _ = readLine()
        })
        var standardError = StandardError()
        if !json {
            switch options.role {
            case .both: print("SocketLab handshake demo: \(options.variant.rawValue) connection over \(ipv6 ? "IPv6 (::1)" : "IPv4 (127.0.0.1)")")
            case .server(let address): print("SocketLab handshake demo: the server side, on \(address)")
            case .client(let address): print("SocketLab handshake demo: the client side, to \(address)")
            }
        }
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
