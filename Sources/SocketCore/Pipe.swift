import CLinux
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One end of a pipe or a FIFO: the oldest IPC between two processes, and what socketpair()
/// is compared with. A pipe carries bytes one way and keeps no message boundaries; writes of
/// up to PIPE_BUF (4096) bytes are atomic, larger ones may interleave with another writer's.
///
/// Owns its descriptor and closes it exactly once, as `Socket` does.
public final class PipeEnd: Sendable, CustomStringConvertible {
    private let fd: Atomic<Int32>

    /// Takes ownership of a descriptor that pipe2() or open() returned, or that this process
    /// inherited (a child's standard input).
    public init(adopting descriptor: Int32) {
        fd = Atomic(descriptor)
    }

    /// `open(path, O_RDONLY or O_WRONLY | O_CLOEXEC [| O_NONBLOCK])`: a FIFO by its name.
    /// Without `nonBlocking` the open waits until the other end is opened too, which is how
    /// two processes meet at a FIFO; with it, opening for writing fails with ENXIO while
    /// nobody reads.
    public convenience init(opening path: String, forWriting: Bool, nonBlocking: Bool = false) throws(SocketError) {
        var flags = (forWriting ? O_WRONLY : O_RDONLY) | O_CLOEXEC
        if nonBlocking { flags |= O_NONBLOCK }
        let descriptor = try syscall(.open) { Glibc.open(path, flags) }
        self.init(adopting: descriptor)
    }

    deinit {
        let descriptor = fd.load(ordering: .relaxed)
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    public var descriptor: Int32 { fd.load(ordering: .acquiring) }

    @inline(__always)
    func open() throws(SocketError) -> Int32 {
        let descriptor = fd.load(ordering: .acquiring)
        guard descriptor >= 0 else { throw .closed }
        return descriptor
    }

    /// One `read(fd, buf, len)`: bytes read, 0 meaning every writer has closed its end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int {
        let fd = try open()
        return try syscall(.read) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// One `write(fd, buf, len)`: bytes taken, fewer than asked only when a signal or a
    /// non-blocking end cut it short. Writing when nobody reads is EPIPE (SIGPIPE is the
    /// caller's to ignore: write() has no MSG_NOSIGNAL).
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        let fd = try open()
        return try syscall(.write) { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    /// `fcntl(F_SETFL)`: clears or sets O_NONBLOCK.
    public func setNonBlocking(_ on: Bool) throws(SocketError) {
        let fd = try open()
        let flags = try syscall(.fcntl) { fcntl(fd, F_GETFL) }
        _ = try syscall(.fcntl) { fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) }
    }

    /// `close(fd)`; a second call does nothing.
    public func close() throws(SocketError) {
        let descriptor = fd.exchange(-1, ordering: .acquiringAndReleasing)
        guard descriptor >= 0 else { return }
        if Glibc.close(descriptor) == -1, Errno.current != .EINTR {
            throw .system(call: .close, errno: .current, address: nil)
        }
    }

    public var description: String { "PipeEnd(fd \(descriptor))" }
}

/// Anonymous pipes and named ones (FIFOs).
extension PipeEnd {
    /// `pipe2(fds, O_CLOEXEC)`: a reading end and a writing end, inherited only by a child
    /// that is handed them on purpose.
    public static func makePipe() throws(SocketError) -> (reading: PipeEnd, writing: PipeEnd) {
        var fds: [Int32] = [-1, -1]
        let result = fds.withUnsafeMutableBufferPointer { socketlab_pipe_cloexec($0.baseAddress!) }
        guard result == 0 else { throw .system(call: .pipe, errno: .current, address: nil) }
        return (PipeEnd(adopting: fds[0]), PipeEnd(adopting: fds[1]))
    }

    /// `mkfifo(path, 0600)`: a FIFO in the file system that two unrelated processes open by
    /// name. An existing path is EEXIST: the caller decides whether an existing FIFO will do.
    public static func makeFIFO(at path: String) throws(SocketError) {
        _ = try syscall(.mkfifo) { Glibc.mkfifo(path, 0o600) }
    }
}

/// `ioctl(fd, FIONREAD)`: bytes waiting to be read — what a stream socket or a pipe holds, or
/// the size of the next datagram on a datagram socket.
public func bytesReadable(descriptor: Int32) throws(SocketError) -> Int {
    Int(try syscall(.ioctl("FIONREAD")) { socketlab_bytes_readable(descriptor) })
}

/// `sched_setaffinity(0, {cpu})`: the calling thread runs on `cpu` only, so a benchmark's two
/// processes stay on the CPUs it chose and the scheduler's moves do not show in the numbers.
public func pinToCPU(_ cpu: Int) throws(SocketError) {
    _ = try syscall(.sched_setaffinity) { socketlab_pin_to_cpu(Int32(cpu)) }
}
