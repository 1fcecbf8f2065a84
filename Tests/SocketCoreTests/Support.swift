import Foundation
import Synchronization
import Testing
@testable import SocketCore

/// Runs `body` on its own thread — the other end of a conversation — and hands back its
/// result on `value()`. Blocking socket calls never sit on Swift's small cooperative pool.
final class Peer<Result: Sendable>: Sendable {
    private let outcome = Mutex<Swift.Result<Result, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Result) {
        let thread = Thread { [self] in
            let result = Swift.Result { try body() }
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread (at most `timeout`, so a broken test fails instead of hanging).
    func value(timeout: Duration = .seconds(30)) throws -> Result {
        let seconds = Double(timeout.components.seconds)
        guard done.wait(timeout: .now() + seconds) == .success else {
            throw PeerTimedOut()
        }
        return try outcome.withLock { $0! }.get()
    }
}

struct PeerTimedOut: Error {}

/// A listener on 127.0.0.1 (or ::1) with a port the kernel chose.
func loopbackListener(_ family: AddressFamily = .ipv4) throws -> (Socket, SocketAddress) {
    let listener = try Socket.listening(on: .loopback(0, family: family))
    return (listener, try listener.localAddress)
}

/// Open descriptors of this process, from /proc/self/fd.
func openDescriptorCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
}

/// Waits until `condition` holds, polling; gives up after `timeout`. The kernel moves TCP
/// states on its own schedule (an ACK arrives a few µs later), so a test waits for a state
/// instead of assuming it is there already.
func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        usleep(1_000)
    }
    return try condition()
}

/// Deterministic bytes to send, so the receiver can check every one.
func pattern(_ count: Int, seed: UInt64 = 0x5eed) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

/// Runs a command and returns its exit status and output (for ip/nft in namespace tests).
@discardableResult
func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether tests that need root, `ip` and `nft` can run. Under CI they must: there the
/// answer is always yes, so a missing tool fails the test instead of skipping it.
var canUseNamespaces: Bool {
    if ProcessInfo.processInfo.environment["CI"] != nil { return true }
    guard geteuid() == 0 else { return false }
    return ["/usr/sbin/ip", "/usr/sbin/nft"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
}
