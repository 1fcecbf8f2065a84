import ArgumentParser
import LabEngines
import SocketCore
import TextOutput
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct TalkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "talk",
        abstract: "Two machines talking key by key over one TCP connection.",
        discussion: """
            talk listen --port P on one machine, talk connect HOST:PORT on the other; each key goes \
            out as it is pressed and shows on the other screen as it arrives (yours in blue, theirs \
            in green), both ways at once. The terminal is put in raw mode and put back on every way \
            out. Ctrl-D ends the conversation. --nagle on lets small writes wait for the previous \
            one's ACK (Nagle's algorithm); off (the default) sets TCP_NODELAY. talk connect \
            --measure N against talk listen --echo types N keys itself and reports how long each \
            line's echo took. Exit codes: 0 ended here; 1 the peer closed, reset or refused; 2 bad \
            usage.
            """,
        subcommands: [Listen.self, Connect.self])

    static func main() { runAsSocketLabTool() }
}

enum NagleSetting: String, ExpressibleByArgument, CaseIterable {
    case on, off
}

struct Listen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Wait for the other machine's talk connect; then talk.")

    @Option(help: "The port.")
    var port: UInt16
    @Option(help: "The address to listen on (default every address: the other machine must reach it).")
    var bind: String?
    @Flag(help: "Be an echo peer for --measure: send every line back when its newline arrives.")
    var echo = false
    @Flag(help: "Under the conversation, each segment as the inspector's ladder draws it (needs root or CAP_NET_RAW to capture).")
    var showPackets = false
    @Option(help: "Nagle's algorithm: on, or off (TCP_NODELAY, the default).")
    var nagle: NagleSetting = .off
    @OptionGroup var color: ColorOption

    func run() throws {
        let address = try bind.map { try SocketAddress($0.contains(":") && !$0.hasPrefix("[") ? "[\($0)]:\(port)" : "\($0):\(port)") } ?? .any(port, family: .ipv6)
        let listener: Socket
        do {
            listener = try Socket.listening(on: address, backlog: 1)
        } catch {
            // A machine without IPv6 listens on IPv4 alone.
            guard bind == nil, error.errno == .EAFNOSUPPORT else { throw error }
            listener = try Socket.listening(on: .any(port), backlog: 1)
        }
        var standardError = StandardError()
        let packets = showPackets ? try PacketLines(port: port, color: color.enabled) : nil
        print("talk: waiting on \(try listener.localAddress)" + (echo ? " (echo: each line is sent back)" : ""), to: &standardError)
        let (socket, peer) = try listener.accept()
        try listener.close()
        var options = Talk.Options()
        options.nagle = nagle == .on
        options.color = color.enabled
        try Talk.prepare(socket, options: options)
        print("talk: \(peer) is here; Ctrl-D ends", to: &standardError)
        try finish { echo ? try Talk.echoLines(over: socket) : try Talk.converse(over: socket, options: options, packets: packets) { var errors = StandardError(); print($0, to: &errors) } }
    }
}

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Connect to the other machine's talk listen; then talk.")

    @Argument(help: "HOST:PORT of the other machine (IPv4, [IPv6] or a name).")
    var peer: String
    @Option(help: "Nagle's algorithm: on, or off (TCP_NODELAY, the default).")
    var nagle: NagleSetting = .off
    @Flag(help: "Under the conversation, each segment as the inspector's ladder draws it (needs root or CAP_NET_RAW to capture).")
    var showPackets = false
    @Option(help: "Type N keys (every fifth an Enter) against talk listen --echo and report each line's echo time.")
    var measure: Int?
    @Option(help: "With --measure: milliseconds between keys.")
    var interval = 2
    @Flag(help: "With --measure: one JSON object.")
    var json = false
    @OptionGroup var color: ColorOption

    func validate() throws {
        if let measure { try OptionRange.check(measure, 5...1_000_000, "--measure", unit: "keys") }
        try OptionRange.check(interval, 0...10_000, "--interval", unit: "ms")
    }

    func run() throws {
        let addresses = try SocketAddress.resolve(peer, type: .stream)
        let packets = showPackets && measure == nil ? try PacketLines(port: addresses.first?.port ?? 0, color: color.enabled) : nil
        var lastError: (any Error)?
        var connected: Socket?
        for address in addresses {
            do {
                connected = try Socket.connected(to: address, timeout: .seconds(10))
                break
            } catch {
                lastError = error
            }
        }
        guard let socket = connected else { throw lastError ?? ValidationError("\(peer) has no address") }
        var options = Talk.Options()
        options.nagle = nagle == .on
        options.color = color.enabled
        try Talk.prepare(socket, options: options)
        var standardError = StandardError()
        if let measure {
            let result = try Talk.measure(over: socket, keys: measure, interval: .milliseconds(interval), nagle: options.nagle)
            print(Talk.report(result, json: json))
            return
        }
        print("talk: connected to \(try socket.peerAddress); Ctrl-D ends", to: &standardError)
        try finish { try Talk.converse(over: socket, options: options, packets: packets) { var errors = StandardError(); print($0, to: &errors) } }
    }
}

/// Ends a conversation: the peer leaving is one clear line and exit 1, with the terminal back.
func finish(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let problem as Talk.Problem {
        RawTerminal.restore()
        var standardError = StandardError()
        print("\ntalk: \(problem)", to: &standardError)
        throw ExitCode(1)
    }
}
