#if canImport(Glibc)
import Glibc
#endif
import LabHost
import LabEngines
import PacketCapture
import Inspection
import Packets
import SocketCore
import Synchronization

/// Lab 05, an echo server in any language, checked as a black box: the student's command is
/// started, each check talks to it over real sockets with a time bound, the traffic is
/// captured, and every verdict comes with its evidence.
public enum Lab05 {
    public static func run(_ options: ServerLabOptions, say: (String) -> Void = { _ in }) -> [CheckResult] {
        LabServer.run(options, say: say) { lab in checks(lab, port: options.port) }
    }

    static func checks(_ lab: LabServer, port: UInt16) -> [CheckResult] {
        let (server, recorder, address) = (lab.server, lab.recorder, lab.address)
        var results: [CheckResult] = []
        results.append(smallEcho(address))
        results.append(oneMebibyte(address))
        results.append(backPressure(address))
        results.append(concurrentClients(address, count: 50))
        results.append(halfClose(address))
        results.append(clientReset(address, server: server))
        if let recorder {
            recorder.settle()
            recorder.stop()
            results.append(closesWithFIN(recorder.frames(from: 0), linkType: recorder.linkType, port: port))
        } else {
            results.append(.skipped("closes with FIN, not RST", "needs a capture: run labcheck with sudo"))
        }
        let alive = server.isRunningOrLeftBehind && echoes(address, Array("still there?\n".utf8))
        results.append(alive ? .pass("still up at the end", "the server answered one more client")
                             : .fail("still up at the end", server.isRunningOrLeftBehind ? "the server no longer echoes" : "the server process has exited",
                                     hint: "a server must survive anything one client does: catch the error of a reset connection (ECONNRESET, EPIPE) and go on; ignore SIGPIPE or use MSG_NOSIGNAL"))
        return results
    }

    /// One connection: send `message`, read it back (at most 3 s).
    static func echoes(_ address: SocketAddress, _ message: [UInt8]) -> Bool {
        guard let socket = try? Socket.connected(to: address, timeout: .seconds(3)) else { return false }
        defer { try? socket.close() }
        try? socket.set(.receiveTimeout, .seconds(3))
        guard (try? socket.send(message)) != nil else { return false }
        return (try? socket.receive(exactly: message.count)) == message
    }

    static func smallEcho(_ address: SocketAddress) -> CheckResult {
        let message = Array("hello, echo\n".utf8)
        return echoes(address, message)
            ? .pass("small echo", "\"hello, echo\\n\" came back")
            : .fail("small echo", "12 bytes sent, not the same 12 back within 3 s", hint: "read what the client sends and write the same bytes back, on the same connection")
    }

