import Foundation

/// A second host made for a test: a network namespace joined to this one by a veth pair
/// (`localAddress` here, `address` there, a /30), with an optional nftables ruleset inside it
/// (drop SYNs, impose random loss). Torn down when released. Nothing leaves this machine.
public final class NetworkNamespace {
    public let name: String
    /// The veth end in this namespace: capture here to see the link's traffic.
    public let hostSide: String
    public let address: String
    public let localAddress: String

    /// `prefix` keeps names unique per test (interface names have 15 characters at most);
    /// `subnet` is the third octet of 10.231.x.0/30.
    /// `segmentation: false` turns off TSO/GSO/GRO on both ends (ethtool), so that the link
    /// carries MSS-sized packets as a real Ethernet would, instead of 64 KiB super-packets:
    /// loss then hits single segments, as a lab about retransmissions needs.
    public init(prefix: String, subnet: Int, nftRules: String? = nil, segmentation: Bool = true) throws {
        let tag = String(getpid() % 100_000)
        name = "\(prefix)-\(tag)"
        hostSide = "\(prefix)\(tag)h"
        let peerSide = "\(prefix)\(tag)p"
        address = "10.231.\(subnet).2"
        localAddress = "10.231.\(subnet).1"
        teardown()
        var steps: [[String]] = [
            ["ip", "netns", "add", name],
            ["ip", "link", "add", hostSide, "type", "veth", "peer", "name", peerSide],
            ["ip", "link", "set", peerSide, "netns", name],
            ["ip", "addr", "add", "\(localAddress)/30", "dev", hostSide],
            ["ip", "link", "set", hostSide, "up"],
            ["ip", "-n", name, "addr", "add", "\(address)/30", "dev", peerSide],
            ["ip", "-n", name, "link", "set", peerSide, "up"],
            ["ip", "-n", name, "link", "set", "lo", "up"],
        ]
        if let nftRules { steps.append(["ip", "netns", "exec", name, "nft", nftRules]) }
        if !segmentation {
            steps.append(["ethtool", "-K", hostSide, "tso", "off", "gso", "off", "gro", "off"])
            steps.append(["ip", "netns", "exec", name, "ethtool", "-K", peerSide, "tso", "off", "gso", "off", "gro", "off"])
        }
        for step in steps {
            let (status, output) = try run(step)
            guard status == 0 else {
                teardown()
                throw NamespaceSetupFailed(command: step.joined(separator: " "), output: output)
            }
        }
    }

    /// The arguments that run `command` inside the namespace.
    public func inside(_ command: [String]) -> [String] { ["ip", "netns", "exec", name] + command }

    public func teardown() {
        _ = try? run(["ip", "link", "del", hostSide])
        _ = try? run(["ip", "netns", "del", name])
    }

    deinit { teardown() }
}

public struct NamespaceSetupFailed: Error, CustomStringConvertible {
    public var command: String
    public var output: String
    public var description: String { "\(command) failed: \(output)" }
}
