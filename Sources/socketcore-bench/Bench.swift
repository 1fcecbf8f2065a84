import ArgumentParser
import Foundation
import Synchronization
import SocketCore
import ToolSupport

/// The SocketCore side of `make bench`: the same three loopback measurements as
/// `bench/sockbench.c`, through SocketCore's typed calls, so their ratio is what the
/// wrapper costs. One line of output per run: "<mode> <value> <unit>".
@main
struct SocketCoreBench: ParsableCommand {
    static func main() { runAsSocketLabTool() }

    static let configuration = CommandConfiguration(
        commandName: "socketcore-bench",
        abstract: "Loopback TCP throughput, 1-byte ping-pong and connect/accept rate through SocketCore.",
        discussion: "Run by scripts/bench.sh beside the C baseline; see Docs/performance.md.")

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case throughput, pingpong, connect
    }

    @Argument(help: "What to measure: throughput (N bytes), pingpong (N round trips), connect (N connections).")
    var mode: Mode

    @Argument(help: "N: bytes, round trips or connections.")
    var count: Int

    func validate() throws {
        try OptionRange.check(count, 1...1_000_000_000_000, "N")
    }

    func run() throws {
        let listener = try Socket.listening(on: .loopback(0), backlog: 1024)
        let address = try listener.localAddress
        let clock = ContinuousClock()
        switch mode {
        case .throughput:
            let server = Background {
                let (connection, _) = try listener.accept()
                var buffer = [UInt8](repeating: 0, count: 256 << 10)
                try buffer.withUnsafeMutableBytes { buffer in
                    while try connection.receive(into: buffer) > 0 {}
                }
            }
            let client = try Socket.connected(to: address)
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 128 << 10)
            let started = clock.now
            try chunk.withUnsafeBytes { chunk in
                var left = count
                while left > 0 {
                    left -= try client.sendSome(UnsafeRawBufferPointer(rebasing: chunk[..<min(left, chunk.count)]))
                }
            }
            try client.shutdown(.write)
            try server.join()
            let seconds = (clock.now - started).seconds
            print(String(format: "throughput %.3f Gbit/s", Double(count) * 8 / seconds / 1e9))
        case .pingpong:
            let server = Background {
                let (connection, _) = try listener.accept()
                try connection.set(.noDelay, true)
                var byte: UInt8 = 0
                try withUnsafeMutableBytes(of: &byte) { buffer in
                    while try connection.receive(into: buffer) == 1 {
                        try connection.send(UnsafeRawBufferPointer(buffer))
                    }
                }
            }
            let client = try Socket.connected(to: address)
            try client.set(.noDelay, true)
            var byte = UInt8(ascii: "x")
            let started = clock.now
            try withUnsafeMutableBytes(of: &byte) { buffer in
                for _ in 0..<count {
                    try client.send(UnsafeRawBufferPointer(buffer))
                    guard try client.receive(into: buffer) == 1 else { throw SocketError.unexpectedEOF(expected: 1, received: 0) }
                }
            }
            let seconds = (clock.now - started).seconds
            try client.close()
            try server.join()
            print(String(format: "pingpong %.0f round-trips/s", Double(count) / seconds))
        case .connect:
            let count = count
            let server = Background {
                var byte: UInt8 = 0
                for _ in 0..<count {
                    let (connection, _) = try listener.accept()
                    // Wait for the client's FIN, so the client closes first (as in the C).
                    _ = try withUnsafeMutableBytes(of: &byte) { try connection.receive(into: $0) }
                    try connection.close()
                }
            }
            let started = clock.now
            for _ in 0..<count {
                try Socket.connected(to: address).close()
            }
            try server.join()
            let seconds = (clock.now - started).seconds
            print(String(format: "connect %.0f connections/s", Double(count) / seconds))
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The server half of a measurement, on its own thread as in the C baseline.
final class Background: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<(any Error)?>(nil)

    init(_ body: @escaping @Sendable () throws -> Void) {
        Thread { [self] in
            do { try body() } catch { failure.withLock { $0 = error } }
            done.signal()
        }.start()
    }

    func join() throws {
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
