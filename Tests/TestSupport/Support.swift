// Helpers every SocketLab test target shares: a peer thread, waiting for the kernel, test
// data, running real programs (ip, nft, tshark, curl) and whether root-only tests can run.
import Foundation
@_exported import LabHost  // Peer and ChildProcess: the thread and process helpers the labs and the tests share
import Synchronization


/// Waits until `condition` holds, polling; gives up after `timeout`. The kernel moves TCP
/// states on its own schedule (an ACK arrives a few µs later), so a test waits for a state
/// instead of assuming it is there already.
public func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        usleep(1_000)
    }
    return try condition()
}

/// Deterministic bytes to send, so the receiver can check every one.
public func pattern(_ count: Int, seed: UInt64 = 0x5eed) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

/// Runs a command and returns its exit status and output (ip, nft, tshark…), through the
/// labs' own `ChildProcess.run`. Standard error is merged into the output unless
/// `separateErrors`, when it is dropped (tshark warns about running as root there).
@discardableResult
public func run(_ arguments: [String], separateErrors: Bool = false) throws -> (status: Int32, output: String) {
    try ChildProcess.run(arguments, separateErrors: separateErrors)
}

/// A fresh temporary directory for a test's files.
public func temporaryDirectory(_ name: String = "socketlab") throws -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Whether tests that need root, `ip` and `nft` can run. Under CI they must: there the
/// answer is always yes, so a missing tool fails the test instead of skipping it.
public var canUseNamespaces: Bool {
    if ProcessInfo.processInfo.environment["CI"] != nil { return true }
    guard geteuid() == 0 else { return false }
    return ["/usr/sbin/ip", "/usr/sbin/nft"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
}

extension Topology {
    /// A test's second host: this machine joined by a veth pair to `far`, a network
    /// namespace, with `nftRules` run inside it (drop SYNs, impose loss). Torn down when
    /// released, or by the topology's watchdog if the test process dies.
    public static func farHost(prefix: String, subnet: Int, nftRules: String? = nil, segmentationOffload: Bool = true) throws -> Topology {
        let topology = try Topology(NamedTopology.machineAndHost(prefix: prefix, subnet: subnet, segmentationOffload: segmentationOffload))
        if let nftRules { try topology.nft(on: "far", nftRules) }
        return topology
    }

    /// The far host's address.
    public var farAddress: String { (try? address(of: "far")) ?? "" }
    /// This machine's end of the link: capture here to see the link's traffic.
    public var hereInterface: String { interfaces(of: "here").first?.name ?? "" }
    /// The arguments that run `command` on the far host.
    public func onFar(_ command: [String]) -> [String] { (try? inside("far", command)) ?? command }
}
