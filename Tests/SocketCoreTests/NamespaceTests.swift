import Foundation
import Testing
@testable import SocketCore

/// A host whose nftables firewall silently drops every SYN to port 9. A connect() there gets
/// no answer at all — the case a timeout exists for.
func silentHost() throws -> Topology {
    try Topology.farHost(
        prefix: "slabt", subnet: 0,
        nftRules: "add table inet silent; add chain inet silent input { type filter hook input priority 0; }; add rule inet silent input tcp dport 9 tcp flags syn drop")
}

@Suite("A host that drops SYNs (network namespace + nftables)", .serialized, .enabled(if: canUseNamespaces, "needs root, ip and nft"))
struct NamespaceTests {
    @Test("connect with a timeout gives up with ETIMEDOUT and a hint about dropped SYNs")
    func connectTimeout() throws {
        let host = try silentHost()
        let target = try SocketAddress("\(host.farAddress):9")
        let clock = ContinuousClock()
        let started = clock.now
        #expect {
            try Socket.connected(to: target, timeout: .milliseconds(300))
        } throws: { error in
            guard let error = error as? SocketError, case .system(let call, let errno, let address) = error else { return false }
            return call == .connect && errno == .ETIMEDOUT && address == target
                && error.hint!.contains("drops the SYN")
        }
        // Not a timing assertion: only that it did not fall back to the kernel's ~2 minutes.
        #expect(clock.now - started < .seconds(30))
    }

    @Test("while its SYN goes unanswered the client sits in SYN-SENT")
    func synSent() throws {
        let host = try silentHost()
        let client = try Socket.tcp()
        try client.setNonBlocking(true)
        #expect {
            try client.connect(to: try SocketAddress("\(host.farAddress):9"))
        } throws: { ($0 as? SocketError)?.errno == .EINPROGRESS }
        #expect(try client.tcpInfo.state == .synSent)
        #expect(try eventually(timeout: .seconds(5)) { try client.tcpInfo.retransmits >= 1 },
                "the kernel retransmits the SYN after its 1 s initial timeout")
    }

    @Test("the same host answers on other ports, so the drop is the firewall's doing")
    func otherPortsAnswer() throws {
        let host = try silentHost()
        #expect {
            try Socket.connected(to: try SocketAddress("\(host.farAddress):10"), timeout: .seconds(5))
        } throws: { ($0 as? SocketError)?.errno == .ECONNREFUSED }
    }
}
