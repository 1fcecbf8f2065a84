#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LabHost
import Packets
import SocketCore
import Synchronization

/// Lab 12, a SOCKS5 proxy in any language, checked as a black box: labcheck starts the
/// student's proxy and its own targets on loopback (an echo, a server that answers only after
/// the client's FIN, a small web page), and talks RFC 1928 to the proxy byte by byte, then
/// sends real curl through it. Every check says what came back and, on a failure, which step
/// of the eight it was and what the usual mistake is.
public enum Lab12 {
    public static func run(_ options: ServerLabOptions, say: (String) -> Void = { _ in }) -> [CheckResult] {
        let login = options.login.flatMap { text -> (String, String)? in
            guard let colon = text.firstIndex(of: ":") else { return nil }
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        }
        guard let targets = try? Targets() else {
            return [.fail("start", "labcheck could not start its own target servers on loopback", hint: "is the loopback interface up? (ip link set lo up)")]
        }
        defer { targets.stop() }
        return LabServer.run(options, say: say) { lab in checks(lab, targets: targets, login: login) }
    }

    static func checks(_ lab: LabServer, targets: Targets, login: (String, String)?) -> [CheckResult] {
        let proxy = lab.address
        var results: [CheckResult] = []
        let context = Context(proxy: proxy, login: login)
        results += context.greetingAndLogin()
        results.append(context.connectIPv4(targets))
        results.append(context.connectName(targets))
        results.append(context.connectIPv6(targets))
        results.append(context.piecewise(targets))
        results.append(context.refused())
        results.append(context.halfClose(targets))
        results.append(context.concurrent(targets, clients: 20))
        results.append(context.manyInARow(targets, lab: lab, count: 300))
        results.append(context.curl(targets))
        let alive = lab.server.isRunningOrLeftBehind && (try? context.open(.ipv4(IPv4Address.loopback), port: targets.echo).reply) == .succeeded
        results.append(alive ? .pass("still up at the end", "one more CONNECT succeeded")
                             : .fail("still up at the end", lab.server.isRunningOrLeftBehind ? "the proxy no longer answers a CONNECT" : "the proxy process has exited",
                                     hint: "one client's mistake or a target's reset must cost only that client: catch errors per connection, ignore SIGPIPE (or MSG_NOSIGNAL), and close both sockets when a relay ends"))
        return results
    }

    /// What every check needs: where the proxy is and the login to use.
    struct Context {
        let proxy: SocketAddress
        let login: (String, String)?

        /// A connected client that has done the greeting (and login): ready for its request.
        func greeted(piecewise: Bool = false) throws -> Probe {
            let probe = try Probe(proxy)
            let methods: [SOCKS5.Method] = login == nil ? [.noAuthentication] : [.usernamePassword]
            try probe.send(SOCKS5.Greeting(methods: methods).encoded, piecewise: piecewise)
            let choice = try probe.receive(2)
            guard choice[0] == 5, choice[1] == methods[0].rawValue else { throw Probe.Unexpected("method reply \(choice)") }
            if let (user, password) = login {
                try probe.send(SOCKS5.Login(username: Array(user.utf8), password: Array(password.utf8)).encoded, piecewise: piecewise)
                let status = try probe.receive(2)
                guard status == [1, 0] else { throw Probe.Unexpected("login reply \(status)") }
            }
            return probe
        }

        /// Greeting, login, CONNECT: the probe and the proxy's reply.
        func open(_ address: SOCKS5.Address, port: UInt16, piecewise: Bool = false) throws -> (probe: Probe, reply: SOCKS5.Reply, bound: SOCKS5.ReplyMessage) {
            let probe = try greeted(piecewise: piecewise)
            try probe.send(SOCKS5.Request(.connect, address, port: port).encoded, piecewise: piecewise)
            let reply = try probe.reply()
            return (probe, reply.reply, reply)
        }

