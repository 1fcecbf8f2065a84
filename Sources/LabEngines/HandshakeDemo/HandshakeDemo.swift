import PacketCapture
import Dispatch
import Foundation
import Inspection
import LabHost
import TextOutput
import Packets
import SocketCore
import Synchronization

/// The life of one TCP connection, call by call, for a lecture: each step makes one socket
/// call, then shows the packets it caused (captured live and drawn as the inspector's
/// ladder) and the states of both sockets (TCP_INFO, and the kernel's table for TIME-WAIT).
public final class HandshakeDemo {
    public enum Variant: String, Sendable, CaseIterable {
        /// Handshake, data both ways, FIN/ACK/FIN/ACK with the client closing first.
        case normal
        /// Nothing listens: the SYN is answered by RST, connect() fails with ECONNREFUSED.
        case refused
        /// The client closes with SO_LINGER 0: RST instead of FIN, no TIME-WAIT.
        case abort
        /// The client shuts down its sending side only, and still receives.
        case halfClose = "half-close"
    }

    /// Both ends here on loopback, or one end of a demo between two machines.
    public enum Role: Sendable {
        case both
        /// Listen on this address (port 0: the kernel picks) and wait for the other machine.
        case server(SocketAddress)
        /// Connect to the other machine's server.
        case client(SocketAddress)
    }

    public struct Options: Sendable {
        public var role = Role.both
        public var variant = Variant.normal
        public var family = AddressFamily.ipv4
        /// 0: one the kernel picks.
        public var port: UInt16 = 0
        /// Wait for Enter before each call.
        public var step = false
        /// Where the capture goes (nil: not written).
        public var writeTo: String? = "handshake-demo.pcap"
        /// `.fresh` for the default name (a new name when it is taken), `.replace` for a path
        /// the user gave; never through a symbolic link either way.
        public var writeMode: FreshFile.Mode = .fresh
        public var json = false
        public var color = false
        /// Also draw the connection as a page (the ladder, the graphs) here when it ends.
        public var htmlTo: String?
        public init() {}
    }

    let options: Options
    let say: (String) -> Void
    let pause: (String) -> Void
    /// The terminal's width, for wrapping; nil when piped or for JSON.
    let width: Int?
    private var recorder: CaptureRecorder?
    private var session: Session?
    private var shown = 0
    private var stepNumber = 0
    /// Why there is no packet view, when there is none.
    public private(set) var captureProblem: CaptureError?

