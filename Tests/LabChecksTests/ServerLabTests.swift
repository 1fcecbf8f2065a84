import FrameBuilder
import TextOutput
import Foundation
import LabServers
import PacketCapture
import Packets
import SocketCore
import Synchronization
import Testing
import TestSupport
@testable import LabChecks

#if canImport(Glibc)
import Glibc
#endif

/// The server labs' black-box checks, each against a server that passes it and one with the
/// mistake it is there to catch, on loopback. No root: the one check that reads the capture
/// is a pure function of frames, tested on hand-built ones.

/// A server on its own thread for the length of a test: `handle` serves one accepted
/// connection; `concurrent` serves each on its own thread, otherwise one after the other.
final class TestServer: Sendable {
    let listener: Socket
    let address: SocketAddress

    init(concurrent: Bool = true, handle: @escaping @Sendable (Socket) -> Void) throws {
        listener = try Socket.listening(on: .loopback(0), backlog: 128)
        address = try listener.localAddress
        let listener = self.listener
        _ = Peer { () -> Void in
            while let (connection, _) = try? listener.accept() {
                if concurrent { _ = Peer { handle(connection); try? connection.close() } } else { handle(connection); try? connection.close() }
            }
        }
    }

    deinit { try? listener.shutdown(.both); try? listener.close() }
}

/// Runs a reference server on its own thread for the length of `body`.
func whileRunning(_ server: some ReferenceServer, _ body: (SocketAddress) throws -> Void) throws {
    let running = Peer { try server.run(log: { _ in }) }
    defer { server.stop(); _ = try? running.value() }
    try body(server.address)
}

@Suite("Lab 05: the echo server's black-box checks", .serialized)
struct Lab05CheckTests {
    /// The reference: every byte back, at any size, to every client at once.
    static func withEchoServer(_ body: (SocketAddress) throws -> Void) throws {
        try whileRunning(try EchoServer(listeningOn: .loopback(0)), body)
    }

    @Test("the reference passes small echo, 1 MiB, 50 concurrent clients and half-close")
    func referencePasses() throws {
        try Self.withEchoServer { address in
            let results = [Lab05.smallEcho(address), Lab05.oneMebibyte(address), Lab05.concurrentClients(address, count: 50), Lab05.halfClose(address)]
            #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
        }
    }

