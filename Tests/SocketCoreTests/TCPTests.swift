import Testing
@testable import SocketCore

/// The TCP lessons, each on real sockets over loopback.
@Suite("TCP over loopback")
struct TCPTests {
    @Test("a client's bytes come back from an echo peer", arguments: [AddressFamily.ipv4, .ipv6])
    func echo(family: AddressFamily) throws {
        let (listener, address) = try loopbackListener(family)
        let server = Peer {
            let (connection, peer) = try listener.accept()
            let bytes = try connection.receive(exactly: 5)
            try connection.send(bytes)
            return peer
        }
        let client = try Socket.connected(to: address)
        try client.send("hello")
        #expect(try client.receive(exactly: 5) == Array("hello".utf8))
        let peer = try server.value()
        #expect(peer == (try client.localAddress), "accept() reports the client's own address and port")
        #expect(try client.peerAddress == address)
        #expect(address.family == family)
    }

    @Test("16 MiB through 4 KiB socket buffers arrives whole: send() loops over partial writes")
    func bulkTransferThroughSmallBuffers() throws {
        let size = 16 << 20
        let data = pattern(size)
        let (listener, address) = try loopbackListener()
        let sender = Peer {
            let (connection, _) = try listener.accept()
            try connection.set(.sendBufferSize, 4096)
            try connection.send(data)  // one call; the kernel takes a few KiB at a time
            try connection.close()
        }
        let client = try Socket.tcp()
        try client.set(.receiveBufferSize, 4096)
        try client.connect(to: address)
        var received: [UInt8] = []
        received.reserveCapacity(size)
        var receives = 0
        while true {
            let chunk = try client.receive(upTo: 1000)
            if chunk.isEmpty { break }
            received += chunk
            receives += 1
        }
        try sender.value()
        #expect(received.count == size)
        #expect(received == data)
        #expect(receives > size / 1000 - 1, "every recv() returned at most the 1000 bytes asked for")
    }

    @Test("half-close: the client shuts down writing and still reads the whole reply")
    func halfClose() throws {
        let (listener, address) = try loopbackListener()
        let server = Peer {
            let (connection, _) = try listener.accept()
            let request = try connection.receiveUntilEOF()  // ends at the client's FIN
            try connection.send(Array("got \(request.count) bytes".utf8))
            try connection.close()
        }
        let client = try Socket.connected(to: address)
        try client.send(pattern(100_000))
        try client.shutdown(.write)
        #expect(try client.receiveUntilEOF() == Array("got 100000 bytes".utf8))
        try server.value()
    }

