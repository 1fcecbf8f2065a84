import ArgumentParser
import LabServers
import SocketCore
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

/// The smallest complete TCP server and client on SocketCore.
@main
struct Echo: ParsableCommand {
    static func main() { runAsSocketLabTool() }

    static let configuration = CommandConfiguration(
        commandName: "tcp-echo",
        abstract: "A TCP echo server and client — the first program of every sockets course.",
        discussion: """
            The server sends back every byte it receives, to many clients at once, with one
            thread and poll(). The client sends lines and prints what comes back.

              tcp-echo server --port 9000      (in one terminal)
              tcp-echo client 127.0.0.1:9000   (in another; type lines, Ctrl-D to end)

            Exit codes: 0 success; 1 the network operation failed; 2 bad usage or bad address.
            """,
        subcommands: [Server.self, Client.self]
    )
}

extension Echo {
    struct Server: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Listen on a port and echo every byte back to every client.")

        @Option(name: .shortAndLong, help: "TCP port to listen on (0: let the kernel choose).")
        var port: UInt16 = 9000

        @Option(help: "Local address to bind: 0.0.0.0 for every IPv4 address, :: for IPv6, 127.0.0.1 for this machine only.")
        var host: String = "0.0.0.0"

        @Option(help: "listen() backlog: connections the kernel completes and queues before accept().")
        var backlog: Int32 = 512

        @Flag(name: .shortAndLong, help: "Print nothing per connection.")
        var quiet = false

        func validate() throws {
            try OptionRange.check(backlog, 1...65_535, "--backlog")
        }

        func run() throws {
            let address = try ListenAddress.resolve(host: host, port: port)
            let server = try EchoServer(listeningOn: address, backlog: backlog)
            print("echo: listening on \(server.address) (Ctrl-C to stop)")
            flushOutput()
            let quiet = quiet
            try server.run { line in
                if !quiet {
                    print("echo: \(line)")
                    flushOutput()
                }
            }
        }
    }

    struct Client: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect, send lines, and print the echo of each.",
            discussion: "Without --message, lines are read from standard input until EOF (Ctrl-D); then the client half-closes (shutdown SHUT_WR) and reads what is left.")

        @Argument(help: "Server address: HOST:PORT, [IPv6]:PORT or unix:/path.")
        var address: String

        @Option(name: .shortAndLong, help: "Send this line instead of reading standard input (repeatable).")
        var message: [String] = []

        @Option(help: "Seconds to wait for the connection (and for each reply).")
        var timeout: Double = 5

        /// `--timeout` as a Duration, for connect() and SO_RCVTIMEO alike.
        private var timeoutDuration: Duration { .milliseconds(Int64(timeout * 1000)) }

        func validate() throws {
            guard timeout > 0, timeout < 86_400 else { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
        }

        func run() throws {
            let socket = try connect()
            try socket.set(.receiveTimeout, timeoutDuration)
            var stream = MessageStream(socket)
            if message.isEmpty {
                while let line = readLine() {
                    try stream.writeLine(line)
                    guard let reply = try stream.readLine() else { break }
                    print(reply)
                }
            } else {
                for line in message {
                    try stream.writeLine(line)
                }
            }
            // Half-close: the server reads EOF, sends what is left, and closes too.
            try socket.shutdown(.write)
            while let reply = try stream.readLine() { print(reply) }
            try socket.close()
        }

        private func connect() throws(SocketError) -> Socket {
            let candidates = try SocketAddress.resolve(address)
            var lastError = SocketError.closed
            for candidate in candidates {  // try each address the resolver gave, in order
                do throws(SocketError) {
                    return try Socket.connected(to: candidate, timeout: timeoutDuration)
                } catch {
                    lastError = error
                }
            }
            throw lastError
        }
    }
}
