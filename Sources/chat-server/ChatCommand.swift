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
            in several terminals. Exit codes: 0 stopped; 2 bad port or address in use.
            """)

    @Option(help: "The port to listen on.")
    var port: UInt16 = 9000
    @Option(help: "The address to listen on.")
    var host = "0.0.0.0"

    func run() throws {
        let server = try ChatServer(listeningOn: SocketAddress("\(host):\(port)"))
        print("chat-server: listening on \(server.address) (Ctrl-C to stop)")
        flushOutput()
        try server.run { print("chat-server: \($0)"); flushOutput() }
    }

    static func main() { runAsSocketLabTool() }
}
