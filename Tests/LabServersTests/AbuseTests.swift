import Foundation
import LabServers
import SocketCore
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The reference servers under what students' clients will do to them: many at once, one that
/// never reads, a line with no end, a flood of empty lines, no descriptors left, connections
/// opened and closed by the thousand. Each test has a time bound and prints its figures.
@Suite("reference servers under load and abuse", .serialized)
struct AbuseTests {
    /// Descriptors this process has open.
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// CPU seconds this process has used (user + system).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// At least `count` descriptors for this process (the soft limit is often 1024).
    static func allowDescriptors(_ count: Int) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(count) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(count))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    static func whileRunning(_ server: some ReferenceServer, _ body: (SocketAddress) throws -> Void) throws {
        _ = try serverCPU(server, body)
    }

    /// Runs the server on its own thread for `body` and returns the CPU seconds that thread
    /// used (CLOCK_THREAD_CPUTIME_ID): the server's own cost, without its clients'.
    static func serverCPU(_ server: some ReferenceServer, _ body: (SocketAddress) throws -> Void) throws -> Double {
        let running = Peer { () throws -> Double in
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            try server.run(log: { _ in })
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        do {
            try body(server.address)
        } catch {
            server.stop()
            _ = try? running.value()
            throw error
        }
        server.stop()
        return try running.value()
    }

    @Test("1,000 clients at once each get exactly their own bytes back")
    func thousandEchoClients() throws {
        Self.allowDescriptors(4096)
        try Self.whileRunning(try EchoServer(listeningOn: .loopback(0), backlog: 1024)) { address in
            let clock = ContinuousClock(), started = clock.now
            var clients: [Socket] = []
            for _ in 0..<1000 { clients.append(try Socket.connected(to: address, timeout: .seconds(5))) }
            defer { for client in clients { try? client.close() } }
            let messages = clients.indices.map { pattern(1024, seed: UInt64($0) + 1) }
            for (client, message) in zip(clients, messages) { try client.send(message) }
            var intact = 0
            for (client, message) in zip(clients, messages) {
                try client.set(.receiveTimeout, .seconds(10))
                if try client.receive(exactly: message.count) == message { intact += 1 }
            }
            print("echo: 1000 clients, 1 KiB each, \(intact) intact, \(clock.now - started)")
            #expect(intact == 1000)
        }
    }

    /// 10 senders × 1,500 lines of 2 KB to a reader, with or without a member that never
    /// reads; returns lines received, lines out of order, seconds, the server's CPU seconds.
    static func chatLoad(withSlowClient: Bool) throws -> (received: Int, disorder: Int, seconds: Double, serverCPU: Double) {
        let senders = 10, lines = 1500
        var outcome = (received: 0, disorder: 0, seconds: 0.0)
        let cpu = try serverCPU(try ChatServer(listeningOn: .loopback(0))) { address in
            var slow: Socket?
            if withSlowClient {
                let socket = try Socket.tcp()
                try socket.set(.receiveBufferSize, 4096)
                try socket.connect(to: address)
                try socket.send("NICK slow\n")
                slow = socket
            }
            defer { try? slow?.close() }
            let receiver = try Socket.connected(to: address)
            var stream = MessageStream(receiver, maxMessageSize: 1 << 16)
            try stream.writeLine("NICK reader")
            try receiver.set(.receiveTimeout, .seconds(30))
            let body = String(repeating: "z", count: 2000)
            let clock = ContinuousClock(), started = clock.now
            let writers = (0..<senders).map { k in
                Peer { () throws -> Void in
                    let socket = try Socket.connected(to: address)
                    defer { try? socket.close() }
                    // A sender reads what the room says (in a thread of its own), as a chat
                    // client does; only `slow` never reads. It ends with a half-close and
                    // reads to the server's FIN: closing with unread data would reset the
                    // connection and throw away lines the server has not read yet.
                    let drain = Peer { while let chunk = try? socket.receive(upTo: 1 << 16), !chunk.isEmpty {} }
                    try socket.send("NICK s\(k)\n")
                    usleep(100_000)
                    for n in 0..<lines { try socket.send("\(n) \(body)\n") }
                    try socket.shutdown(.write)
                    try drain.value(timeout: .seconds(60))
                }
            }
            var next = [Int](repeating: 0, count: senders)
            while outcome.received < senders * lines, let line = try stream.readLine() {
                guard line.hasPrefix("s"), let colon = line.firstIndex(of: ":"), let k = Int(line[line.index(after: line.startIndex)..<colon]) else { continue }
                let n = Int(line[line.index(colon, offsetBy: 2)...].prefix { $0 != " " }) ?? -1
                if n != next[k] { outcome.disorder += 1 }
                next[k] = n + 1
                outcome.received += 1
            }
            for writer in writers { try writer.value(timeout: .seconds(60)) }
            let elapsed = clock.now - started
            outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        return (outcome.received, outcome.disorder, outcome.seconds, cpu)
    }

    @Test("one chat client that never reads: every other client still gets every line, in order, at about the same cost")
    func neverReadingClient() throws {
        let without = try Self.chatLoad(withSlowClient: false)
        let with = try Self.chatLoad(withSlowClient: true)
        print("chat: 10 senders × 1,500 lines of 2 KB to a reader: \(with.received) of 15000 received with a member that never reads (\(without.received) without), "
              + "\(with.disorder) out of order, \(String(format: "%.2f", with.seconds)) s (\(String(format: "%.2f", without.seconds)) s without), "
              + "server CPU \(String(format: "%.2f", with.serverCPU)) s (\(String(format: "%.2f", without.serverCPU)) s without), peak RSS \(Int(Self.peakResidentMegabytes())) MB")
        #expect(with.received == 15_000)
        #expect(with.disorder == 0)
        // CPU, not wall time, and a wide margin: the old server spent 44 s on this.
        #expect(with.serverCPU < max(3 * without.serverCPU, 1.0), "a slow member must cost O(bytes), not a copy of its queue per line")
    }

    @Test("a member whose queue passes its bound is dropped, and the room is told why")
    func droppedWithNotice() throws {
        try Self.whileRunning(try ChatServer(listeningOn: .loopback(0), queueLimit: 256 << 10)) { address in
            let slow = try Socket.tcp()
            try slow.set(.receiveBufferSize, 4096)
            try slow.connect(to: address)
            try slow.send("NICK slow\n")
            let talker = try Socket.connected(to: address)
            var lines = MessageStream(talker, maxMessageSize: 1 << 16)
            try talker.set(.receiveTimeout, .seconds(10))
            try lines.writeLine("NICK talker")
            let body = String(repeating: "y", count: 1000)
            // 20 MB: more than the kernel's buffers for the slow connection hold, so its queue grows.
            for n in 0..<20_000 { try lines.writeLine("\(n) \(body)") }
            var heard: String?
            while heard == nil, let line = try lines.readLine() {
                if line.hasPrefix("* slow left") { heard = line }
            }
            #expect(heard == "* slow left (dropped: it stopped reading)")
        }
    }

    @Test("a 100 MB line with no end: the sender is told the limit and dropped; memory stays bounded; the room goes on")
    func endlessLine() throws {
        try Self.whileRunning(try ChatServer(listeningOn: .loopback(0))) { address in
            let other = try Socket.connected(to: address)
            var otherLines = MessageStream(other, maxMessageSize: 1 << 16)
            try otherLines.writeLine("NICK other")
            try other.set(.receiveTimeout, .seconds(10))
            let before = Self.peakResidentMegabytes()
            let flooder = try Socket.connected(to: address)
            try flooder.set(.sendTimeout, .seconds(10))
            try flooder.set(.receiveTimeout, .seconds(20))
            try flooder.send("NICK flood\n")
            // The server's answer is read while the flood goes on: it comes before the close.
            let answer = Peer { () -> String in
                var text: [UInt8] = []
                while let chunk = try? flooder.receive(upTo: 4096), !chunk.isEmpty { text += chunk }
                return String(decoding: text, as: UTF8.self)
            }
            let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
            var sent = 0
            while sent < 100 << 20 {
                guard (try? flooder.send(chunk)) != nil else { break }  // dropped: the connection is gone
                sent += chunk.count
            }
            try? flooder.shutdown(.write)
            let reply = try answer.value(timeout: .seconds(30))
            let after = Self.peakResidentMegabytes()
            print("chat: endless line: \(sent >> 20) MB sent before the drop, peak RSS \(Int(before)) → \(Int(after)) MB, reply \(reply.debugDescription)")
            #expect(reply.hasPrefix("! line of more than 8192 bytes"))
            #expect(after - before < 64, "the server did not keep the line")
            let third = try Socket.connected(to: address)
            try third.send("NICK third\nhello\n")
            #expect(try otherLines.readLine() == "* flood joined")
            #expect(try otherLines.readLine() == "* flood left")
            #expect(try otherLines.readLine() == "* third joined")
            #expect(try otherLines.readLine() == "third: hello")
        }
    }

    @Test("a flood of 10 MB of empty lines is cut in linear time and sends nothing; the next line still arrives")
    func newlineFlood() throws {
        try Self.whileRunning(try ChatServer(listeningOn: .loopback(0))) { address in
            let listener = try Socket.connected(to: address)
            var lines = MessageStream(listener, maxMessageSize: 1 << 16)
            try lines.writeLine("NICK listener")
            try listener.set(.receiveTimeout, .seconds(30))
            let flooder = try Socket.connected(to: address)
            try flooder.send("NICK flooder\n")
            let clock = ContinuousClock(), started = clock.now
            let newlines = [UInt8](repeating: UInt8(ascii: "\n"), count: 10 << 20)
            try flooder.send(newlines)
            try flooder.send("done\n")
            #expect(try lines.readLine() == "* flooder joined")
            // Empty lines send nothing: the next line the room hears is the marker.
            var last = ""
            while last != "flooder: done", let line = try lines.readLine() { last = line }
            print("chat: 10 MB of empty lines relayed in \(clock.now - started)")
            #expect(last == "flooder: done")
        }
    }

    @Test("nicks: empty, too long, terminal escapes and taken are refused; the room never sees them")
    func nickRules() throws {
        try Self.whileRunning(try ChatServer(listeningOn: .loopback(0))) { address in
            let alice = try Socket.connected(to: address)
            var a = MessageStream(alice, maxMessageSize: 1 << 16)
            try a.writeLine("NICK alice")
            try alice.set(.receiveTimeout, .seconds(5))
            let mallory = try Socket.connected(to: address)
            var m = MessageStream(mallory, maxMessageSize: 1 << 16)
            try mallory.set(.receiveTimeout, .seconds(5))
            for bad in ["NICK ", "NICK \u{1B}[31mred", "NICK " + String(repeating: "x", count: 33), "NICK Alice"] {
                try m.writeLine(bad)
                #expect(try m.readLine()?.hasPrefix("! ") == true, "\(bad.debugDescription)")
            }
            try m.writeLine("NICK mallory")
            try m.writeLine("hi \u{1B}[2J")
            #expect(try m.readLine()?.contains("control characters") == true)
            try mallory.send([0xC3, 0x28, 0x0A])  // not UTF-8
            #expect(try m.readLine()?.contains("UTF-8") == true)
            try m.writeLine("fine")
            #expect(try a.readLine() == "* mallory joined")
            #expect(try a.readLine() == "mallory: fine", "nothing refused reached alice")
        }
    }

    @Test("10,000 connections opened and closed: the server's descriptors come back to where they were")
    func connectCloseCycles() throws {
        try Self.whileRunning(try EchoServer(listeningOn: .loopback(0))) { address in
            let before = Self.openDescriptors()
            for k in 0..<10_000 {
                let client = try Socket.connected(to: address, timeout: .seconds(5))
                if k % 2 == 0 { try client.set(.linger, .abort) }  // half of them reset
                try client.close()
            }
            // Let the server see the last closes.
            #expect(eventually(timeout: .seconds(10)) { Self.openDescriptors() <= before })
            print("echo: 10,000 connect/close cycles, descriptors \(before) → \(Self.openDescriptors())")
        }
    }

    @Test("out of descriptors, the server neither spins nor floods its log, and serves again when they free up")
    func outOfDescriptors() throws {
        let server = try EchoServer(listeningOn: .loopback(0))
        let logged = Mutex(0)
        let running = Peer { try server.run(log: { _ in logged.withLock { $0 += 1 } }) }
        defer { server.stop(); _ = try? running.value() }
        // Fill the process's descriptor table, leaving a few for the test's own clients.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let saved = limit
        limit.rlim_cur = rlim_t(Self.openDescriptors() + 8)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        defer { var restore = saved; setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restore) }
        var clients: [Socket] = []
        for _ in 0..<40 {
            // Each client costs this process a descriptor, and the server one when it accepts:
            // soon the server's accept4() fails with EMFILE while the kernel's queue fills.
            guard let client = try? Socket.tcp() else { break }
            try? client.setNonBlocking(true)
            _ = try? client.connect(to: server.address)
            clients.append(client)
        }
        let cpu = Self.cpuSeconds()
        usleep(1_000_000)
        let busy = Self.cpuSeconds() - cpu
        let lines = logged.withLock { $0 }
        print("echo: out of descriptors for 1 s: \(String(format: "%.2f", busy)) s CPU, \(lines) log lines")
        #expect(busy < 0.5, "no spinning on a listener that stays readable")
        #expect(lines < 50, "one line per episode, not one per attempt")
        for client in clients { try? client.close() }
        var restore = saved
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restore)
        let after = try Socket.connected(to: server.address, timeout: .seconds(5))
        try after.send("back\n")
        try after.set(.receiveTimeout, .seconds(5))
        #expect(try after.receive(exactly: 5) == Array("back\n".utf8), "accepts resume")
    }
}