    /// `pause(next)` waits for the instructor (Enter) after saying which call comes next, so
    /// the room can predict its packets first.
    public init(options: Options, say: @escaping (String) -> Void, pause: @escaping (String) -> Void = { _ in },
                width: Int? = TerminalWidth.current()) {
        self.options = options
        self.width = options.json ? nil : width
        // On a terminal (a projector) every line fits its width, wrapped under its own indent;
        // piped, a line stays whole, for grep and for the tests.
        if let width, !options.json {
            self.say = { text in
                for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                    for piece in Self.fit(line, width: width) { say(piece) }
                }
            }
        } else {
            self.say = say
        }
        self.pause = pause
    }

    /// `line` as it should appear in `width` columns: whole if it fits (colour codes take no
    /// room), else wrapped at spaces under its own indent plus two (without its colours).
    static func fit(_ line: String, width: Int) -> [String] {
        let plain = line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        guard plain.count > width else { return [line] }
        let lead = String(plain.prefix { $0 == " " })
        return TerminalWidth.wrap(String(plain.dropFirst(lead.count)), width: width - lead.count, indent: "  ").map { lead + $0 }
    }

    var loopback: IPAddress { options.family == .ipv4 ? .v4(.loopback) : .v6(.loopback) }

    /// Runs the whole walk-through. Socket errors other than the ones a variant expects are
    /// thrown; a missing capture privilege is not an error (the states are still shown).
    public func run() throws {
        switch options.role {
        case .both: try runBoth()
        case .server(let address): try runServer(address)
        case .client(let address): try runClient(address)
        }
    }

    /// This machine is the server: the calls on its side, and what the client's calls
    /// (made on the other machine) look like from here.
    func runServer(_ address: SocketAddress) throws {
        step("server", "socket(\(familyName(address)), SOCK_STREAM, 0) and bind(\(address))", "a socket with an address; no packets yet")
        let listener = try Socket.tcp(address.family)
        try listener.set(.reuseAddress, true)
        try listener.bind(to: address)
        let port = try listener.localAddress.port ?? 0
        try startCapture(port: port, interface: "any")
        defer { stopCapture() }
        step("server", "listen(backlog: 128)", "state LISTEN: the kernel now answers SYNs on port \(port) by itself")
        try listener.listen(backlog: 128)
        states(client: nil, server: listener)
        step("server", "accept()", "waits for a client: on the other machine run  handshake-demo --client THIS-MACHINE:\(port)")
        let (connection, peer) = try listener.accept()
        say("   accept() returned: \(peer) connected. The handshake already happened in the kernel:")
        showPackets()
        states(client: nil, server: connection)
        step("server", "recv()", "the client's request")
        let request = try connection.receive(upTo: 1000)
        say("   received \(request.count) bytes")
        showPackets()
        step("server", "send(\"HTTP/1.0 200 OK …\")", "the reply; the client's kernel acknowledges it")
        try connection.send("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        showPackets()
        let local = try connection.localAddress, remote = try connection.peerAddress
        step("server", "recv() until it returns 0", "the client closes first: its FIN makes recv() return 0; this side is in CLOSE-WAIT")
        while try !connection.receive(upTo: 1000).isEmpty {}
        showPackets()
        states(client: nil, server: connection)
        step("server", "close()", "this side's FIN (LAST-ACK); the client's ACK ends it; the client waits in TIME-WAIT")
        try connection.close()
        usleep(200_000)
        showPackets()
        report(client: "on the other machine", server: KernelTCPTable.state(local: local, remote: remote).map(String.init(describing:)) ?? "CLOSED (gone from the kernel's table)",
               source: "/proc/net/tcp")
        try listener.close()
    }

    /// This machine is the client of a server started with --server on another machine.
    func runClient(_ address: SocketAddress) throws {
        let port = address.port ?? 0
        try startCapture(port: port, interface: "any")
        defer { stopCapture() }
        step("client", "socket(\(familyName(address)), SOCK_STREAM, 0) and connect(\(address))",
             "SYN out, SYN-ACK back, ACK out: the handshake, across the network this time")
        let client = try Socket.connected(to: address, timeout: .seconds(10))
        showPackets()
        states(client: client, server: nil)
        step("client", "send(\"GET / HTTP/1.0\\r\\n\\r\\n\")", "one data segment; the server's kernel acknowledges it")
        try client.send("GET / HTTP/1.0\r\n\r\n")
        showPackets()  // the request's segment (and its ACK) under the send() that caused it
        step("client", "recv()", "the server's reply")
        let reply = try client.receive(upTo: 1000)
        say("   received \(reply.count) bytes")
        showPackets()
        let local = try client.localAddress, remote = try client.peerAddress
        step("client", "close()", "this side closes first: FIN (FIN-WAIT-1, FIN-WAIT-2 once ACKed)")
        try client.shutdown(.write)
        showPackets()
        states(client: client, server: nil)
        step("client", "recv() returns 0", "the server's FIN: this side ACKs it and waits in TIME-WAIT for 2 × MSL")
        while try !client.receive(upTo: 1000).isEmpty {}
        usleep(100_000)
        showPackets()
        report(client: KernelTCPTable.state(local: local, remote: remote).map(String.init(describing:)) ?? "CLOSED (gone from the kernel's table)",
               server: "on the other machine", source: "/proc/net/tcp")
        try client.close()
    }

    func runBoth() throws {
        let listener = try Socket.tcp(options.family)
        try listener.set(.reuseAddress, true)
        let serverAddress: SocketAddress = options.family == .ipv4 ? .ipv4(.loopback, options.port) : .ipv6(.loopback, options.port)
        try listener.bind(to: serverAddress)
        let port = try listener.localAddress.port ?? options.port
        try startCapture(port: port, interface: "lo")
        defer { stopCapture() }

        if options.variant == .refused {
            // Free the port: nothing may listen on it.
            try listener.close()
            step("client", "socket(\(familyName), SOCK_STREAM, 0)", "a new socket; no packets yet")
            let client = try Socket.tcp(options.family)
            step("client", "connect(\(address(port)))", "the kernel sends a SYN; the server's kernel finds no listener and answers RST")
            do {
                try client.connect(to: serverAddress.with(port: port), timeout: .seconds(3))
                say("   connect() succeeded?! Something listens on \(port).")
            } catch {
                say("   connect() failed: \(error)")
            }
            showPackets()
            say("   A refused connection costs one round trip: SYN, then RST,ACK. No state is left on either side.")
            return
        }

        step("server", "socket(\(familyName), SOCK_STREAM, 0) and bind(\(address(port)))", "a socket with an address; no packets yet")
        states(client: nil, server: listener)
        step("server", "listen(backlog: 128)", "the socket now accepts connections: state LISTEN; still no packets")
        try listener.listen(backlog: 128)
        states(client: nil, server: listener)

        step("client", "socket(\(familyName), SOCK_STREAM, 0) and connect(\(address(port)))",
             "connect() sends a SYN (state SYN-SENT), the server's kernel answers SYN-ACK (its side SYN-RECEIVED), the client's ACK completes the handshake — on loopback all inside this one call")
        let client = try Socket.connected(to: serverAddress.with(port: port), timeout: .seconds(3))
        showPackets()
        states(client: client, server: listener)

        step("server", "accept()", "takes the finished connection from the listen queue: a new socket; accept() sends nothing")
        let (connection, _) = try listener.accept()
        showPackets()
        states(client: client, server: connection)

        step("client", "send(\"GET / HTTP/1.0\\r\\n\\r\\n\")", "one data segment, and the server's kernel acknowledges it")
        try client.send("GET / HTTP/1.0\r\n\r\n")
        _ = try connection.receive(upTo: 100)
        showPackets()
        step("server", "send(\"HTTP/1.0 200 OK …\")", "data the other way, acknowledged by the client")
        try connection.send("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        _ = try client.receive(upTo: 100)
        showPackets()

        let clientLocal = try client.localAddress, clientPeer = try client.peerAddress
        switch options.variant {
        case .abort:
            step("client", "setsockopt(SO_LINGER, {on, 0}) and close()", "a zero-linger close aborts: one RST, no FIN, no TIME-WAIT")
            try client.set(.linger, .abort)
            try client.close()
            showPackets()
            do {
                _ = try connection.receive(upTo: 100)
                say("   the server's recv() returned normally")
            } catch {
                say("   the server's next recv() fails: \(error)")
            }
            kernelStates(client: (clientLocal, clientPeer))
            try connection.close()
        case .halfClose:
            step("client", "shutdown(SHUT_WR)", "a FIN: the client will send no more, but can still receive (FIN-WAIT-2 after the ACK; the server CLOSE-WAIT)")
            try client.shutdown(.write)
            showPackets()
            states(client: client, server: connection)
            step("server", "recv() returns 0, then send(\"more after your FIN\")", "end of file for the server, and yet it keeps sending: that is a half-close")
            _ = try connection.receive(upTo: 100)
            try connection.send("more after your FIN\n")
            let more = try client.receive(upTo: 100)
            say("   the client still receives: \(String(decoding: more, as: UTF8.self).trimmingCharacters(in: .newlines).debugDescription)")
            showPackets()
            step("server", "close()", "the server's FIN; the client's ACK; the client waits in TIME-WAIT")
            try connection.close()
            _ = try client.receive(upTo: 100)
            showPackets()
            kernelStates(client: (clientLocal, clientPeer))
            try client.close()
        case .normal, .refused:
            step("client", "close()", "the client has nothing more to send: FIN (FIN-WAIT-1, then FIN-WAIT-2 once ACKed); the server goes to CLOSE-WAIT")
            try client.shutdown(.write)  // the FIN close() sends, with the descriptor kept for TCP_INFO
            showPackets()
            states(client: client, server: connection)
            step("server", "recv() returns 0, then close()", "end of file; the server's FIN (LAST-ACK), the client's ACK; the client, which closed first, waits in TIME-WAIT for 2 × MSL")
            _ = try connection.receive(upTo: 100)
            try connection.close()
            _ = try client.receive(upTo: 100)
            showPackets()
            kernelStates(client: (clientLocal, clientPeer))
            try client.close()
        }
        try listener.close()
    }

    // MARK: - Output

    var familyName: String { options.family == .ipv4 ? "AF_INET" : "AF_INET6" }
    func familyName(_ address: SocketAddress) -> String { address.family == .ipv4 ? "AF_INET" : "AF_INET6" }
    func address(_ port: UInt16) -> String { options.family == .ipv4 ? "127.0.0.1:\(port)" : "[::1]:\(port)" }

    func step(_ side: String, _ call: String, _ what: String) {
        stepNumber += 1
        if options.step { pause("next: \(side): \(call)") }
        if options.json {
            say(JSON.object([("kind", "step"), ("n", .integer(stepNumber)), ("side", .string(side)), ("call", .string(call)), ("what", .string(what))]).text)
        } else {
            say("")
            // The call is what the room watches for: bold, on a projector as on a terminal.
            let heading = "\(stepNumber). \(side): \(call)"
            say(options.color ? "\u{1B}[1m" + heading + "\u{1B}[0m" : heading)
            say("   \(what)")
        }
    }

    func states(client: Socket?, server: Socket?) {
        func state(_ socket: Socket?) -> String {
            guard let socket else { return "—" }
            return ((try? socket.tcpInfo.state).flatMap { $0 }).map(String.init(describing:)) ?? "CLOSED"
        }
        report(client: state(client), server: state(server), source: "TCP_INFO")
    }

    /// After the descriptor is gone or the connection handed to a timewait entry.
    func kernelStates(client: (local: SocketAddress, remote: SocketAddress)) {
        // The timewait entry replaces the socket in the kernel's hash as the last ACK goes
        // out; give a busy machine a moment before calling the connection gone.
        var clientState = KernelTCPTable.state(local: client.local, remote: client.remote)
        for _ in 0..<20 where clientState == nil && options.variant != .abort {
            usleep(10_000)
            clientState = KernelTCPTable.state(local: client.local, remote: client.remote)
        }
        let serverState = KernelTCPTable.state(local: client.remote, remote: client.local)
        report(client: clientState.map(String.init(describing:)) ?? "CLOSED (gone from the kernel's table)",
               server: serverState.map(String.init(describing:)) ?? "CLOSED (gone from the kernel's table)",
               source: "/proc/net/tcp, as ss -tan shows it")
    }

    func report(client: String, server: String, source: String) {
        if options.json {
            say(JSON.object([("kind", "states"), ("step", .integer(stepNumber)), ("client", .string("\(client)")), ("server", .string("\(server)")), ("from", .string("\(source)"))]).text)
        } else {
            say("   states: client \(client), server \(server)   (\(source))")
        }
    }

    // MARK: - Capture

    func startCapture(port: UInt16, interface: String) throws(CaptureError) {
        var captureOptions = LiveCapture.Options()
        captureOptions.interface = interface
        if interface == "any" { captureOptions.linkType = .linuxCooked2 }
        captureOptions.filter = "tcp port \(port)"
        captureOptions.writeTo = options.writeTo
        captureOptions.writeMode = options.writeMode
        do {
            let recorder = try CaptureRecorder(captureOptions)
            self.recorder = recorder
            var view = Session.Options()
            view.view = options.json ? .jsonLines : .ladder
            view.color = options.color
            // The demo indents the packet view by 3: notes wrap inside what is left.
            view.width = width.map { $0 - 3 }
            session = Session(linkType: recorder.linkType, options: view)
        } catch {
            // A file that cannot be written is bad input, and the demo stops before it starts;
            // a missing privilege only costs the packet view.
            if case .unwritableFile = error { throw error }
            captureProblem = error
        }
    }

    /// Waits until the link has been quiet for 100 ms (at most 1 s), then draws the new packets.
    func showPackets() {
        guard let recorder, var session else {
            if !options.json { say("   (no packet view: see the note at the start)") }
            return
        }
        recorder.settle()
        let frames = recorder.frames(from: shown)
        shown += frames.count
        var out = OutputBuffer()
        for frame in frames {
            frame.bytes.withUnsafeBytes { bytes in
                session.write(frame: FrameView(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: bytes, number: frame.number), to: &out)
            }
        }
        self.session = session
        let text = String(decoding: out.bytes, as: UTF8.self)
        if frames.isEmpty && !options.json { say("   (no packets)") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            say(options.json ? String(line) : "   " + line)
        }
    }

    func stopCapture() {
        guard let recorder else { return }
        recorder.stop()
        if let path = recorder.capture.writtenTo, !options.json {
            say("")
            say("The capture is in \(path): open it in Wireshark (wireshark \(path)), or read it again with: inspector read --ladder \(path)")
        }
        if let html = options.htmlTo { drawPage(recorder, to: html) }
    }

    /// The connection just shown, as the inspector's page: ladder, states, graphs.
    func drawPage(_ recorder: CaptureRecorder, to path: String) {
        var view = Session.Options()
        var picture = PictureOptions()
        picture.title = "handshake-demo: \(options.variant.rawValue) connection"
        view.view = .picture(picture)
        var session = Session(linkType: recorder.linkType, options: view)
        var out = OutputBuffer()
        for frame in recorder.frames(from: 0) {
            frame.bytes.withUnsafeBytes { bytes in
                session.write(frame: FrameView(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: bytes, number: frame.number), to: &out)
            }
        }
        session.finish(to: &out)
        if let problem = session.problem {
            if !options.json { say("No page drawn: \(problem)") }
            return
        }
        do {
            let used = try FreshFile.write(String(decoding: out.bytes, as: UTF8.self), to: path, mode: options.writeMode)
            if !options.json {
                say("The pictures of this connection are in \(used): open it in a browser. For a slide: inspector read --svg slide.svg --style projector \(recorder.capture.writtenTo ?? "CAPTURE")")
            }
        } catch {
            say("No page drawn: \(error)")
        }
    }
}
