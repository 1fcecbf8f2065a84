#if canImport(Glibc)
import Glibc
#endif
import LabHost
import SocketCore

/// How the two processes of a mechanism find each other: the parent makes its end before it
/// starts the child, and hands the child either an open descriptor (pipe(), socketpair():
/// the child's standard input and output, as inetd gave a server its connection) or a name to
/// open (a FIFO's path, a Unix socket's path or abstract name, a loopback address).
///
/// The child always speaks first — one byte, "ready" — so the parent learns a datagram
/// peer's address from it and never reads from a FIFO nobody has opened yet.
struct Rendezvous {
    /// Where FIFOs and Unix socket files go, and the abstract names' prefix.
    struct Place {
        var directory: String
        var abstractPrefix: String
    }

    let mechanism: Mechanism
    /// The child's standard input and output (inherited mechanisms), else nil.
    var childInput: Int32?
    var childOutput: Int32?
    /// What the child is told on its command line: `--address A [--bind B]`.
    var childArguments: [String] = []
    /// Closed in the parent once the child has its copies.
    private var childEnds: [IPCChannel.End] = []
    private var listener: Socket?
    private var parentSocket: Socket?
    private var parentReading: PipeEnd?
    private var fifoToPeer: String?

    static let meetTimeout: Duration = .seconds(10)

    /// The parent's half, made before the child starts.
    init(_ mechanism: Mechanism, place: Place) throws {
        self.mechanism = mechanism
        switch mechanism {
        case .pipe:
            let toChild = try PipeEnd.makePipe(), fromChild = try PipeEnd.makePipe()
            childInput = toChild.reading.descriptor
            childOutput = fromChild.writing.descriptor
            childEnds = [.pipe(toChild.reading), .pipe(fromChild.writing)]
            parentReading = fromChild.reading
            pipeWriting = toChild.writing
        case .socketpairStream, .socketpairDgram, .socketpairSeqpacket:
            let type: SocketType = mechanism == .socketpairStream ? .stream : mechanism == .socketpairDgram ? .datagram : .seqPacket
            let (mine, theirs) = try Socket.pair(type)
            childInput = theirs.descriptor
            childOutput = theirs.descriptor
            childEnds = [.socket(theirs)]
            parentSocket = mine
        case .fifo:
            let toPeer = place.directory + "/ipc-to-peer", fromPeer = place.directory + "/ipc-from-peer"
            for path in [toPeer, fromPeer] { try Self.makeFIFO(path) }
            // Opened now, without waiting: the child's open for writing then finds a reader.
            parentReading = try PipeEnd(opening: fromPeer, forWriting: false, nonBlocking: true)
            fifoToPeer = toPeer
            childArguments = ["--address", place.directory]
        case .unixStream, .unixStreamAbstract:
            let address = try mechanism == .unixStream
                ? SocketAddress.unix(path: place.directory + "/ipc-stream.sock")
                : SocketAddress.unix(path: "@" + place.abstractPrefix + "-stream")
            listener = try Socket.listening(on: address, backlog: 1)
            childArguments = ["--address", "\(address)"]
        case .tcp4, .tcp6:
            let family: AddressFamily = mechanism == .tcp4 ? .ipv4 : .ipv6
            let socket = try Socket.listening(on: .loopback(0, family: family), backlog: 1)
            listener = socket
            childArguments = ["--address", "\(try socket.localAddress)"]
        case .unixDgram, .unixDgramAbstract:
            let (mine, theirs) = try mechanism == .unixDgram
                ? (SocketAddress.unix(path: place.directory + "/ipc-parent.sock"), SocketAddress.unix(path: place.directory + "/ipc-peer.sock"))
                : (SocketAddress.unix(path: "@" + place.abstractPrefix + "-parent"), SocketAddress.unix(path: "@" + place.abstractPrefix + "-peer"))
            for address in [mine, theirs] {
                if case .unix(.path(let path)) = address { Self.removeStaleSocketFile(path) }
            }
            let socket = try Socket.unixDatagram()
            try Self.bind(socket, to: mine)
            parentSocket = socket
            childArguments = ["--address", "\(mine)", "--bind", "\(theirs)"]
        case .udp4, .udp6:
            let family: AddressFamily = mechanism == .udp4 ? .ipv4 : .ipv6
            let socket = try Socket.udp(family)
            try socket.bind(to: .loopback(0, family: family))
            parentSocket = socket
            childArguments = ["--address", "\(try socket.localAddress)", "--bind", "\(SocketAddress.loopback(0, family: family))"]
        }
    }

    private var pipeWriting: PipeEnd?

