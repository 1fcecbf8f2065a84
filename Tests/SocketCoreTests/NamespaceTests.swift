import Foundation
import Testing
@testable import SocketCore

/// A second host, made for the test: a network namespace joined to this one by a veth pair,
/// whose nftables firewall silently drops every SYN to port 9. A connect() there gets no
/// answer at all — the case a timeout exists for. Nothing leaves this machine.
final class SilentHost {
    let name: String
    let hostSide: String
    let address = "10.231.0.2"
    let localAddress = "10.231.0.1"

    init() throws {
        let tag = String(getpid() % 100_000)
        name = "slabt-\(tag)"
        hostSide = "slabt\(tag)h"
        let peerSide = "slabt\(tag)p"
        teardown()
        let steps: [[String]] = [
            ["ip", "netns", "add", name],
            ["ip", "link", "add", hostSide, "type", "veth", "peer", "name", peerSide],
            ["ip", "link", "set", peerSide, "netns", name],
            ["ip", "addr", "add", "\(localAddress)/30", "dev", hostSide],
            ["ip", "link", "set", hostSide, "up"],
            ["ip", "-n", name, "addr", "add", "\(address)/30", "dev", peerSide],
            ["ip", "-n", name, "link", "set", peerSide, "up"],
            ["ip", "-n", name, "link", "set", "lo", "up"],
            ["ip", "netns", "exec", name, "nft",
             "add table inet silent; add chain inet silent input { type filter hook input priority 0; }; add rule inet silent input tcp dport 9 tcp flags syn drop"],
        ]
        for step in steps {
            let (status, output) = try run(step)
            guard status == 0 else {
                teardown()
                throw NamespaceSetupFailed(command: step.joined(separator: " "), output: output)
            }
        }
    }

    func teardown() {
        _ = try? run(["ip", "link", "del", hostSide])
        _ = try? run(["ip", "netns", "del", name])
    }

    deinit { teardown() }
}

struct NamespaceSetupFailed: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command) failed: \(output)" }
}

@Suite("A host that drops SYNs (network namespace + nftables)", .serialized, .enabled(if: canUseNamespaces, "needs root, ip and nft"))
struct NamespaceTests {
    @Test("connect with a timeout gives up with ETIMEDOUT and a hint about dropped SYNs")
    func connectTimeout() throws {
        let host = try SilentHost()
        let target = try SocketAddress("\(host.address):9")
        let clock = ContinuousClock()
        let started = clock.now
        #expect {
            try Socket.connected(to: target, timeout: .milliseconds(300))
        } throws: { error in
            guard let error = error as? SocketError, case .system(let call, let errno, let address) = error else { return false }
            return call == "connect" && errno == .ETIMEDOUT && address == target
                && error.hint!.contains("drops the SYN")
        }
        // Not a timing assertion: only that it did not fall back to the kernel's ~2 minutes.
        #expect(clock.now - started < .seconds(30))
    }

    @Test("while its SYN goes unanswered the client sits in SYN-SENT")
    func synSent() throws {
        let host = try SilentHost()
        let client = try Socket.tcp()
        try client.setNonBlocking(true)
        #expect {
            try client.connect(to: try SocketAddress("\(host.address):9"))
        } throws: { ($0 as? SocketError)?.errno == .EINPROGRESS }
        #expect(try client.tcpInfo.state == .synSent)
        #expect(try eventually(timeout: .seconds(5)) { try client.tcpInfo.retransmits >= 1 },
                "the kernel retransmits the SYN after its 1 s initial timeout")
    }

    @Test("the same host answers on other ports, so the drop is the firewall's doing")
    func otherPortsAnswer() throws {
        let host = try SilentHost()
        #expect {
            try Socket.connected(to: try SocketAddress("\(host.address):10"), timeout: .seconds(5))
        } throws: { ($0 as? SocketError)?.errno == .ECONNREFUSED }
    }
}
