import Testing
import LabServers
import SocketCore
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The reference servers on their shared poll loop: one thread, poll(), many clients, and
/// every client's bytes in its own output queue.
@Suite("reference servers on one poll loop")
struct EchoServerTests {
    @Test("the poll echo server serves 50 concurrent clients, each getting exactly its own bytes")
    func fiftyClients() throws {
        try withEchoServer { server in
            // All 50 connect before any sends, so the server really holds 50 at once.
            let clients = try (0..<50).map { _ in try Socket.connected(to: server.address) }
            let messages = (0..<50).map { pattern(10_000 + $0 * 997, seed: UInt64($0)) }
            let senders = clients.indices.map { index in
                Peer {
                    try clients[index].send(messages[index])
                    try clients[index].shutdown(.write)
                    return try clients[index].receiveUntilEOF()
                }
            }
            for index in clients.indices {
                #expect(try senders[index].value() == messages[index], "client \(index)")
            }
        }
    }

    @Test("the echo server survives a client that resets, and keeps serving")
    func survivesReset() throws {
        try withEchoServer { server in
            let rude = try Socket.connected(to: server.address)
            try rude.send(pattern(100_000))
            try rude.set(.linger, .abort)
            try rude.close()
            let polite = try Socket.connected(to: server.address)
            try polite.send("still there?")
            try polite.shutdown(.write)
            #expect(try polite.receiveUntilEOF() == Array("still there?".utf8))
        }
    }

    /// Runs the poll echo server on its own thread for the length of `body`.
    private func withEchoServer(_ body: (EchoServer) throws -> Void) throws {
        let server = try EchoServer(listeningOn: .loopback(0))
        let running = Peer { try server.run() }
        defer {
            server.stop()
            _ = try? running.value()
        }
        try body(server)
    }

    @Test("a client that sends far more than the socket buffers hold before it reads gets every byte back")
    func backPressure() throws {
        try withEchoServer { server in
            let client = try Socket.connected(to: server.address)
            let message = pattern(16 << 20)
            // All 16 MiB go out before anything is read: the server must queue what the
            // socket will not take, stop reading while its queue is full, and lose nothing.
            let writer = Peer { () throws -> Void in
                try client.send(message)
                try client.shutdown(.write)
            }
            usleep(300_000)
            let echoed = try client.receiveUntilEOF(limit: 32 << 20)
            try writer.value()
            #expect(echoed.count == message.count)
            #expect(echoed == message)
        }
    }
}

@Suite("the chat room on the poll loop")
struct ChatServerTests {
    @Test("a line goes to every other client, never back to its sender, and a departure is announced")
    func roomBasics() throws {
        let server = try ChatServer(listeningOn: .loopback(0))
        let running = Peer { try server.run() }
        defer { server.stop(); _ = try? running.value() }
        let alice = try Socket.connected(to: server.address)
        var aliceLines = MessageStream(alice, maxMessageSize: 4096)
        try aliceLines.writeLine("NICK alice")
        let bob = try Socket.connected(to: server.address)
        var bobLines = MessageStream(bob, maxMessageSize: 4096)
        try bobLines.writeLine("NICK bob")
        #expect(try aliceLines.readLine() == "* bob joined")
        try aliceLines.writeLine("hello")
        #expect(try bobLines.readLine() == "alice: hello")
        try bobLines.writeLine("QUIT")
        #expect(try aliceLines.readLine() == "* bob left")
        #expect(try bob.receiveUntilEOF().isEmpty, "bob's QUIT ends his connection with a FIN")
    }
}
