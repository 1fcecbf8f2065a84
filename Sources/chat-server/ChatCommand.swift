import ArgumentParser
import LabServers
import SocketCore
import ToolSupport

@main
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-server",
        abstract: "Lab 06's reference: a line-based chat room on one thread with poll().",
        discussion: """
            NICK name joins (or renames); any other line goes to every other client as \
            "name: line"; QUIT or closing the connection leaves. Try it with nc 127.0.0.1 PORT \
            in several terminals. Exit codes: 0 stopped; 1 the port is in use; 2 a bad port or address.
            """)

    @Option(help: "The port to listen on.")
    var port: UInt16 = 9000
    @Option(help: "The address to listen on: 0.0.0.0 for every IPv4 address, :: for IPv6, 127.0.0.1 or ::1 for this machine only.")
    var host = "0.0.0.0"

    func run() throws {
        let server = try ChatServer(listeningOn: ListenAddress.resolve(host: host, port: port))
        print("chat-server: listening on \(server.address) (Ctrl-C to stop)")
        flushOutput()
        try server.run { print("chat-server: \($0)"); flushOutput() }
    }

    static func main() { runAsSocketLabTool() }
}
