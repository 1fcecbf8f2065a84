#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LabHost
import Packets
import SocketCore
import Synchronization

extension Lab12 {
    /// A SOCKS5 client that speaks byte by byte when asked to, and reads with a time bound.
    final class Probe: Sendable {
        let socket: Socket

        struct Unexpected: Error, CustomStringConvertible {
            let description: String
            init(_ description: String) { self.description = description }
        }

        init(_ proxy: SocketAddress) throws {
            socket = try Socket.connected(to: proxy, timeout: .seconds(3))
            try socket.set(.receiveTimeout, .seconds(5))
            try socket.set(.sendTimeout, .seconds(10))
            try socket.set(.noDelay, true)
        }

        /// `piecewise`: one byte per send(), a millisecond apart, so each is its own segment.
        func send(_ bytes: [UInt8], piecewise: Bool = false) throws {
            guard piecewise else { return try socket.send(bytes) }
            for byte in bytes {
                try socket.send([byte])
                usleep(1000)
            }
        }

        func receive(_ count: Int) throws -> [UInt8] {
            do {
                return try socket.receive(exactly: count)
            } catch {
                if case .unexpectedEOF(_, let received) = error { throw Unexpected("the proxy closed the connection after \(received) of \(count) bytes") }
                if error.errno == .EAGAIN { throw Unexpected("no answer within 5 s") }
                throw error
            }
        }

        func receiveUntilEOF() throws -> [UInt8] { try socket.receiveUntilEOF(limit: 1 << 20) }

        /// VER, REP, RSV, ATYP, BND.ADDR, BND.PORT.
        func reply() throws -> SOCKS5.ReplyMessage {
            var bytes = try receive(4)
            switch bytes[3] {
            case 1: bytes += try receive(6)
            case 4: bytes += try receive(18)
            case 3:
                let length = try receive(1)
                bytes += length + (try receive(Int(length[0]) + 2))
            default: throw Unexpected("a reply with address type \(bytes[3]) (\(Self.hex(bytes)))")
            }
            guard case .message(let reply, _) = SOCKS5.ReplyMessage.parse(bytes[...]) else { throw Unexpected("a reply that is not RFC 1928's: \(Self.hex(bytes))") }
            return reply
        }

        func closedByPeer(within limit: Duration) -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                do {
                    if try socket.receive(upTo: 64).isEmpty { return true }
                } catch {
                    if error.errno == .EAGAIN { continue }
                    return true
                }
            }
            return false
        }

        func close() { try? socket.close() }

        static func hex(_ bytes: [UInt8]) -> String {
            "[" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16).uppercased() }.joined(separator: " ") + "]"
        }
    }

    /// labcheck's own targets on loopback: an echo (IPv4 and IPv6), a server that reads to
    /// EOF and then answers "got N bytes" (the half-close check), and a small web page (curl).
    /// They record the ports connections came from, to check BND.PORT's byte order.
    final class Targets: Sendable {
        static let page = "hello from labcheck's target\n"
        let listeners: [Socket]
        let echo: UInt16
        let echo6: UInt16?
        let replyAfterEOF: UInt16
        let web: UInt16
        let peerPorts = Mutex<Set<UInt16>>([])

        enum Kind { case echo, replyAfterEOF, web }

        init() throws {
            let echo = try Socket.listening(on: .loopback(0))
            let echo6 = try? Socket.listening(on: .loopback(0, family: .ipv6))
            let replier = try Socket.listening(on: .loopback(0))
            let web = try Socket.listening(on: .loopback(0))
            listeners = [echo, replier, web] + (echo6.map { [$0] } ?? [])
            self.echo = try echo.localAddress.port ?? 0
            self.echo6 = try echo6?.localAddress.port
            replyAfterEOF = try replier.localAddress.port ?? 0
            self.web = try web.localAddress.port ?? 0
            for (listener, kind) in [(echo, Kind.echo), (replier, .replyAfterEOF), (web, .web)] + (echo6.map { [($0, Kind.echo)] } ?? []) {
                Thread.detachNewThread { [self] in serve(listener, kind) }
            }
        }

        func serve(_ listener: Socket, _ kind: Kind) {
            while let (connection, peer) = try? listener.accept() {
                peerPorts.withLock { _ = $0.insert(peer.port ?? 0) }
                Thread.detachNewThread {
                    defer { try? connection.close() }
                    try? connection.set(.receiveTimeout, .seconds(30))
                    switch kind {
                    case .echo:
                        while let bytes = try? connection.receive(upTo: 65_536), !bytes.isEmpty {
                            guard (try? connection.send(bytes)) != nil else { return }
                        }
                    case .replyAfterEOF:
                        let all = (try? connection.receiveUntilEOF(limit: 16 << 20)) ?? []
                        try? connection.send(Array("got \(all.count) bytes".utf8))
                    case .web:
                        var request: [UInt8] = []
                        while !request.suffix(4).elementsEqual([13, 10, 13, 10]), request.count < 65_536,
                              let bytes = try? connection.receive(upTo: 4096), !bytes.isEmpty { request += bytes }
                        let body = Targets.page
                        try? connection.send(Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
                    }
                }
            }
        }

        func stop() {
            for listener in listeners {
                try? listener.shutdown(.both)
                try? listener.close()
            }
        }
    }
}
