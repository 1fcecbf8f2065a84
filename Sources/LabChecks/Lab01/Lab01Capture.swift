import LabHost
import LabEngines
import PacketCapture
import SocketCore

extension Lab01 {
    /// `labcheck 01` without `--capture`: makes the capture the handout asks for — one
    /// connection with a little data each way, and one to a closed port — and saves it.
    public static func makeCapture(to path: String) throws -> String {
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port ?? 0
        let closed = try Socket.listening(on: .loopback(0))
        let closedPort = try closed.localAddress.port ?? 0
        try closed.close()
        return try record(path, filter: "tcp port \(port) or tcp port \(closedPort)") {
            let server = Peer { () throws -> Void in
                let (connection, _) = try listener.accept()
                try connection.send(try connection.receiveUntilEOF())
                try connection.close()
            }
            let client = try Socket.connected(to: .loopback(port), timeout: .seconds(3))
            try client.send("hello, handshake\n")
            try client.shutdown(.write)
            _ = try client.receiveUntilEOF()
            try client.close()
            try server.value()
            _ = try? Socket.connected(to: .loopback(closedPort), timeout: .seconds(3))
        }
    }
}
