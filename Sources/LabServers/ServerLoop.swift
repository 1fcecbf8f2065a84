import SocketCore

/// A client of a `ServerLoop`, as its service knows it: a number that is never reused while
/// the loop runs (descriptors are, and a service that kept one across a close would talk to
/// the wrong client).
public struct ClientID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "client \(rawValue)" }
}

/// Why a client left the loop, for the service's log and its announcements.
public enum ClientEnd: Sendable, Equatable {
    /// The service closed it (after its queue was sent: the client gets a FIN).
    case closedByService
    /// The client's queue passed `queueLimit`, or it took none of its queue for `stallLimit`:
    /// it stopped reading, and it is dropped rather than let it grow the server's memory.
    case tooSlow(queued: Int)
    /// recv() or send() failed: a reset (ECONNRESET), a broken pipe (EPIPE)…
    case failed(SocketError)
}

/// What a reference server does with its clients' bytes; the loop does the sockets. Every
/// callback may queue bytes for any client and close any client through `io`.
public protocol ServerService {
    /// A client connected.
    mutating func opened(_ client: ClientID, peer: SocketAddress, _ io: inout ServerIO)
    /// Bytes arrived from `client`, as one recv() returned them: TCP keeps no message
    /// boundaries, so a service that wants lines or frames keeps its own buffer.
    mutating func received(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO)
    /// The client sent FIN (recv returned 0): it sends no more, but may still read.
    mutating func endOfInput(from client: ClientID, _ io: inout ServerIO)
    /// The client is gone; the loop has closed its socket.
    mutating func closed(_ client: ClientID, _ end: ClientEnd, _ io: inout ServerIO)
}

/// What a service may do from a callback: queue bytes for a client, close one once its
/// queue is sent, and look at how much waits.
public struct ServerIO {
    enum Action { case send(ClientID, [UInt8]), close(ClientID) }
    var actions: [Action] = []

    /// Queues `bytes` for `client`; they go out as its socket takes them.
    public mutating func send(_ bytes: [UInt8], to client: ClientID) { actions.append(.send(client, bytes)) }
    public mutating func send(_ bytes: ArraySlice<UInt8>, to client: ClientID) { actions.append(.send(client, Array(bytes))) }
    /// Closes `client` once everything queued for it is sent (it then gets a FIN).
    public mutating func close(_ client: ClientID) { actions.append(.close(client)) }
}

/// One thread, poll(), many clients: the loop every reference server shares. Each client has
/// an output queue; the loop reads from a client only while its queue is at most `highWater`
/// bytes (so a client that sends without reading is slowed by TCP's flow control instead of
/// growing our memory), and drops a client whose queue passes `queueLimit` (one that has
/// stopped reading while others talk to it). A partial write keeps the rest in the queue and
/// waits for POLLOUT; EOF from a client is passed on and the service decides; a reset costs
/// only that client. Out of descriptors (EMFILE), it stops accepting for a moment instead of
/// spinning on a listener that stays readable, and says so once per episode. Every byte costs
/// O(1): nothing is copied per send but what is sent, and no callback looks at every client.
public final class ServerLoop: Sendable {
    /// The address the server listens on (with the real port when port 0 was asked for).
    public let address: SocketAddress
    private let listener: Socket
    /// A socketpair whose one end is in the poll set: writing to the other wakes the loop,
    /// so that `stop()` from another thread ends `run()` at once.
    private let wake: (reader: Socket, writer: Socket)
    public let highWater: Int
    public let queueLimit: Int
    /// A client with bytes queued that takes none of them for this long is dropped.
    public let stallLimit: Duration

    public init(listeningOn address: SocketAddress, backlog: Int32 = 512, highWater: Int = 0,
                queueLimit: Int = 64 << 20, stallLimit: Duration = .seconds(60)) throws(SocketError) {
        listener = try Socket.listening(on: address, backlog: backlog)
        try listener.setNonBlocking(true)
        self.address = try listener.localAddress
        let pair = try Socket.pair()
        wake = (pair.0, pair.1)
        self.highWater = highWater
        self.queueLimit = queueLimit
        self.stallLimit = stallLimit
    }

    /// Ends `run()`; safe to call from any thread, more than once.
    public func stop() { try? wake.writer.send([1]) }

