/// Messages over a byte stream: lines, or frames with a 4-byte length in front.
///
/// TCP delivers bytes, not messages — one recv() may hold half a message or three. A
/// protocol therefore marks where each message ends, and the reader keeps what it has
/// received past that end for the next message. This type is that reader (and the writer).
///
/// Every message has a size limit: a peer that never sends the newline, or announces a
/// 4 GiB frame, gets a `messageTooLarge` error instead of filling memory.
public struct MessageStream: Sendable {
    public let socket: Socket
    /// The largest line (without its newline) or frame payload accepted, in bytes.
    public let maxMessageSize: Int
    private var buffer: [UInt8] = []
    /// Where unread bytes start in `buffer`; compacted lazily so reads stay O(n).
    private var start = 0
    /// How far `buffer` has been searched for a newline already.
    private var scanned = 0
    private var reachedEOF = false

    public init(_ socket: Socket, maxMessageSize: Int = 64 << 10) {
        self.socket = socket
        self.maxMessageSize = maxMessageSize
    }

    // MARK: Lines

    /// The next line, without its `\n` (and a `\r` before it). A last line without a
    /// newline before EOF is returned as it is; nil means EOF with nothing left.
    public mutating func readLine() throws(SocketError) -> String? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                guard end - start <= maxMessageSize else {
                    throw .messageTooLarge(limit: maxMessageSize, size: end - start)
                }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                consume(upTo: newline + 1)
                return line
            }
            scanned = buffer.count
            guard buffer.count - start <= maxMessageSize else {
                throw .messageTooLarge(limit: maxMessageSize, size: buffer.count - start)
            }
            if reachedEOF {
                guard start < buffer.count else { return nil }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                consume(upTo: buffer.count)
                return line
            }
            try fill()
        }
    }

    /// Sends `line` and a `\n`, in one send() so the line is never split by this side.
    public func writeLine(_ line: String) throws(SocketError) {
        try socket.send(Array(line.utf8) + [UInt8(ascii: "\n")])
    }

    // MARK: Length-prefixed frames

    /// The next frame's payload: a 4-byte big-endian length, then that many bytes.
    /// nil means EOF between frames; EOF inside a frame is `unexpectedEOF`.
    public mutating func readFrame() throws(SocketError) -> [UInt8]? {
        guard try buffered(bytes: 4, eofAllowed: true) else { return nil }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= maxMessageSize else { throw .messageTooLarge(limit: maxMessageSize, size: length) }
        guard try buffered(bytes: 4 + length, eofAllowed: false) else { return nil }
        let payload = Array(buffer[start + 4..<start + 4 + length])
        consume(upTo: start + 4 + length)
        return payload
    }

    /// Sends a 4-byte big-endian length and the payload, in one send().
    public func writeFrame(_ payload: [UInt8]) throws(SocketError) {
        guard payload.count <= maxMessageSize, payload.count <= Int(UInt32.max) else {
            throw .messageTooLarge(limit: maxMessageSize, size: payload.count)
        }
        let length = UInt32(payload.count)
        let header: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        try socket.send(header + payload)
    }

    // MARK: Raw bytes after the messages

    /// The next bytes of the stream after the messages read so far (a file after its header):
    /// first whatever the reader buffered past the last message, then one recv() straight
    /// into `destination`, with no copy through the buffer. 0 means EOF.
    public mutating func readBytes(into destination: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int {
        guard !destination.isEmpty else { return 0 }
        if start < buffer.count {
            let count = min(destination.count, buffer.count - start)
            buffer.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + count]))
            }
            consume(upTo: start + count)
            return count
        }
        if reachedEOF { return 0 }
        let count = try socket.receive(into: destination)
        if count == 0 { reachedEOF = true }
        return count
    }

    // MARK: Buffering

    /// Reads until `count` unread bytes are buffered. False at EOF before any of them
    /// arrived (when that is allowed); EOF partway is `unexpectedEOF`.
    private mutating func buffered(bytes count: Int, eofAllowed: Bool) throws(SocketError) -> Bool {
        while buffer.count - start < count {
            if reachedEOF {
                let have = buffer.count - start
                if have == 0 && eofAllowed { return false }
                throw .unexpectedEOF(expected: count, received: have)
            }
            try fill()
        }
        return true
    }

    /// One recv() appended to the buffer.
    private mutating func fill() throws(SocketError) {
        let chunk = try socket.receive(upTo: 16 << 10)
        if chunk.isEmpty { reachedEOF = true } else { buffer.append(contentsOf: chunk) }
    }

    private mutating func consume(upTo end: Int) {
        start = end
        scanned = end
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        } else if start > 64 << 10 && start > buffer.count / 2 {
            buffer.removeSubrange(..<start)
            scanned -= start
            start = 0
        }
    }
}
