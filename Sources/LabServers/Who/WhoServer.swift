import SocketCore

/// The service of the failover lab: a tiny HTTP/1.0 server that answers every request with
/// the name of the machine it runs on ("S1\n"), so that `curl http://10.99.1.100:8080/` — and
/// the lab's probe — see at a glance who serves now. It reads up to the blank line that ends
/// the request (or 4 KiB, or the client's FIN), answers, and closes: one request per
/// connection, as the probe makes them. On the shared `ServerLoop`.
public final class WhoServer: Sendable {
    private let loop: ServerLoop
    public var address: SocketAddress { loop.address }
    public let name: String

    public init(listeningOn address: SocketAddress, name: String) throws(SocketError) {
        loop = try ServerLoop(listeningOn: address, backlog: 512, highWater: 0)
        self.name = name
    }

    public func stop() { loop.stop() }

    struct Service: ServerService {
        let reply: [UInt8]
        var requests: [ClientID: [UInt8]] = [:]
        static let limit = 4096

        mutating func opened(_ client: ClientID, peer: SocketAddress, _ io: inout ServerIO) { requests[client] = [] }
        mutating func received(_ bytes: ArraySlice<UInt8>, from client: ClientID, _ io: inout ServerIO) {
            guard var request = requests[client] else { return }
            request += bytes.prefix(Self.limit - request.count)
            requests[client] = request
            // A request ends with an empty line: CR LF CR LF (or a bare LF LF from nc).
            if request.count >= Self.limit || request.ends(with: [13, 10, 13, 10]) || request.ends(with: [10, 10]) { answer(client, &io) }
        }
        mutating func endOfInput(from client: ClientID, _ io: inout ServerIO) { answer(client, &io) }
        mutating func closed(_ client: ClientID, _ end: ClientEnd, _ io: inout ServerIO) { requests[client] = nil }

        private mutating func answer(_ client: ClientID, _ io: inout ServerIO) {
            guard requests.removeValue(forKey: client) != nil else { return }
            io.send(reply, to: client)
            io.close(client)
        }
    }

    /// The response: a status line, a length, and the name on a line of its own.
    public static func response(name: String) -> [UInt8] {
        let body = name + "\n"
        return Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }

    public func run(log: (String) -> Void = { _ in }) throws(SocketError) {
        var service = Service(reply: Self.response(name: name))
        try loop.run(&service, log: log)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