        func greetingAndLogin() -> [CheckResult] {
            var results: [CheckResult] = []
            guard let probe = try? Probe(proxy) else {
                return [.fail("greeting", "could not connect to the proxy at \(proxy)", hint: "step 1: the proxy must accept TCP connections on the port it was given")]
            }
            defer { probe.close() }
            guard let (user, password) = login else {
                do {
                    try probe.send([5, 1, 0])
                    let choice = try probe.receive(2)
                    results.append(choice == [5, 0]
                        ? .pass("greeting: no authentication", "[05 01 00] answered [05 00]")
                        : .fail("greeting: no authentication", "[05 01 00] answered \(Probe.hex(choice))",
                                hint: "steps 2–3 (RFC 1928 §3): answer VER 5 and the method chosen, 0x00 when no login is configured"))
                } catch {
                    results.append(.fail("greeting: no authentication", "no answer to [05 01 00]: \(error)", hint: "steps 2–3: read VER, NMETHODS and that many method bytes, then send 2 bytes back"))
                }
                return results
            }
            // A login is configured: a client that offers only "no authentication" is refused.
            do {
                try probe.send([5, 1, 0])
                let choice = try probe.receive(2)
                results.append(choice == [5, 0xFF]
                    ? .pass("auth enforced", "[05 01 00] (no authentication only) answered [05 FF]")
                    : .fail("auth enforced", "[05 01 00] answered \(Probe.hex(choice)): a client without a login got in",
                            hint: "when a login is required, choose 0x02 if offered and answer 0xFF (no acceptable method) otherwise, then close"))
            } catch {
                results.append(.fail("auth enforced", "no answer to a no-authentication greeting: \(error)", hint: "answer [05 FF] before closing, so the client knows why"))
            }
            do {
                let good = try Probe(proxy)
                defer { good.close() }
                try good.send([5, 2, 0, 2])
                let choice = try good.receive(2)
                try good.send(SOCKS5.Login(username: Array(user.utf8), password: Array(password.utf8)).encoded)
                let status = try good.receive(2)
                if choice != [5, 2] {
                    results.append(.fail("login: version byte", "[05 02 00 02] answered \(Probe.hex(choice))", hint: "offered no-auth and username/password, a proxy with logins picks 0x02"))
                } else {
                    results.append(status == [1, 0]
                        ? .pass("login: version byte", "the right login answered [01 00]: RFC 1929's own version 1, status 0")
                        : .fail("login: version byte", "the right login answered \(Probe.hex(status))",
                                hint: status.first == 5 ? "RFC 1929 §2: the sub-negotiation's reply starts with ITS version, 0x01, not SOCKS's 0x05 (a bug several real proxies have)" : "answer [01 00] to a login that matches"))
                }
            } catch {
                results.append(.fail("login: version byte", "the login exchange failed: \(error)", hint: "after choosing 0x02, read VER(1) ULEN UNAME PLEN PASSWD and answer 2 bytes"))
            }
            do {
                let bad = try Probe(proxy)
                defer { bad.close() }
                try bad.send([5, 1, 2])
                _ = try bad.receive(2)
                try bad.send(SOCKS5.Login(username: Array(user.utf8), password: Array((password + "x").utf8)).encoded)
                let status = try bad.receive(2)
                let closed = bad.closedByPeer(within: .seconds(3))
                results.append(status.count == 2 && status[1] != 0 && closed
                    ? .pass("wrong password refused", "answered \(Probe.hex(status)) and closed the connection")
                    : .fail("wrong password refused", "answered \(Probe.hex(status))\(closed ? "" : " and kept the connection open")",
                            hint: "RFC 1929: a status other than 0 means failure, and the server must then close the connection"))
            } catch {
                results.append(.fail("wrong password refused", "\(error)", hint: "answer [01 01] (any non-zero status) to a wrong login, then close"))
            }
            return results
        }

