import ArgumentParser
import LabEngines
import LabHost
import LabServers
import Packets
import SocketCore
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Run a program on another machine: its output, its exit status — behind a shared token.",
        discussion: """
            remote serve runs programs for clients that prove they know the token (HMAC-SHA256 \
            of the server's challenge: the token never crosses the wire); remote run -- PROGRAM \
            ARGS… runs one and exits with its status (128+N for a signal, 124 when the time \
            ran out, 127 no such program, 126 not allowed), like ssh. One TCP connection with \
            framed channels: stdin, stdout, stderr, exit. There is no cipher: this is a lab, not \
            a remote shell for a real network. Exit codes of remote itself: 1 the connection \
            failed; 2 bad input (a token file others can read, a bad address); 3 the server \
            refused the token.
            """,
        subcommands: [Serve.self, Run.self])

    static func main() { runAsSocketLabTool() }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve commands to clients that know the token.")

    @Option(help: "The port (0: one the kernel picks, printed).")
    var port: UInt16
    @Option(help: "The token file: 16 to 4096 bytes, readable by its owner only (chmod 600).")
    var tokenFile: String
    @Option(help: "Allow only this program (a name, or a full path); repeatable. Without it, any program.")
    var allow: [String] = []
    @Option(help: "The address to listen on (default 127.0.0.1: this machine only).")
    var bind = "127.0.0.1"
    @Option(help: "Clients served at once.")
    var maxClients = 16
    @Option(help: "The longest a command may run, in seconds.")
    var maxSeconds: UInt32 = 3600

    func validate() throws {
        try OptionRange.check(maxClients, 1...4096, "--max-clients")
        try OptionRange.check(Int(maxSeconds), 1...86_400, "--max-seconds", unit: "seconds")
    }

    func run() throws {
        var configuration = RemoteServerConfiguration(token: try RemoteToken(file: tokenFile))
        configuration.listen = try SocketAddress(bind.contains(":") && !bind.hasPrefix("[") ? "[\(bind)]:\(port)" : "\(bind):\(port)")
        configuration.allow = allow
        configuration.maxClients = maxClients
        configuration.maxSeconds = maxSeconds
        configuration.log = { line in
            print("remote: \(line)")
            flushOutput()
        }
        let server = try RemoteServer(configuration)
        // Stopped with Ctrl-C or SIGTERM, the server takes the commands it is running with it.
        ChildProcess.killChildrenOnSignals()
        print("remote: serving on \(server.address)" + (allow.isEmpty ? ", any program" : ", only \(allow.joined(separator: ", "))"))
        flushOutput()
        server.run()
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one program on the server and exit with its status.")

    @Argument(help: "The server, HOST:PORT.")
    var server: String
    @Option(help: "The token file (readable by you only).")
    var tokenFile: String
    @Option(help: "Seconds the program may run (0: the server's limit).")
    var timeout: UInt32 = 0
    @Argument(parsing: .postTerminator, help: "-- PROGRAM ARGS…")
    var command: [String] = []

    func validate() throws {
        guard let program = command.first, !program.isEmpty else { throw ValidationError("name the program after --, as in: remote run HOST:PORT --token-file F -- uname -a") }
        if command.contains(where: { $0.utf8.contains(0) }) { throw ValidationError("an argument holds a NUL byte, which a command line cannot carry") }
    }

    func run() throws {
        let token = try RemoteToken(file: tokenFile)
        let address = try SocketAddress.resolve(server, type: .stream).first ?? SocketAddress(server)
        let ending = try RemoteClient.run(command, at: address, token: token, timeout: timeout)
        var standardError = StandardError()
        switch ending {
        case .notStarted(_, let reason): print("remote: \(reason)", to: &standardError)
        case .timedOut(let seconds): print("remote: the program ran out of time (\(seconds) s); its process group was killed", to: &standardError)
        default: break
        }
        flushOutput()
        throw ExitCode(ending.exitCode)
    }
}
