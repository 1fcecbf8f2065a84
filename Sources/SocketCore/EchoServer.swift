/// The smallest complete TCP server that is also correct: one thread, poll(), many clients.
///
/// It shows the pieces every later server lab needs — a non-blocking listener, a client
/// that only gets what it sent back, partial writes kept until the socket is writable again,
/// EOF (the client's FIN) answered by sending what is left and then our own FIN, and a
/// client that resets the connection dropped without harming the others.
public final class EchoServer: Sendable {
    /// The address the server listens on (with the real port when port 0 was asked for).
    public let address: SocketAddress
    private let listener: Socket
    /// A socketpair whose one end is in the poll set: writing to the other wakes the loop
    /// so that `stop()` from another thread ends `run()` at once.
    private let wake: (reader: Socket, writer: Socket)

    public init(listeningOn address: SocketAddress, backlog: Int32 = 512) throws(SocketError) {
        listener = try Socket.listening(on: address, backlog: backlog)
        try listener.setNonBlocking(true)
        self.address = try listener.localAddress
        let pair = try Socket.pair()
        wake = (pair.0, pair.1)
    }

    /// Ends `run()`; safe to call from any thread, more than once.
    public func stop() {
        try? wake.writer.send([1])
    }

    private struct Client {
        let socket: Socket
        let peer: SocketAddress
        /// Received but not yet echoed (the socket's send buffer was full).
        var pending: [UInt8] = []
        /// The client sent FIN: close once `pending` is sent.
        var finished = false
    }

    /// Serves clients until `stop()`. `log` gets one line per connection event.
    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var poller = Poller()
        poller.watch(listener, for: .readable)
        poller.watch(wake.reader, for: .readable)
        var clients: [Int32: Client] = [:]
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        defer { for client in clients.values { try? client.socket.close() } }

        while true {
            for event in try poller.wait() {
                if event.descriptor == wake.reader.descriptor { return }
                if event.descriptor == listener.descriptor {
                    acceptAll(into: &clients, poller: &poller, log: log)
                    continue
                }
                guard var client = clients[event.descriptor] else { continue }
                do throws(SocketError) {
                    if event.events.contains(.writable) || !client.pending.isEmpty {
                        try flush(&client)
                    }
                    if client.pending.isEmpty && !client.finished
                        && !event.events.isDisjoint(with: [.readable, .error, .hangup]) {
                        let got = try chunk.withMutableBytes { (buffer) throws(SocketError) in
                            try client.socket.receive(into: buffer)
                        }
                        if got == 0 {
                            client.finished = true
                        } else {
                            client.pending.append(contentsOf: chunk[..<got])
                            try flush(&client)
                        }
                    }
                } catch let error where error.errno == .EAGAIN {
                    // poll() said ready, but the data was gone; wait for the next event.
                } catch {
                    log("\(client.peer): \(error)")
                    drop(client, from: &clients, poller: &poller)
                    continue
                }
                if client.finished && client.pending.isEmpty {
                    log("\(client.peer): closed (EOF from client, FIN sent back)")
                    drop(client, from: &clients, poller: &poller)
                    continue
                }
                // Watch for room to write while bytes wait; otherwise for more to read.
                poller.watch(client.socket, for: client.pending.isEmpty ? .readable : .writable)
                clients[event.descriptor] = client
            }
        }
    }

    private func acceptAll(into clients: inout [Int32: Client], poller: inout Poller, log: (String) -> Void) {
        while true {
            do {
                let (socket, peer) = try listener.accept()
                try socket.setNonBlocking(true)
                clients[socket.descriptor] = Client(socket: socket, peer: peer)
                poller.watch(socket, for: .readable)
                log("\(peer): connected")
            } catch {
                // EAGAIN: the queue is empty. ECONNABORTED/EMFILE: log it and keep serving.
                if error.errno != .EAGAIN { log("accept: \(error)") }
                return
            }
        }
    }

    /// Sends as much of `pending` as the socket takes now.
    private func flush(_ client: inout Client) throws(SocketError) {
        while !client.pending.isEmpty {
            let sent: Int
            do throws(SocketError) {
                sent = try client.pending.withBytes { (buffer) throws(SocketError) in try client.socket.sendSome(buffer) }
            } catch let error where error.errno == .EAGAIN {
                return
            }
            client.pending.removeFirst(sent)
        }
    }

    private func drop(_ client: Client, from clients: inout [Int32: Client], poller: inout Poller) {
        poller.remove(client.socket)
        clients[client.socket.descriptor] = nil
        try? client.socket.close()
    }
}