        /// A CONNECT through the proxy to the echo target, with a check of the data and the
        /// bound address (the target saw the proxy's side as the BND port says).
        func connectCheck(_ name: String, _ address: SOCKS5.Address, port: UInt16, targets: Targets, piecewise: Bool = false, hint: String) -> CheckResult {
            do {
                let (probe, reply, bound) = try open(address, port: port, piecewise: piecewise)
                defer { probe.close() }
                guard reply == .succeeded else {
                    return .fail(name, "CONNECT \(address.text(port: port)) answered REP \(reply.rawValue) (\(reply))", hint: hint)
                }
                let message = Array("through the proxy \(name)\n".utf8)
                try probe.send(message)
                let back = try probe.receive(message.count)
                guard back == message else { return .fail(name, "the echo target's bytes did not come back whole", hint: "steps 7–8: relay every byte both ways until EOF") }
                let seen = targets.peerPorts.withLock { $0 }
                if bound.port != 0, !seen.contains(bound.port) {
                    if seen.contains(bound.port.byteSwapped) {
                        return .fail(name, "BND.PORT \(bound.port) is the port the target saw (\(bound.port.byteSwapped)) with its bytes swapped",
                                     hint: "step 6: BND.PORT is in network byte order (big-endian): htons() it, or pack with \"!H\"")
                    }
                }
                return .pass(name, "REP 0, BND \(bound.address.text(port: bound.port)), \(message.count) bytes echoed back through the proxy")
            } catch {
                return .fail(name, "\(error)", hint: hint)
            }
        }

        func connectIPv4(_ targets: Targets) -> CheckResult {
            connectCheck("CONNECT to an IPv4 address", .ipv4(.loopback), port: targets.echo, targets: targets,
                         hint: "step 4: ATYP 1 is followed by 4 address bytes and a 2-byte port in network order; connect there, then answer VER 5, REP 0, RSV 0 and your side's address")
        }

        func connectName(_ targets: Targets) -> CheckResult {
            connectCheck("CONNECT to a domain name", .domain("localhost"), port: targets.echo, targets: targets,
                         hint: "ATYP 3: one length byte, then the name (no NUL); the proxy resolves it (getaddrinfo) and connects")
        }

        func connectIPv6(_ targets: Targets) -> CheckResult {
            guard let port = targets.echo6 else { return .skipped("CONNECT to an IPv6 address", "::1 is not available here") }
            return connectCheck("CONNECT to an IPv6 address", .ipv6(.loopback), port: port, targets: targets,
                                hint: "ATYP 4: 16 address bytes; open an AF_INET6 socket to it")
        }

        func piecewise(_ targets: Targets) -> CheckResult {
            connectCheck("greeting and request in 1-byte pieces", .ipv4(.loopback), port: targets.echo, targets: targets, piecewise: true,
                         hint: "TCP keeps no message boundaries: one recv() may return one byte; read until you have the whole message (recv in a loop, or read exactly the lengths the message gives)")
        }

        func refused() -> CheckResult {
            let closed = (try? Socket.tcp()).flatMap { socket -> UInt16? in
                defer { try? socket.close() }
                try? socket.bind(to: .loopback(0))
                return (try? socket.localAddress)?.port
            } ?? 1
            do {
                let (probe, reply, _) = try open(.ipv4(.loopback), port: closed)
                probe.close()
                return reply == .connectionRefused
                    ? .pass("a refused target", "CONNECT to a closed port answered REP 5 (connection refused)")
                    : .fail("a refused target", "CONNECT to a closed port answered REP \(reply.rawValue) (\(reply))",
                            hint: "step 5 failed with ECONNREFUSED: RFC 1928 §6 has REP 5 for it (3 network unreachable, 4 host unreachable, 1 anything else)")
            } catch {
                return .fail("a refused target", "no reply to a CONNECT to a closed port: \(error)", hint: "when the connect() fails, still answer (REP 5), then close")
            }
        }

        func halfClose(_ targets: Targets) -> CheckResult {
            do {
                let (probe, reply, _) = try open(.ipv4(.loopback), port: targets.replyAfterEOF)
                defer { probe.close() }
                guard reply == .succeeded else { return .fail("half-close relayed", "CONNECT answered REP \(reply.rawValue)", hint: "see the CONNECT checks") }
                try probe.send(Array(repeating: 0x61, count: 100_000))
                try probe.socket.shutdown(.write)
                let answer = String(decoding: try probe.receiveUntilEOF(), as: UTF8.self)
                return answer == "got 100000 bytes"
                    ? .pass("half-close relayed", "the client's FIN reached the target, whose answer (\"got 100000 bytes\") still came back")
                    : .fail("half-close relayed", "after the client's shutdown(SHUT_WR) the answer was \(answer.debugDescription)",
                            hint: "when recv() from one side returns 0, call shutdown(SHUT_WR) on the other and keep relaying the other way until it ends too; closing both at the first EOF loses the answer")
            } catch {
                return .fail("half-close relayed", "\(error)", hint: "EOF from the client must become shutdown(SHUT_WR) towards the target, not a close of both")
            }
        }

