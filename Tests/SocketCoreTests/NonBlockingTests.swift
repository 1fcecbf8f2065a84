import Testing
@testable import SocketCore

/// A non-blocking socket's "not now" is a value, and a call's name is a type.
@Suite("non-blocking calls and named system calls")
struct NonBlockingTests {
    @Test("recv on an empty non-blocking socket is .wouldBlock, then the bytes, then EOF as 0")
    func receiveWouldBlock() throws {
        let (left, right) = try Socket.pair()
        try left.setNonBlocking(true)
        var buffer = [UInt8](repeating: 0, count: 16)
        let empty = try buffer.withMutableBytes { (raw) throws(SocketError) in try left.tryReceive(into: raw) }
        #expect(empty == .wouldBlock)
        try right.send("hi")
        let got = try buffer.withMutableBytes { (raw) throws(SocketError) in try left.tryReceive(into: raw) }
        #expect(got == .ready(2))
        try right.close()
        let end = try buffer.withMutableBytes { (raw) throws(SocketError) in try left.tryReceive(into: raw) }
        #expect(end == .ready(0), "EOF is a count of 0, not a would-block")
    }

    @Test("send on a full non-blocking socket takes what fits, then says .wouldBlock")
    func sendWouldBlock() throws {
        let (left, right) = try Socket.pair()
        defer { try? right.close() }  // kept open: a closed peer would make send() fail with EPIPE
        try left.setNonBlocking(true)
        let chunk = [UInt8](repeating: 7, count: 65_536)
        var taken = 0, full = false
        for _ in 0..<1_000 where !full {
            let outcome = try chunk.withBytes { (raw) throws(SocketError) in try left.trySendSome(raw) }
            switch outcome {
            case .ready(let count): taken += count
            case .wouldBlock: full = true
            }
        }
        #expect(full, "nobody reads, so the buffer fills")
        #expect(taken > 0)
    }

    @Test("accept on a non-blocking listener with nobody waiting is .wouldBlock")
    func acceptWouldBlock() throws {
        let listener = try Socket.listening(on: .loopback(0))
        try listener.setNonBlocking(true)
        guard case .wouldBlock = try listener.tryAccept() else {
            Issue.record("an empty queue must not hand over a connection")
            return
        }
        let client = try Socket.connected(to: try listener.localAddress)
        defer { try? client.close() }
        var accepted = false
        for _ in 0..<200 where !accepted {
            if case .ready = try listener.tryAccept() { accepted = true } else { usleep(5_000) }
        }
        #expect(accepted)
    }

    @Test("an error names its call once: setsockopt(SO_REUSEADDR), connect()")
    func callNames() throws {
        let option = SocketError.system(call: .setsockopt("SO_REUSEADDR"), errno: .EINVAL, address: nil)
        #expect(option.description.hasPrefix("setsockopt(SO_REUSEADDR) failed: EINVAL"))
        let closed = try Socket.listening(on: .loopback(0))
        let port = try closed.localAddress.port ?? 0
        try closed.close()
        #expect {
            try Socket.connected(to: .loopback(port))
        } throws: { error in
            guard let error = error as? SocketError, case .system(.connect, .ECONNREFUSED, _) = error else { return false }
            return error.description.hasPrefix("connect() 127.0.0.1:\(port) failed: ECONNREFUSED")
        }
    }

    @Test("errno names come from the C library, for any errno")
    func errnoNames() {
        #expect(Errno.ECONNREFUSED.name == "ECONNREFUSED")
        #expect(Errno(rawValue: 110).name == "ETIMEDOUT")
        #expect(Errno(rawValue: 9999).name == "E9999")
    }
}

#if canImport(Glibc)
import Glibc
#endif