    @Test("ECONNREFUSED names the call and the address and says to start the server")
    func refused() throws {
        let (listener, address) = try loopbackListener()
        try listener.close()  // now nothing listens there
        #expect {
            try Socket.connected(to: address)
        } throws: { error in
            guard let error = error as? SocketError, case .system(let call, let errno, let target) = error else { return false }
            return call == .connect && errno == .ECONNREFUSED && target == address
                && error.description.contains("ECONNREFUSED (111, Connection refused)")
                && error.description.contains("nothing listens on \(address): start the server first")
                && error.exitStatus == .failure
        }
    }

    @Test("EADDRINUSE when a port is taken, with the hint about TIME_WAIT and reuseAddress")
    func addressInUse() throws {
        let (listener, address) = try loopbackListener()
        let second = try Socket.tcp()
        #expect {
            try second.bind(to: address)
        } throws: { error in
            guard let error = error as? SocketError else { return false }
            return error.errno == .EADDRINUSE && error.description.contains("bind()")
                && error.hint!.contains("TIME_WAIT") && error.hint!.contains(".reuseAddress")
        }
        withExtendedLifetime(listener) {}
    }

    @Test("zero-linger close sends RST: the peer's recv fails with ECONNRESET")
    func abortiveClose() throws {
        let (listener, address) = try loopbackListener()
        let client = try Socket.connected(to: address)
        let (connection, _) = try listener.accept()
        try connection.set(.linger, .abort)
        #expect(try connection.get(.linger) == .abort)
        try connection.close()
        #expect {
            _ = try client.receive(upTo: 10)
        } throws: { error in
            guard let error = error as? SocketError else { return false }
            return error.errno == .ECONNRESET && error.hint!.contains("RST")
        }
    }

    @Test("TCP_INFO shows the states through a connection's life")
    func statesThroughLife() throws {
        let (listener, address) = try loopbackListener()
        #expect(try listener.tcpInfo.state == .listen)

        let client = try Socket.connected(to: address)
        let (server, _) = try listener.accept()
        #expect(try client.tcpInfo.state == .established)
        #expect(try server.tcpInfo.state == .established)
        #expect(try client.tcpInfo.sendMSS > 0)

        try client.shutdown(.write)  // client sends FIN …
        #expect(try eventually { try client.tcpInfo.state == .finWait2 }, "… the server ACKs it: client FIN-WAIT-2")
        #expect(try eventually { try server.tcpInfo.state == .closeWait }, "server got the FIN: CLOSE-WAIT")

        try server.shutdown(.write)  // server's FIN; the client's ACK ends it
        #expect(try eventually { try server.tcpInfo.state == .closed })
        // The client's socket now stands for a TIME-WAIT connection; Linux reports CLOSED
        // on the descriptor and keeps TIME-WAIT in a separate, lighter structure.
        #expect(try eventually { try client.tcpInfo.state == .closed })
    }

    @Test("options read back what was set")
    func options() throws {
        let socket = try Socket.tcp()
        try socket.set(.noDelay, true)
        #expect(try socket.get(.noDelay))
        try socket.set(.keepAlive, true)
        try socket.set(.keepAliveIdle, 7)
        try socket.set(.keepAliveInterval, 3)
        try socket.set(.keepAliveCount, 4)
        #expect(try socket.get(.keepAlive))
        #expect(try socket.get(.keepAliveIdle) == 7)
        #expect(try socket.get(.keepAliveInterval) == 3)
        #expect(try socket.get(.keepAliveCount) == 4)
        try socket.set(.receiveTimeout, .milliseconds(250))
        let timeout = try socket.get(.receiveTimeout)
        // The kernel keeps timeouts in jiffies (1–10 ms) and reads back the rounded value.
        #expect(timeout >= .milliseconds(250) && timeout <= .milliseconds(260), "read back \(timeout)")
        try socket.set(.ttl, 7)
        #expect(try socket.get(.ttl) == 7)
        try socket.set(.sendBufferSize, 8192)
        #expect(try socket.get(.sendBufferSize) == 16384, "Linux doubles SO_SNDBUF for its bookkeeping")
        try socket.set(.reusePort, true)
        #expect(try socket.get(.reusePort))

        let v6 = try Socket.tcp(.ipv6)
        try v6.set(.v6Only, true)
        #expect(try v6.get(.v6Only))
        try v6.set(.hopLimit, 9)
        #expect(try v6.get(.hopLimit) == 9)
    }

    @Test("a receive timeout ends a silent wait with EAGAIN and says so")
    func receiveTimeout() throws {
        let (listener, address) = try loopbackListener()
        let client = try Socket.connected(to: address)
        let (server, _) = try listener.accept()
        try client.set(.receiveTimeout, .milliseconds(50))
        #expect {
            _ = try client.receive(upTo: 1)
        } throws: { error in
            (error as? SocketError)?.errno == .EAGAIN && (error as? SocketError)?.hint?.contains("timeout") == true
        }
        _ = server
    }

    @Test("EOF before the promised byte count is unexpectedEOF with the counts")
    func shortRead() throws {
        let (listener, address) = try loopbackListener()
        let client = try Socket.connected(to: address)
        let (server, _) = try listener.accept()
        try server.send([1, 2, 3])
        try server.close()
        #expect(throws: SocketError.unexpectedEOF(expected: 10, received: 3)) {
            try client.receive(exactly: 10)
        }
    }

    @Test("a closed socket refuses further use, and closing twice is harmless")
    func useAfterClose() throws {
        let socket = try Socket.tcp()
        try socket.close()
        try socket.close()
        #expect(socket.isClosed)
        #expect(throws: SocketError.closed) { try socket.send("x") }
    }
}
