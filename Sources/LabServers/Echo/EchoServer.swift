import SocketCore

/// The smallest complete TCP server that is also correct: one thread, poll(), many clients.
///
/// It shows the pieces every later server lab needs — a non-blocking listener, a client
/// that only gets what it sent back, partial writes kept until the socket is writable again,
/// EOF (the client's FIN) answered by sending what is left and then our own FIN, and a
/// client that resets the connection dropped without harming the others. The sockets are
/// `ServerLoop`'s; what is left here is the echo itself.
public final class EchoServer: Sendable {
    private let loop: ServerLoop
    /// The address the server listens on (with the real port when port 0 was asked for).
    public var address: SocketAddress { loop.address }

    public init(listeningOn address: SocketAddress, backlog: Int32 = 512) throws(SocketError) {
        // highWater 0: read from a client only when everything it sent has gone back, so a
        // client that never reads is held by TCP's flow control, not by our memory.
        loop = try ServerLoop(listeningOn: address, backlog: backlog, highWater: 0)
    }

    /// Ends `run()`; safe to call from any thread, more than once.
    public func stop() { loop.stop() }

    struct Service: ServerService {
        mutating func opened(_ client: ClientID, peer: SocketAddress, _ io: inout ServerIO) {}
        mutating func received(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO) {
            io.send(bytes, to: client)
        }
        mutating func endOfInput(from client: ClientID, _ io: inout ServerIO) {
            io.close(client)  // after the last echo: our FIN
        }
        mutating func closed(_ client: ClientID, _ end: ClientEnd, _ io: inout ServerIO) {}
    }

    /// Serves clients until `stop()`. `log` gets one line per connection event.
    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var service = Service()
        try loop.run(&service, log: log)
    }
}