    @Test("a server that drops what a non-blocking send() did not take passes 1 MiB but fails back-pressure with the bytes lost")
    func dropsUnderBackPressure() throws {
        let server = try TestServer { connection in
            try? connection.setNonBlocking(true)
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let got = buffer.withUnsafeMutableBytes { (try? connection.tryReceive(into: $0)) }
                switch got {
                case .some(.ready(let count)) where count > 0:
                    // The bug: one try, and whatever it did not take is gone.
                    _ = buffer.withUnsafeBytes { try? connection.trySendSome(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                case .some(.wouldBlock): usleep(200)
                default: return
                }
            }
        }
        #expect(Lab05.oneMebibyte(server.address).verdict == .pass)
        let result = Lab05.backPressure(server.address)
        #expect(result.verdict == .fail)
        #expect(result.detail.contains("bytes lost"), "\(result.detail)")
        #expect(result.hint?.contains("output queue") == true)
    }

    @Test("a server that takes one recv() as the whole message fails '1 MiB echoed intact' with the byte-stream hint")
    func oneReceiveIsNotAMessage() throws {
        let server = try TestServer { connection in
            if let chunk = try? connection.receive(upTo: 65_536) { try? connection.send(chunk) }
        }
        let result = Lab05.oneMebibyte(server.address)
        #expect(result.verdict == .fail)
        #expect(result.hint?.contains("TCP is a byte stream") == true)
    }

    @Test("a server that serves one client at a time fails '50 concurrent clients' with the poll() hint")
    func oneAtATime() throws {
        let server = try TestServer(concurrent: false) { connection in
            while let chunk = try? connection.receive(upTo: 65_536), !chunk.isEmpty { try? connection.send(chunk) }
        }
        let result = Lab05.concurrentClients(server.address, count: 5)
        #expect(result.verdict == .fail)
        #expect(result.hint?.contains("poll()/select()") == true)
    }

    @Test("a server that closes at end of file with bytes still owed fails 'half-close'")
    func halfCloseLosesTheTail() throws {
        let server = try TestServer { connection in
            // Echoes whole 999-byte records only, and drops what is left at end of file.
            var pending: [UInt8] = []
            while let chunk = try? connection.receive(upTo: 65_536), !chunk.isEmpty {
                pending += chunk
                while pending.count >= 999 { try? connection.send(Array(pending.prefix(999))); pending.removeFirst(999) }
            }
        }
        let result = Lab05.halfClose(server.address)
        #expect(result.verdict == .fail)
        #expect(result.hint?.contains("write back everything still owed") == true)
    }

    @Test("from the capture: the server's FINs pass, an RST from it fails with the frame and the SO_LINGER hint")
    func closesWithFIN() {
        func frame(_ number: Int, flags: Int) -> CapturedFrame {
            let bytes = FrameBuilder.ethernet(FrameBuilder.ipv4(protocol: 6, reply: true,
                                                                FrameBuilder.tcp(sourcePort: 9000, destinationPort: 40000, flags: flags)))
            return CapturedFrame(timestamp: Timestamp(seconds: 0, nanoseconds: 0), originalLength: bytes.count, bytes: bytes, number: number)
        }
        let clean = Lab05.closesWithFIN([frame(1, flags: 0x11), frame(2, flags: 0x11)], linkType: .ethernet, port: 9000)
        #expect(clean.verdict == .pass)
        let reset = Lab05.closesWithFIN([frame(1, flags: 0x11), frame(2, flags: 0x14)], linkType: .ethernet, port: 9000)
        #expect(reset.verdict == .fail)
        #expect(reset.detail.contains("frames 2"))
        #expect(reset.hint?.contains("SO_LINGER 0") == true)
    }

    @Test("the whole lab against the Python reference, as labcheck runs it: every check that needs no capture passes")
    func wholeLabAgainstThePythonReference() throws {
        let probe = try Socket.listening(on: .loopback(0))
        let port = try probe.localAddress.port ?? 0
        try probe.close()
        let directory = try temporaryDirectory("lab05")
        var options = ServerLabOptions(command: "python3 \(repository.path)/Labs/05-echo-server/reference.py \(port)", port: port, lab: "05")
        options.capturePath = directory + "/lab05.pcap"
        options.logPath = directory + "/server.log"
        options.runAs = .thisProcess  // the repository may not be readable by nobody
        let results = Lab05.run(options)
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0.verdict != .fail }, "\(results.filter { $0.verdict == .fail })")
    }
}

/// labcheck runs code it did not write, often as root: it must not give that code root, and it
/// must not leave any of it running.
@Suite("a student's server, started and stopped safely", .serialized, .enabled(if: geteuid() == 0, "needs root: it checks what root hands over"))
struct StudentServerSafetyTests {
    static func freePort() throws -> UInt16 {
        let probe = try Socket.listening(on: .loopback(0))
        defer { try? probe.close() }
        return try probe.localAddress.port ?? 0
    }

    static func options(_ command: String, port: UInt16) throws -> ServerLabOptions {
        let directory = try temporaryDirectory("safety")
        var options = ServerLabOptions(command: command, port: port, lab: "05")
        options.capturePath = directory + "/lab05.pcap"
        options.logPath = directory + "/server.log"
        return options
    }