    private struct Client {
        let id: ClientID
        let socket: Socket
        var outbox: [UInt8] = []
        /// Bytes of `outbox` already sent: removing from the front on every partial write
        /// would copy the rest each time.
        var sentOffset = 0
        var inputEnded = false
        var closing = false
        /// When it last took bytes of its queue (or the queue last filled from empty).
        var lastProgress = ContinuousClock.now
        var pending: Int { outbox.count - sentOffset }
    }

    /// Serves clients until `stop()`. `log` gets one line per connection event.
    public func run<Service: ServerService>(_ service: inout Service, log: (String) -> Void = { _ in }) throws(SocketError) {
        var poller = Poller()
        poller.watch(listener, for: .readable)
        poller.watch(wake.reader, for: .readable)
        var clients: [Int32: Client] = [:]
        var byID: [ClientID: Int32] = [:]
        var nextID = 0
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        defer { for client in clients.values { try? client.socket.close() } }

        let clock = ContinuousClock()
        /// Out of descriptors: the listener is out of the poll set until then.
        var acceptsPausedUntil: ContinuousClock.Instant?
        var lastStallCheck = clock.now
        func interest(_ client: Client) -> PollEvents {
            var events: PollEvents = []
            if client.pending > 0 { events.insert(.writable) }
            if !client.inputEnded && !client.closing && client.pending <= highWater { events.insert(.readable) }
            return events
        }
        func remove(_ descriptor: Int32, _ end: ClientEnd) {
            guard let client = clients.removeValue(forKey: descriptor) else { return }
            byID[client.id] = nil
            poller.remove(client.socket)
            try? client.socket.close()
            var actions = ServerIO()
            service.closed(client.id, end, &actions)
            apply(actions)
        }
        /// Sends what the socket takes now; false if the client failed and was removed.
        func flush(_ descriptor: Int32) -> Bool {
            guard var client = clients[descriptor] else { return false }
            while client.pending > 0 {
                do throws(SocketError) {
                    let outcome = try client.outbox.withBytes { (buffer) throws(SocketError) in
                        try client.socket.trySendSome(UnsafeRawBufferPointer(rebasing: buffer[client.sentOffset...]))
                    }
                    guard case .ready(let sent) = outcome else { break }  // the send buffer is full: wait for POLLOUT
                    client.sentOffset += sent
                    client.lastProgress = clock.now
                } catch {
                    clients[descriptor] = client
                    log("\(client.id): \(error)")
                    remove(descriptor, .failed(error))
                    return false
                }
            }
            if client.pending == 0 {
                client.outbox.removeAll(keepingCapacity: true)
                client.sentOffset = 0
            } else if client.sentOffset > 1 << 20 && client.sentOffset > client.outbox.count / 2 {
                // A queue that drains but never empties: drop what is sent, once per half.
                client.outbox.removeFirst(client.sentOffset)
                client.sentOffset = 0
            }
            clients[descriptor] = client
            return true
        }
        /// Applies what a callback asked for; closes clients whose queue is sent.
        func apply(_ actions: ServerIO) {
            var touched: [Int32] = []
            for action in actions.actions {
                switch action {
                case .send(let id, let bytes):
                    guard let descriptor = byID[id], clients[descriptor]?.closing == false else { continue }
                    if clients[descriptor]!.pending == 0 { clients[descriptor]!.lastProgress = clock.now }
                    clients[descriptor]!.outbox += bytes
                    touched.append(descriptor)
                case .close(let id):
                    guard let descriptor = byID[id] else { continue }
                    clients[descriptor]!.closing = true
                    touched.append(descriptor)
                }
            }
            for descriptor in touched {
                guard let client = clients[descriptor] else { continue }
                if client.pending > queueLimit {
                    log("\(client.id): dropped, \(client.pending) bytes queued and it does not read")
                    remove(descriptor, .tooSlow(queued: client.pending))
                    continue
                }
                settle(descriptor)
            }
        }
        /// Closes a client that is done, or sets what poll() should wait for.
        func settle(_ descriptor: Int32) {
            guard let client = clients[descriptor] else { return }
            if client.closing && client.pending == 0 {
                remove(descriptor, .closedByService)
                return
            }
            poller.watch(client.socket, for: interest(client))
        }

        var pausedEpisodeLogged = false
        while true {
            // Wake at least once a second while a queue waits (for the stall limit) or accepts
            // are paused; otherwise sleep until something happens.
            let now = clock.now
            if let until = acceptsPausedUntil, now >= until {
                acceptsPausedUntil = nil
                poller.watch(listener, for: .readable)
            }
            if now - lastStallCheck >= .seconds(1) {
                lastStallCheck = now
                for (descriptor, client) in clients where client.pending > 0 && now - client.lastProgress > stallLimit {
                    log("\(client.id): dropped, it took none of its \(client.pending) queued bytes for \(stallLimit)")
                    remove(descriptor, .tooSlow(queued: client.pending))
                }
            }
            let waiting = acceptsPausedUntil != nil || clients.values.contains { $0.pending > 0 }
            for event in try poller.wait(timeout: waiting ? .milliseconds(acceptsPausedUntil != nil ? 50 : 1000) : nil) {
                if event.descriptor == wake.reader.descriptor { return }
                if event.descriptor == listener.descriptor {
                    while true {
                        let accepted: (Socket, SocketAddress)
                        do throws(SocketError) {
                            guard case .ready(let connection) = try listener.tryAccept() else { break }  // the queue is empty
                            try connection.socket.setNonBlocking(true)
                            accepted = connection
                        } catch {
                            if error.errno == .EMFILE || error.errno == .ENFILE || error.errno == .ENOBUFS || error.errno == .ENOMEM {
                                // The listener stays readable while the queue is full: polling it
                                // again at once would spin. Out of the poll set for 100 ms.
                                if !pausedEpisodeLogged { log("accept: \(error) — pausing accepts until descriptors free up") }
                                pausedEpisodeLogged = true
                                poller.remove(listener)
                                acceptsPausedUntil = clock.now + .milliseconds(100)
                            } else {
                                log("accept: \(error)")  // ECONNABORTED: that one client gave up
                            }
                            break
                        }
                        pausedEpisodeLogged = false
                        let (socket, peer) = accepted
                        let id = ClientID(rawValue: nextID)
                        nextID += 1
                        clients[socket.descriptor] = Client(id: id, socket: socket)
                        byID[id] = socket.descriptor
                        poller.watch(socket, for: .readable)
                        log("\(peer): connected")
                        var actions = ServerIO()
                        service.opened(id, peer: peer, &actions)
                        apply(actions)
                    }
                    continue
                }
                let descriptor = event.descriptor
                guard clients[descriptor] != nil else { continue }
                if clients[descriptor]!.pending > 0 {
                    guard flush(descriptor) else { continue }
                }
                let client = clients[descriptor]!
                if !client.inputEnded && !client.closing && client.pending <= highWater
                    && !event.events.isDisjoint(with: [.readable, .error, .hangup]) {
                    let got: Int
                    do throws(SocketError) {
                        let outcome = try chunk.withMutableBytes { (buffer) throws(SocketError) in try client.socket.tryReceive(into: buffer) }
                        guard case .ready(let count) = outcome else {
                            // poll() said ready, but the data was gone; wait for the next event.
                            settle(descriptor)
                            continue
                        }
                        got = count
                    } catch {
                        log("\(client.id): \(error)")
                        remove(descriptor, .failed(error))
                        continue
                    }
                    var actions = ServerIO()
                    if got == 0 {
                        clients[descriptor]!.inputEnded = true
                        service.endOfInput(from: client.id, &actions)
                    } else {
                        service.received(chunk[..<got], from: client.id, &actions)
                    }
                    apply(actions)
                    // Send at once what the service queued for this client: most replies fit
                    // the socket buffer, and waiting for POLLOUT would cost a poll() each.
                    if clients[descriptor] != nil, clients[descriptor]!.pending > 0 { guard flush(descriptor) else { continue } }
                }
                settle(descriptor)
                if let client = clients[descriptor], client.inputEnded, !client.closing, client.pending == 0,
                   event.events.contains(.hangup) {
                    // Both directions are gone: nothing more can be read or written.
                    remove(descriptor, .closedByService)
                }
            }
        }
    }
}

/// What every reference server offers its tool and its tests: where it listens, a `run` that
/// serves until `stop`, and a `stop` that any thread may call.
public protocol ReferenceServer: Sendable {
    var address: SocketAddress { get }
    func run(log: (String) -> Void) throws(SocketError)
    func stop()
}

extension EchoServer: ReferenceServer {}
extension ChatServer: ReferenceServer {}
