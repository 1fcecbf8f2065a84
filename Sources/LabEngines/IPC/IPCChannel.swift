#if canImport(Glibc)
import Glibc
#endif
import ExitStatus
import SocketCore

/// One process's end of a mechanism: where it reads and where it writes — one socket for
/// every kind of socket, two pipe ends for a pipe or a pair of FIFOs (a pipe goes one way).
///
/// Every read and write is one system call and is counted, so "system calls per message" is
/// what the two processes really made, not an estimate.
public final class IPCChannel {
    enum End {
        case socket(Socket)
        case pipe(PipeEnd)
    }

    public let mechanism: Mechanism
    let reading: End
    let writing: End
    /// read(), write(), send() and recv() calls made so far.
    var calls = 0

    init(_ mechanism: Mechanism, reading: End, writing: End) {
        self.mechanism = mechanism
        self.reading = reading
        self.writing = writing
    }

    convenience init(_ mechanism: Mechanism, socket: Socket) {
        self.init(mechanism, reading: .socket(socket), writing: .socket(socket))
    }

    /// One write() or send(): what the kernel took.
    @inline(__always)
    func writeSome(_ buffer: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        calls += 1
        switch writing {
        case .socket(let socket): return try socket.sendSome(buffer)
        case .pipe(let end): return try end.write(buffer)
        }
    }

    /// One read() or recv(): what arrived, 0 at end of file.
    @inline(__always)
    func readSome(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int {
        calls += 1
        switch reading {
        case .socket(let socket): return try socket.receive(into: buffer)
        case .pipe(let end): return try end.read(into: buffer)
        }
    }

    /// Sends one message: a datagram or a seqpacket whole in one call; on a stream or a pipe,
    /// as many calls as it takes (a short write is normal there).
    func send(_ buffer: UnsafeRawBufferPointer) throws(SocketError) {
        var offset = 0
        repeat {
            offset += try writeSome(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
        } while offset < buffer.count
    }

    /// Receives one message of `size` bytes into the start of `buffer`: one call where the
    /// mechanism keeps boundaries (the result is the message's size, which the caller checks),
    /// reads until `size` bytes where it does not. End of file before that is an error.
    func receive(_ size: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if mechanism.keepsBoundaries {
            let got = try readSome(into: buffer)
            if got == 0 && size > 0 { throw IPCError.peerClosed(mechanism: mechanism, after: 0, of: size) }
            return got
        }
        var filled = 0
        while filled < size {
            let got = try readSome(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<size]))
            if got == 0 { throw IPCError.peerClosed(mechanism: mechanism, after: filled, of: size) }
            filled += got
        }
        return filled
    }

    /// The descriptor reads come from, for poll() and FIONREAD.
    var readDescriptor: Int32 {
        switch reading {
        case .socket(let socket): socket.descriptor
        case .pipe(let end): end.descriptor
        }
    }

    /// Waits until there is something to read, at most `timeout`: false when the time ran out.
    func waitReadable(timeout: Duration) throws(SocketError) -> Bool {
        var poller = Poller()
        poller.watch(descriptor: readDescriptor, for: .readable)
        return try !poller.wait(timeout: timeout).isEmpty
    }

    /// Gives up on a receive after `timeout` (SO_RCVTIMEO): only UDP needs it, since only UDP
    /// can lose the message a process waits for; the other mechanisms end in EOF when the
    /// other process dies.
    func limitReceiveWait(to timeout: Duration) throws(SocketError) {
        if case .socket(let socket) = reading, mechanism.mayLose { try socket.set(.receiveTimeout, timeout) }
    }

    public func close() {
        for end in [reading, writing] {
            switch end {
            case .socket(let socket): try? socket.close()
            case .pipe(let end): try? end.close()
            }
        }
    }
}

/// What can go wrong between the two processes of a measurement.
public enum IPCError: ExitStatusError, Sendable {
    case peerClosed(mechanism: Mechanism, after: Int, of: Int)
    case wrongSize(mechanism: Mechanism, expected: Int, got: Int)
    case corrupted(mechanism: Mechanism, atByte: Int)
    case peerFailed(mechanism: Mechanism, reason: String)
    case badPlan(String)
    /// A path or a name given on the command line that cannot be used (bad input).
    case unusable(String)

    /// A name or path the user gave that cannot be used is bad input; the rest is a failure.
    public var exitStatus: ExitStatus {
        switch self {
        case .unusable: .badInput
        default: .failure
        }
    }

    public var description: String {
        switch self {
        case .peerClosed(let mechanism, let after, let of):
            "\(mechanism): the other process closed its end after \(after) of \(of) bytes of a message"
        case .wrongSize(let mechanism, let expected, let got):
            "\(mechanism): a read returned \(got) bytes where one message of \(expected) was expected"
        case .corrupted(let mechanism, let atByte):
            "\(mechanism): the bytes that came back differ from those sent, from byte \(atByte) on"
        case .peerFailed(let mechanism, let reason): "\(mechanism): the child process \(reason)"
        case .badPlan(let text): "not a measurement plan: \(text)"
        case .unusable(let text): text
        }
    }
}