    @Test("as root without sudo, the server runs as nobody with a clean environment, in a session of its own")
    func runsAsNobody() throws {
        let port = try Self.freePort()
        let options = try Self.options("""
            echo "uid=$(id -u) sid=$(ps -o sid= -p $$ | tr -d ' ') pid=$$"; env; exec python3 -c 'import socket,time
            s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", \(port))); s.listen(); time.sleep(60)'
            """, port: port)
        setenv("SOCKETLAB_SECRET_OF_ROOT", "1", 1)
        unsetenv("SUDO_UID")
        _ = Lab05.run(options)
        let log = try String(contentsOfFile: options.logPath, encoding: .utf8)
        #expect(log.contains("uid=65534"), "\(log)")
        #expect(!log.contains("SOCKETLAB_SECRET_OF_ROOT"), "root's environment does not reach the student's code")
        #expect(log.contains("PATH=/usr/local/bin:/usr/bin:/bin"))
        if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("uid=") }) {
            let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").map { ($0.split(separator: "=")[0], $0.split(separator: "=")[1]) })
            #expect(fields["sid"] == fields["pid"], "the shell leads its own session: \(line)")
        }
    }

    @Test("a server that puts itself in the background is tested, then stopped with everything it started; the port is free")
    func backgroundedServerIsStopped() throws {
        let port = try Self.freePort()
        // The shell exits at once; the server runs on in the background, and a sleeper in a
        // session of its own.
        let sleeper = "sleep 9\(port)"  // a duration no other process on the machine sleeps
        var options = try Self.options("setsid \(sleeper) & python3 \(repository.path)/Labs/05-echo-server/reference.py \(port) &", port: port)
        options.runAs = .thisProcess
        let results = Lab05.run(options)
        #expect(results.first { $0.name == "small echo" }?.verdict == .pass, "\(results.map(\.name))")
        #expect(!results.contains { $0.name == "port free afterwards" }, "\(results.filter { $0.verdict == .fail })")
        #expect((try? Socket.connected(to: .ipv4(.loopback, port), timeout: .milliseconds(300))) == nil, "nothing listens any more")
        let sleepers = try run(["pgrep", "-f", sleeper]).output
        #expect(sleepers.isEmpty, "the setsid'd sleep was found and stopped too: \(sleepers)")
    }

    @Test("a server listening on another port is named with that port, not reported as ended")
    func wrongPort() throws {
        let port = try Self.freePort()
        var other = try Self.freePort()
        while other == port { other = try Self.freePort() }
        var options = try Self.options("python3 \(repository.path)/Labs/05-echo-server/reference.py \(other)", port: port)
        options.runAs = .thisProcess
        let results = Lab05.run(options)
        let detail = results.first?.detail ?? ""
        #expect(results.count == 1 && results[0].verdict == .fail)
        #expect(detail.contains("nothing listens on port \(port): your server listens on port \(other) instead"), "\(detail)")
        #expect(results.first?.hint?.contains("--port \(other)") == true)
        #expect((try? Socket.connected(to: .ipv4(.loopback, other), timeout: .milliseconds(300))) == nil, "labcheck stopped it")
    }

    @Test("a planted symbolic link is never written through, an existing log never replaced: the next free name is used and named")
    func plantedSymlink() throws {
        let port = try Self.freePort()
        let directory = try temporaryDirectory("planted")
        let target = directory + "/precious"
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        symlink(target, directory + "/labcheck-05-server.log")
        var options = ServerLabOptions(command: "echo hello; exit 3", port: port, lab: "05")
        options.logPath = directory + "/labcheck-05-server.log"
        options.capturePath = directory + "/labcheck-05.pcap"
        let results = Lab05.run(options)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me", "the link's target is untouched")
        #expect(results.first?.detail.contains("labcheck-05-server-2.log") == true, "the name is taken: the log went to the next one, and the report says so: \(results.first?.detail ?? "")")
        // A regular file of that name is kept, and the next name taken.
        unlink(directory + "/labcheck-05-server.log")
        try "old log".write(toFile: directory + "/labcheck-05-server.log", atomically: true, encoding: .utf8)
        let second = Lab05.run(options)
        #expect(try String(contentsOfFile: directory + "/labcheck-05-server.log", encoding: .utf8) == "old log")
        #expect(second.first?.detail.contains("labcheck-05-server-3.log") == true, "\(second.first?.detail ?? "")")
        #expect(second.first?.detail.contains("exit status 3") == true, "a server that ends is reported with its status")
    }

    @Test("a server that prints forever fills its log only up to the limit")
    func boundedLog() throws {
        let port = try Self.freePort()
        var options = try Self.options("yes", port: port)
        options.runAs = .thisProcess
        let results = Lab05.run(options)
        #expect(results.first?.verdict == .fail)
        let size = (try FileManager.default.attributesOfItem(atPath: options.logPath)[.size] as? Int) ?? 0
        #expect(size > 0 && size < 5 << 20, "\(size) bytes")
    }
}