    /// The parent's half, finished once the child runs: accept, open, learn the peer.
    mutating func meet(_ child: ChildProcess) throws -> IPCChannel {
        for end in childEnds {
            switch end {
            case .socket(let socket): try? socket.close()
            case .pipe(let pipe): try? pipe.close()
            }
        }
        childEnds = []
        let deadline = ContinuousClock.now + Self.meetTimeout
        func stillWaiting() throws {
            guard child.isRunning else { throw IPCError.peerFailed(mechanism: mechanism, reason: "exited before it was ready (\(child.exitStatus.map { "\($0)" } ?? "?"))") }
            guard ContinuousClock.now < deadline else { throw IPCError.peerFailed(mechanism: mechanism, reason: "was not ready within \(Self.meetTimeout)") }
        }
        let channel: IPCChannel
        switch mechanism {
        case .pipe:
            channel = IPCChannel(mechanism, reading: .pipe(parentReading!), writing: .pipe(pipeWriting!))
        case .fifo:
            // ENXIO until the child has opened its reading end.
            var writing: PipeEnd?
            while writing == nil {
                do {
                    writing = try PipeEnd(opening: fifoToPeer!, forWriting: true, nonBlocking: true)
                } catch {
                    guard error.errno == .ENXIO else { throw error }
                    try stillWaiting()
                    usleep(1000)
                }
            }
            try writing!.setNonBlocking(false)
            channel = IPCChannel(mechanism, reading: .pipe(parentReading!), writing: .pipe(writing!))
        case .unixStream, .unixStreamAbstract, .tcp4, .tcp6:
            let listener = listener!
            var poller = Poller()
            poller.watch(listener, for: .readable)
            while try poller.wait(timeout: .milliseconds(100)).isEmpty { try stillWaiting() }
            let (socket, _) = try listener.accept()
            try listener.close()
            if mechanism == .tcp4 || mechanism == .tcp6 { try socket.set(.noDelay, true) }
            channel = IPCChannel(mechanism, socket: socket)
        case .socketpairStream, .socketpairDgram, .socketpairSeqpacket, .unixDgram, .unixDgramAbstract, .udp4, .udp6:
            channel = IPCChannel(mechanism, socket: parentSocket!)
        }
        // The child's "ready": one byte (from a datagram peer, with its address).
        while try !channel.waitReadable(timeout: .milliseconds(100)) { try stillWaiting() }
        if case .pipe(let reading) = channel.reading { try reading.setNonBlocking(false) }
        if mechanism == .unixDgram || mechanism == .unixDgramAbstract || mechanism == .udp4 || mechanism == .udp6 {
            let ready = try parentSocket!.receiveFrom(upTo: 16)
            guard let sender = ready.sender else { throw IPCError.peerFailed(mechanism: mechanism, reason: "said ready from an unnamed socket") }
            try parentSocket!.connect(to: sender)
        } else {
            var byte: UInt8 = 0
            let got = try withUnsafeMutableBytes(of: &byte) { try channel.readSome(into: $0) }
            guard got == 1 else { throw IPCError.peerFailed(mechanism: mechanism, reason: "closed its end before it was ready") }
        }
        channel.calls = 0
        return channel
    }

    /// The child's half: its end of the mechanism, from its standard input and output or from
    /// the name it was given; then "ready".
    static func join(_ mechanism: Mechanism, address: String?, bind: String?) throws -> IPCChannel {
        func named() throws -> String {
            guard let address else { throw IPCError.badPlan("\(mechanism) needs --address") }
            return address
        }
        let channel: IPCChannel
        switch mechanism {
        case .pipe:
            channel = IPCChannel(mechanism, reading: .pipe(PipeEnd(adopting: 0)), writing: .pipe(PipeEnd(adopting: 1)))
        case .socketpairStream, .socketpairDgram, .socketpairSeqpacket:
            let type: SocketType = mechanism == .socketpairStream ? .stream : mechanism == .socketpairDgram ? .datagram : .seqPacket
            channel = IPCChannel(mechanism, socket: Socket(adopting: 0, family: .unix, type: type))
        case .fifo:
            let directory = try named()
            // The same order as the parent: its reading end is open, so this open for writing
            // cannot wait for ever; this open for reading waits until the parent writes.
            let reading = try PipeEnd(opening: directory + "/ipc-to-peer", forWriting: false)
            let writing = try PipeEnd(opening: directory + "/ipc-from-peer", forWriting: true)
            channel = IPCChannel(mechanism, reading: .pipe(reading), writing: .pipe(writing))
        case .unixStream, .unixStreamAbstract, .tcp4, .tcp6:
            let socket = try Socket.connected(to: SocketAddress(try named()), timeout: meetTimeout)
            if mechanism == .tcp4 || mechanism == .tcp6 { try socket.set(.noDelay, true) }
            channel = IPCChannel(mechanism, socket: socket)
        case .unixDgram, .unixDgramAbstract, .udp4, .udp6:
            guard let bind else { throw IPCError.badPlan("\(mechanism) needs --bind") }
            let peer = try SocketAddress(try named()), mine = try SocketAddress(bind)
            let socket = mechanism == .udp4 || mechanism == .udp6 ? try Socket.udp(peer.family) : try Socket.unixDatagram()
            if case .unix(.path(let path)) = mine { removeStaleSocketFile(path) }
            try Self.bind(socket, to: mine)
            try socket.connect(to: peer)
            channel = IPCChannel(mechanism, socket: socket)
        }
        var ready: UInt8 = 0x52  // "R"
        try withUnsafeBytes(of: &ready) { try channel.send($0) }
        channel.calls = 0
        return channel
    }

    /// bind(), with the one failure a student's system may give for an abstract name said
    /// in words: abstract names are Linux's, and a kernel without them takes the leading NUL
    /// for an empty path.
    private static func bind(_ socket: Socket, to address: SocketAddress) throws {
        do {
            try socket.bind(to: address)
        } catch {
            guard (error.errno == .EINVAL || error.errno == .ENOENT) && address.isAbstract else { throw error }
            throw IPCError.unusable("\(address): this system has no abstract Unix socket names (a Linux feature); leave out the -abstract mechanisms")
        }
    }

    /// mkfifo(), accepting a FIFO that is already there and refusing anything else by name.
    static func makeFIFO(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFIFO else {
                throw IPCError.unusable("\(path) exists and is \(fileKind(info.st_mode)), not a FIFO: remove it or choose another --dir")
            }
            return
        }
        try PipeEnd.makeFIFO(at: path)
    }

    static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFSOCK: "a Unix socket file"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "something else"
        }
    }

    /// A socket file left by an earlier run (nobody can be bound to it once its process is
    /// gone: a datagram path is not reused by the kernel, bind() fails with EADDRINUSE).
    private static func removeStaleSocketFile(_ path: String) {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }
}

extension SocketAddress {
    var isAbstract: Bool {
        if case .unix(.abstract) = self { return true }
        return false
    }
}
