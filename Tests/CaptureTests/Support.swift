import Capture
import Foundation
import Packets
import SocketCore
import Synchronization
import Testing
@_exported import TestSupport  // every test file here uses its helpers

/// Captures on `interface` while `traffic` runs and writes the frames to a pcap file in
/// `directory`. Returns the file and how many frames the capture delivered.
func captureWhile(
    _ name: String, in directory: String, interface: String = "lo", filter: String,
    linkType: LinkType? = nil, traffic: () throws -> Void
) throws -> (path: String, frames: Int, statistics: CaptureStatistics) {
    var options = LiveCapture.Options()
    options.interface = interface
    options.filter = filter
    options.linkType = linkType
    options.writeTo = "\(directory)/\(name).pcap"
    let capture = try LiveCapture(options)
    let running = Peer { () throws -> (Int, CaptureStatistics) in
        var frames = 0
        let statistics = try capture.run { _ in frames += 1 }
        return (frames, statistics)
    }
    try traffic()
    capture.stop()
    let (frames, statistics) = try running.value()
    return (options.writeTo!, frames, statistics)
}

/// A port nothing listens on right now (the kernel's pick for a socket we close at once).
func freePort(_ family: AddressFamily = .ipv4) throws -> UInt16 {
    let socket = try Socket.tcp(family)
    try socket.bind(to: .loopback(0, family: family))
    return try socket.localAddress.port!
}

/// A real program running in the background (python's http.server, tcpdump, dumpcap),
/// stopped with SIGTERM when the test is done (SIGINT may be ignored in a test runner's
/// children; capture tools flush their file on either).
final class Background {
    let process = Process()
    private let errors = Pipe()
    /// What it wrote to standard error (all of it once stopped): for failure messages.
    private(set) var seen = ""

    /// Starts `arguments`; if `readyWhen` is given, waits (up to 10 s) for that text on its
    /// standard error, the way tcpdump says "listening on".
    init(_ arguments: [String], readyWhen marker: String? = nil) throws {
        // The test runner's children inherit its ignored and blocked signals, so SIGTERM
        // would do nothing; restore the defaults before exec'ing the real program.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.withDefaultSignals] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        guard let marker else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while !seen.contains(marker) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw NotReady(command: arguments.joined(separator: " "), output: seen)
            }
            seen += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
    }

    static let withDefaultSignals = """
        import os, signal, sys
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP): signal.signal(s, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execvp(sys.argv[1], sys.argv[1:])
        """

    struct NotReady: Error { let command: String; let output: String }

    /// SIGTERM, then wait for it to exit; SIGKILL if it has not within 5 s.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let exited = eventually(timeout: .seconds(5)) { !process.isRunning }
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        seen += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit { stop() }
}

/// python3 -m http.server on `host`, waited for until it accepts connections.
func httpServer(host: String, port: UInt16, directory: String) throws -> Background {
    let server = try Background(["python3", "-m", "http.server", "--bind", host, "--directory", directory, String(port)])
    let address = try SocketAddress("\(host.contains(":") ? "[\(host)]" : host):\(port)")
    let up = eventually(timeout: .seconds(10)) { (try? Socket.connected(to: address)) != nil }
    try #require(up, "python3 http.server did not start on \(address)")
    return server
}

/// curl fetching one URL, as a student would; fails the test if curl fails.
func curl(_ url: String) throws {
    let (status, output) = try run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", url])
    try #require(status == 0, "curl \(url): \(output)")
}

/// Asserts SocketLab and tshark agree on every field of every frame of `file`.
func expectAgreement(_ file: String, minimumFrames: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Tshark.disagreements(file: file)
    #expect(result.frames >= minimumFrames, "only \(result.frames) frames in \(file)", sourceLocation: sourceLocation)
    let report = result.differences.prefix(30).joined(separator: "\n")
    #expect(result.differences.isEmpty, "\(result.differences.count) disagreements with tshark in \(file):\n\(report)", sourceLocation: sourceLocation)
    print("tshark agreement: \(file): \(result.frames) frames, \(result.fields) field values, \(result.differences.count) differences")
}
