// Helpers every SocketLab test target shares: a peer thread, waiting for the kernel, test
// data, running real programs (ip, nft, tshark, curl) and whether root-only tests can run.
import Foundation
@_exported import LabKit  // Peer: the thread helper the labs and the tests share
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

/// Runs a command and returns its exit status and output (ip, nft, tshark…). Standard error
/// is merged into the output unless `separateErrors`, when it is read and dropped (tshark
/// warns about running as root there).
@discardableResult
public func run(_ arguments: [String], separateErrors: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["PATH"] = (environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = separateErrors ? FileHandle.nullDevice : pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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