    static func oneMebibyte(_ address: SocketAddress) -> CheckResult {
        let size = 1 << 20
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        guard let socket = try? Socket.connected(to: address, timeout: .seconds(3)) else {
            return .fail("1 MiB echoed intact", "could not connect", hint: "the server stopped accepting connections")
        }
        defer { try? socket.close() }
        try? socket.set(.receiveTimeout, .seconds(10))
        try? socket.set(.sendTimeout, .seconds(10))
        let reader = Peer { () -> [UInt8] in
            var received: [UInt8] = []
            while received.count < size, let chunk = try? socket.receive(upTo: 65_536), !chunk.isEmpty { received += chunk }
            return received
        }
        let sent = (try? socket.send(payload)) != nil
        let received = (try? reader.value(timeout: .seconds(15))) ?? []
        if sent && received == payload { return .pass("1 MiB echoed intact", "1,048,576 bytes written in one send(), the same bytes back") }
        let firstDifference = zip(received, payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        return .fail("1 MiB echoed intact", "\(received.count) of 1,048,576 bytes came back" + (firstDifference.map { ", first difference at byte \($0)" } ?? ""),
                     hint: "TCP is a byte stream: one send() of 1 MiB arrives in many recv() calls, and write() may send only part — loop on both until everything is through")
    }

    /// More than every buffer between the two ends can hold (the client's receive buffer is
    /// made small, and it does not read for the first second): the server's send() then meets
    /// a full window. A server that drops what send() did not take (a partial write, EAGAIN on
    /// a non-blocking socket) loses bytes here, where the 1 MiB check fits in the buffers.
    static func backPressure(_ address: SocketAddress, megabytes: Int = 8) -> CheckResult {
        let name = "back-pressure: \(megabytes) MiB to a slow reader"
        let size = megabytes << 20
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 11)) }
        guard let socket = try? Socket.tcp(.ipv4) else { return .fail(name, "no socket", hint: "") }
        defer { try? socket.close() }
        // Before connect(), so that the window it advertises is small from the SYN on.
        try? socket.set(.receiveBufferSize, 32 << 10)
        guard (try? socket.connect(to: address, timeout: .seconds(3))) != nil else {
            return .fail(name, "could not connect", hint: "the server stopped accepting connections")
        }
        // A server that echoes keeps the bytes moving; one that hangs is found by the other
        // checks, so short limits here (a hung server must not cost half a minute more).
        try? socket.set(.receiveTimeout, .seconds(5))
        try? socket.set(.sendTimeout, .seconds(10))
        let writer = Peer { () -> Bool in
            let sent = (try? socket.send(payload)) != nil
            try? socket.shutdown(.write)
            return sent
        }
        usleep(1_000_000)  // the slow reader: everything the server sends meanwhile must wait
        var received: [UInt8] = []
        received.reserveCapacity(size)
        while received.count <= size, let chunk = try? socket.receive(upTo: 256 << 10), !chunk.isEmpty { received += chunk }
        let sent = (try? writer.value(timeout: .seconds(15))) ?? false
        if sent && received == payload {
            return .pass(name, "\(size) bytes written while the client read nothing for 1 s (32 KiB receive buffer): every byte came back, in order")
        }
        let firstDifference = zip(received, payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        let lost = size - received.count
        return .fail(name, (lost > 0 ? "\(lost) of \(size) bytes lost (\(received.count) came back)" : "\(received.count) bytes came back for \(size)")
                        + (firstDifference.map { ", the first wrong byte at \($0)" } ?? "") + (sent ? "" : "; the client could not send everything"),
                     hint: "send() may take only part of what it is given, and on a non-blocking socket it says EAGAIN when the client's window is full: keep what was not sent in a per-client output queue, send it when poll() says writable, and stop reading from a client while its queue is long")
    }

    static func concurrentClients(_ address: SocketAddress, count: Int) -> CheckResult {
        var sockets: [Socket] = []
        for _ in 0..<count {
            guard let socket = try? Socket.connected(to: address, timeout: .seconds(3)) else { break }
            try? socket.set(.receiveTimeout, .seconds(5))
            sockets.append(socket)
        }
        defer { for socket in sockets { try? socket.close() } }
        guard sockets.count == count else {
            return .fail("\(count) concurrent clients", "only \(sockets.count) of \(count) could connect", hint: "a bigger listen() backlog, and accept() as connections arrive")
        }
        for (i, socket) in sockets.enumerated() { _ = try? socket.send(Array("client \(i) says hi\n".utf8)) }
        let deadline = ContinuousClock.now + .seconds(5)
        var answered = 0
        for (i, socket) in sockets.enumerated() where ContinuousClock.now < deadline {
            let expected = Array("client \(i) says hi\n".utf8)
            if (try? socket.receive(exactly: expected.count)) == expected { answered += 1 }
        }
        return answered == count
            ? .pass("\(count) concurrent clients", "all \(count) connected at once and each got its own line back")
            : .fail("\(count) concurrent clients", "\(answered) of \(count) clients got their echo within 5 s while all were connected",
                    hint: "a server that serves one client until it leaves makes the others wait: use poll()/select() (or threads) to serve every connection at once")
    }

    static func halfClose(_ address: SocketAddress) -> CheckResult {
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        guard let socket = try? Socket.connected(to: address, timeout: .seconds(3)) else {
            return .fail("half-close", "could not connect", hint: "the server stopped accepting connections")
        }
        defer { try? socket.close() }
        try? socket.set(.receiveTimeout, .seconds(5))
        try? socket.set(.sendTimeout, .seconds(5))
        let reader = Peer { () -> (bytes: [UInt8], end: String) in
            var received: [UInt8] = []
            while true {
                do {
                    let chunk = try socket.receive(upTo: 65_536)
                    if chunk.isEmpty { return (received, "eof") }
                    received += chunk
                } catch let error as SocketError {
                    if case .system(_, let errno, _) = error, errno == .ECONNRESET { return (received, "reset") }
                    return (received, "timeout")
                } catch {
                    return (received, "timeout")
                }
            }
        }
        _ = try? socket.send(payload)
        _ = try? socket.shutdown(.write)
        let (received, end) = (try? reader.value(timeout: .seconds(10))) ?? ([], "timeout")
        if received == payload && end == "eof" { return .pass("half-close", "100,000 bytes, then shutdown(SHUT_WR): all came back, then the server's FIN") }
        let ending = ["eof": ", then end of file", "reset": ", then the connection was reset (RST) instead of closed",
                      "timeout": ", and no end of file within 5 s"][end] ?? ""
        return .fail("half-close", "\(received.count) of 100,000 bytes came back" + ending,
                     hint: received.count < payload.count
                        ? "when recv() returns 0 the client has only stopped sending: write back everything still owed before you close"
                        : end == "reset" ? "close() after reading to end of file sends FIN; SO_LINGER 0 or unread data sends RST"
                        : "after the client's FIN and the last echo, close the connection so the client sees end of file")
    }

    static func clientReset(_ address: SocketAddress, server: ChildProcess) -> CheckResult {
        if let socket = try? Socket.connected(to: address, timeout: .seconds(3)) {
            _ = try? socket.send(Array(repeating: 0x72, count: 10_000))
            try? socket.set(.linger, .abort)
            try? socket.close()
        }
        usleep(300_000)
        guard server.isRunningOrLeftBehind else {
            return .fail("a client that resets", "the server process exited after a client reset its connection",
                         hint: "recv()/send() on a reset connection fail with ECONNRESET or EPIPE (and SIGPIPE kills a process by default): handle the error, close that connection, go on")
        }
        return echoes(address, Array("after the reset\n".utf8))
            ? .pass("a client that resets", "a client aborted with RST; the server went on serving")
            : .fail("a client that resets", "after a client's RST the server no longer echoes", hint: "close only the connection that failed; keep serving the others")
    }

    /// From the capture: the server ends connections with FIN; an RST from it means it closed
    /// with data unread, or set SO_LINGER to 0.
    static func closesWithFIN(_ frames: [CapturedFrame], linkType: LinkType, port: UInt16) -> CheckResult {
        var fins = 0, resets: [Int] = []
        for frame in frames {
            let packet = frame.decode(linkType)
            guard let tcp = packet.tcp, tcp.sourcePort == port else { continue }
            if tcp.flags.contains(.fin) { fins += 1 }
            if tcp.flags.contains(.rst) { resets.append(frame.number) }
        }
        if resets.isEmpty && fins > 0 { return .pass("closes with FIN, not RST", "the server sent \(fins) FINs and no RST (capture)") }
        return .fail("closes with FIN, not RST", resets.isEmpty ? "the server never sent a FIN" : "the server sent RST in frames \(resets.prefix(5).map(String.init).joined(separator: ", "))",
                     hint: "close() after reading everything the client sent; a close with unread data, or SO_LINGER 0, sends RST and the client may lose the last reply")
    }
}

extension Lab05: ServerLab {
    public static let number = "05"
    public static let slug = "05-echo-server"
    public static let title = "Write an echo server"
    public static let topics = "any language; byte streams, poll(), half-close, resets"
}
