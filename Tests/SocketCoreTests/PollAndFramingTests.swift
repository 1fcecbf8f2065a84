import Foundation
import Synchronization
import Testing
@testable import SocketCore

/// poll() and messages over a byte stream.
@Suite("poll() and message framing")
struct PollAndFramingTests {
    @Test("poll() with nothing ready returns empty when the timeout passes")
    func pollTimeout() throws {
        let (left, right) = try Socket.pair()
        var poller = Poller()
        poller.watch(left, for: .readable)
        #expect(try poller.wait(timeout: .milliseconds(20)).isEmpty)
        try right.send("x")
        let ready = try poller.wait(timeout: .seconds(5))
        #expect(ready == [PollEvent(descriptor: left.descriptor, events: .readable)])
        try right.close()
        let closed = try poller.wait(timeout: .seconds(5))
        #expect(closed.first?.events.contains(.readable) == true)
        poller.remove(left)
        #expect(poller.count == 0)
    }

    @Test("lines split and merged by TCP come out as the lines that were written")
    func linesOverAStream() throws {
        let (left, right) = try Socket.pair()
        let writer = Peer {
            // Byte by byte, then three lines in one send: TCP-like splitting and merging.
            for byte in Array("first line\r\n".utf8) { try left.send([byte]) }
            try left.send("second\nthird\n\nlast without newline")
            try left.close()
        }
        var reader = MessageStream(right)
        var lines: [String] = []
        while let line = try reader.readLine() { lines.append(line) }
        try writer.value()
        #expect(lines == ["first line", "second", "third", "", "last without newline"])
    }

    @Test("length-prefixed frames round-trip, including empty ones")
    func frames() throws {
        let (left, right) = try Socket.pair()
        let payloads = [[], pattern(1), pattern(70_000), Array("hi".utf8)]
        let writer = Peer {
            let stream = MessageStream(left, maxMessageSize: 100_000)
            for payload in payloads { try stream.writeFrame(payload) }
            try left.close()
        }
        var reader = MessageStream(right, maxMessageSize: 100_000)
        var received: [[UInt8]] = []
        while let frame = try reader.readFrame() { received.append(frame) }
        try writer.value()
        #expect(received == payloads)
    }

    @Test("a line or frame over the limit is an error, not unbounded memory")
    func limits() throws {
        let (left, right) = try Socket.pair()
        let writer = Peer { try left.send(Array(repeating: UInt8(ascii: "a"), count: 5000)) }
        var lines = MessageStream(right, maxMessageSize: 1024)
        #expect {
            _ = try lines.readLine()
        } throws: { error in
            guard case .messageTooLarge(let limit, let size) = error as? SocketError else { return false }
            return limit == 1024 && size > 1024
        }
        try writer.value()

        let (a, b) = try Socket.pair()
        try a.send([0xFF, 0xFF, 0xFF, 0xFF])  // announces a 4 GiB frame
        var frames = MessageStream(b, maxMessageSize: 1024)
        #expect(throws: SocketError.messageTooLarge(limit: 1024, size: 0xFFFF_FFFF)) { _ = try frames.readFrame() }
    }

    @Test("EOF inside a frame is unexpectedEOF")
    func truncatedFrame() throws {
        let (a, b) = try Socket.pair()
        try a.send([0, 0, 0, 10, 1, 2, 3])
        try a.close()
        var frames = MessageStream(b)
        #expect(throws: SocketError.unexpectedEOF(expected: 14, received: 7)) { _ = try frames.readFrame() }
    }
}