@Suite("Lab 06: the chat server's black-box checks", .serialized)
struct Lab06CheckTests {
    static func withChatServer(_ body: (SocketAddress) throws -> Void) throws {
        try whileRunning(try ChatServer(listeningOn: .loopback(0)), body)
    }

    @Test("the reference announces joins, renames and departures, and sends each line to the others")
    func basics() throws {
        try Self.withChatServer { address in
            let results = Lab06.basics(address)
            #expect(results.count == 4)
            #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
        }
    }

    @Test("the reference delivers every line of 10 clients once and in order, and a client that never reads stalls nobody")
    func underLoad() throws {
        try Self.withChatServer { address in
            #expect(Lab06.everyMessageOnce(address, clients: 10, messages: 10).verdict == .pass)
            #expect(Lab06.slowClient(address).verdict == .pass)
        }
    }

    @Test("a server that sends a line back to its sender fails 'message to the others' with that hint")
    func echoesToSender() throws {
        // Everyone gets every line, the sender too: the broadcast forgot to skip it.
        let room = ChatEverybody()
        let server = try TestServer { connection in room.serve(connection) }
        let results = Lab06.basics(server.address)
        let message = results.first { $0.name == "message to the others" }
        #expect(message?.verdict == .fail)
        #expect(message?.hint?.contains("except its sender") == true)
    }
}

/// A chat room with one mistake: a line goes to every client, its sender included.
final class ChatEverybody: Sendable {
    private let clients = Mutex<[Int32: (socket: Socket, nick: String?)]>([:])

    func serve(_ connection: Socket) {
        clients.withLock { $0[connection.descriptor] = (connection, nil) }
        var stream = MessageStream(connection)
        while let line = try? stream.readLine() {
            let me = connection.descriptor
            if line.hasPrefix("NICK ") {
                let nick = String(line.dropFirst(5))
                let others = clients.withLock { table in table.filter { $0.key != me }.map(\.value.socket) }
                clients.withLock { $0[me]?.nick = nick }
                for socket in others { try? socket.send("* \(nick) joined\n") }
            } else {
                let (nick, everyone) = clients.withLock { table in (table[me]?.nick ?? "?", table.values.map(\.socket)) }
                for socket in everyone { try? socket.send("\(nick): \(line)\n") }
            }
        }
        clients.withLock { $0[connection.descriptor] = nil }
    }
}


@Suite("files a tool writes for the student")
struct FreshFileTests {
    @Test("a file given by name replaces a regular file but never writes through a symbolic link")
    func replaceRefusesLinks() throws {
        let directory = try temporaryDirectory("fresh")
        try "old".write(toFile: directory + "/out.pcap", atomically: true, encoding: .utf8)
        let (descriptor, path) = try FreshFile.open(directory + "/out.pcap", mode: .replace)
        close(descriptor)
        #expect(path == directory + "/out.pcap")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
        symlink(directory + "/out.pcap", directory + "/link.pcap")
        #expect(throws: FreshFile.Failure.self) { try FreshFile.open(directory + "/link.pcap", mode: .replace) }
        do { _ = try FreshFile.open(directory + "/link.pcap", mode: .replace) } catch { #expect(error.description.contains("symbolic link")) }
    }

    @Test("a folder nobody may write says so, not 'needs root'")
    func unwritableFolder() throws {
        do {
            _ = try FreshFile.open("/proc/labcheck-05.pcap")
            Issue.record("/proc is not writable")
        } catch {
            #expect(!error.description.contains("root"))
        }
    }
}