        func concurrent(_ targets: Targets, clients: Int) -> CheckResult {
            let peers = (0..<clients).map { index in
                Peer { () -> Bool in
                    guard let (probe, reply, _) = try? open(.ipv4(.loopback), port: targets.echo), reply == .succeeded else { return false }
                    defer { probe.close() }
                    let message = Array("client \(index) of \(clients)\n".utf8)
                    guard (try? probe.send(message)) != nil else { return false }
                    return (try? probe.receive(message.count)) == message
                }
            }
            let good = peers.filter { (try? $0.value(timeout: .seconds(30))) == true }.count
            return good == clients
                ? .pass("\(clients) clients at once", "all \(clients) connected, were relayed and got their own bytes back")
                : .fail("\(clients) clients at once", "\(clients - good) of \(clients) failed",
                        hint: "serve clients concurrently (a thread each, or poll/select over all sockets): a proxy that relays one client at a time keeps the others waiting")
        }

        func manyInARow(_ targets: Targets, lab: LabServer, count: Int) -> CheckResult {
            let processes = [lab.server.pid] + ProcessTree.leftBehind(by: lab.server.pid, marker: lab.server.marker)
            func descriptors() -> Int { processes.reduce(0) { $0 + ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\($1)/fd"))?.count ?? 0) } }
            let before = descriptors()
            for index in 0..<count {
                guard let (probe, reply, _) = try? open(.ipv4(.loopback), port: targets.echo), reply == .succeeded,
                      (try? probe.send([1, 2, 3])) != nil, (try? probe.receive(3)) == [1, 2, 3] else {
                    return .fail("\(count) connections in a row", "connection \(index + 1) of \(count) failed", hint: "close both sockets of every relay when it ends, or the proxy runs out of descriptors")
                }
                probe.close()
            }
            usleep(500_000)
            let after = descriptors()
            return after <= before + 4
                ? .pass("\(count) connections in a row", "the proxy's open descriptors: \(before) before, \(after) after")
                : .fail("\(count) connections in a row", "the proxy's open descriptors grew from \(before) to \(after)",
                        hint: "each finished relay must close both its sockets (the client's and the target's), also after an error; ls /proc/PID/fd shows what is left open")
        }

        func curl(_ targets: Targets) -> CheckResult {
            var arguments = ["curl", "-sS", "--max-time", "10", "--socks5-hostname", proxy.description, "http://localhost:\(targets.web)/"]
            if let (user, password) = login { arguments += ["--proxy-user", "\(user):\(password)"] }
            guard let (status, output) = try? ChildProcess.run(arguments) else { return .skipped("real curl through it", "curl is not installed") }
            return status == 0 && output == Targets.page
                ? .pass("real curl through it", "curl --socks5-hostname fetched the page through the proxy")
                : .fail("real curl through it", "curl exited \(status): \(output.prefix(200))",
                        hint: status == 97 ? "curl 97 is a SOCKS handshake curl did not accept: compare your bytes with RFC 1928 in the capture (inspector read --socks PORT)" : "try it yourself: curl -v --socks5-hostname \(proxy) http://localhost:\(targets.web)/")
        }
    }
}

extension Lab12: ServerLab {
    public static let number = "12"
    public static let slug = "12-socks-proxy"
    public static let title = "Write a SOCKS5 proxy"
    public static let topics = "any language; RFC 1928 and 1929, the relay, half-close"
    public static var checkCommand: String { "sudo labcheck 12 --server \"CMD\" --port P [--auth USER:PASS]" }
}
