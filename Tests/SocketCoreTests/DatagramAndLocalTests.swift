import Foundation
import Testing
@testable import SocketCore

/// UDP keeps message boundaries; Unix sockets and socketpairs are the same API on one machine.
@Suite("UDP, Unix-domain sockets and socketpair")
struct DatagramAndLocalTests {
    @Test("UDP keeps each datagram whole: N sends are N receives of the same sizes", arguments: [AddressFamily.ipv4, .ipv6])
    func udpBoundaries(family: AddressFamily) throws {
        let receiver = try Socket.udp(family)
        try receiver.bind(to: .loopback(0, family: family))
        let address = try receiver.localAddress
        let sender = try Socket.udp(family)
        let sizes = [1, 100, 1472, 0, 8000, 3]
        for (index, size) in sizes.enumerated() {
            #expect(try sender.send(pattern(size, seed: UInt64(index)), to: address) == size)
        }
        let from = try sender.localAddress
        for (index, size) in sizes.enumerated() {
            let datagram = try receiver.receiveFrom(upTo: 65_536)
            #expect(datagram.bytes == pattern(size, seed: UInt64(index)))
            #expect(!datagram.isTruncated)
            #expect(datagram.sender?.port == from.port)
        }
    }

    @Test("a datagram larger than the buffer is truncated, and the receiver is told its real size")
    func udpTruncation() throws {
        let receiver = try Socket.udp()
        try receiver.bind(to: .loopback(0))
        let sender = try Socket.udp()
        try sender.send(pattern(1000), to: try receiver.localAddress)
        try sender.send([7], to: try receiver.localAddress)
        let cut = try receiver.receiveFrom(upTo: 100)
        #expect(cut.isTruncated)
        #expect(cut.size == 1000)
        #expect(cut.bytes == Array(pattern(1000)[..<100]))
        let next = try receiver.receiveFrom(upTo: 100)
        #expect(next.bytes == [7], "the rest of the cut datagram is gone, not delivered later")
    }

    @Test("a UDP datagram over 65507 bytes is refused with EMSGSIZE")
    func udpTooLarge() throws {
        let sender = try Socket.udp()
        #expect {
            try sender.send(pattern(70_000), to: .loopback(9))
        } throws: { ($0 as? SocketError)?.errno == .EMSGSIZE }
    }

    @Test("a connected UDP socket uses plain send and receive")
    func connectedUDP() throws {
        let receiver = try Socket.udp()
        try receiver.bind(to: .loopback(0))
        let sender = try Socket.udp()
        try sender.connect(to: try receiver.localAddress)
        try sender.send("ping")
        #expect(try receiver.receiveFrom(upTo: 10).bytes == Array("ping".utf8))
    }

    @Test("Unix stream sockets: a file path and an abstract name", arguments: ["path", "abstract"])
    func unixStream(kind: String) throws {
        let name = "socketlab-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let address: SocketAddress = kind == "path" ? .unix(.path(NSTemporaryDirectory() + name)) : .unix(.abstract(name))
        let listener = try Socket.listening(on: address)
        defer { if case .unix(.path(let path)) = address { unlink(path) } }
        #expect(try listener.localAddress == address)
        let server = Peer {
            let (connection, peer) = try listener.accept()
            try connection.send(try connection.receive(exactly: 3))
            return peer
        }
        let client = try Socket.connected(to: address)
        try client.send("abc")
        #expect(try client.receive(exactly: 3) == Array("abc".utf8))
        #expect(try server.value() == .unix(.unnamed), "a client that did not bind has no name")
    }

    @Test("a stale socket file left by a crashed server does not block listening again")
    func staleSocketFile() throws {
        let path = NSTemporaryDirectory() + "socketlab-stale-\(getpid()).sock"
        defer { unlink(path) }
        let crashed = try Socket.unixStream()
        try crashed.bind(to: .unix(.path(path)))
        try crashed.close()  // the file stays, nobody listens
        let listener = try Socket.listening(on: .unix(.path(path)))
        #expect(try listener.localAddress == .unix(.path(path)))
    }

    @Test("Unix datagram sockets keep boundaries and report the sender's path")
    func unixDatagram() throws {
        let base = NSTemporaryDirectory() + "socketlab-dgram-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(base + ".a"); unlink(base + ".b") }
        let a = try Socket.unixDatagram()
        try a.bind(to: .unix(.path(base + ".a")))
        let b = try Socket.unixDatagram()
        try b.bind(to: .unix(.path(base + ".b")))
        try b.send(Array("one".utf8), to: .unix(.path(base + ".a")))
        try b.send(Array("two!".utf8), to: .unix(.path(base + ".a")))
        let first = try a.receiveFrom(upTo: 100)
        let second = try a.receiveFrom(upTo: 2)
        #expect(first.bytes == Array("one".utf8))
        #expect(first.sender == .unix(.path(base + ".b")))
        #expect(second.isTruncated && second.size == 4 && second.bytes == Array("tw".utf8))
    }

    @Test("connecting to a Unix path where nothing listens is ENOENT, with a hint")
    func unixMissing() throws {
        #expect {
            try Socket.connected(to: .unix(.path("/nonexistent/socketlab.sock")))
        } throws: { error in
            guard let error = error as? SocketError else { return false }
            return error.errno == .ENOENT && error.hint!.contains("start the server first")
        }
    }

    @Test("socketpair: two connected ends, stream and datagram", arguments: [SocketType.stream, .datagram])
    func socketPair(type: SocketType) throws {
        let (left, right) = try Socket.pair(type)
        try left.send("from left")
        #expect(try right.receive(upTo: 100) == Array("from left".utf8))
        try right.send("from right")
        #expect(try left.receive(upTo: 100) == Array("from right".utf8))
        if type == .stream {
            try left.close()
            #expect(try right.receive(upTo: 100).isEmpty, "closing one end is EOF at the other")
        }
    }
}
