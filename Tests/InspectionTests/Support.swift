import PacketCapture
import Foundation
import Packets
import SocketCore
import Synchronization
import Testing
@_exported import TestSupport  // every test file here uses its helpers
@_exported import FrameBuilder

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

/// A real program running in the background (python's http.server, tcpdump, dumpcap), its
/// output kept in a file for failure messages; stopped with SIGTERM when the test is done
/// (capture tools flush their file on it). `readyWhen`: wait (up to 10 s) for that text, the
/// way tcpdump says "listening on".
func background(_ arguments: [String], readyWhen marker: String? = nil) throws -> Background {
    let log = try OutputLog(path: try temporaryDirectory("background") + "/output.log")
    let process = try ChildProcess(arguments, output: log.writeDescriptor)
    log.childStarted()
    if let marker {
        try #require(log.waitFor(marker), "\(arguments.joined(separator: " ")) did not say \(marker.debugDescription): \(log.text)")
    }
    return Background(process: process, log: log)
}

/// A program started by `background`, and what it wrote.
struct Background {
    let process: ChildProcess
    let log: OutputLog
    /// Stops it (SIGTERM, then SIGKILL) and waits for its last output.
    func stop() {
        process.stop()
        log.finish()
    }
    var output: String { log.text }
}

/// python3 -m http.server on `host`, waited for until it accepts connections.
func httpServer(host: String, port: UInt16, directory: String) throws -> Background {
    let server = try background(["python3", "-m", "http.server", "--bind", host, "--directory", directory, String(port)])
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

/// `bytes` sent from here to a host behind a link that drops `lossPercent`% of the packets
/// arriving there (a Python sink that answers with the count), captured on this side of the
/// link: retransmissions, duplicate ACKs, SACK blocks. Returns the capture's path.
func lossyBulkTransfer(in directory: String, prefix: String, subnet: Int, port: Int, lossPercent: Int, bytes: Int) throws -> String {
    let host = try Topology.farHost(
        prefix: prefix, subnet: subnet,
        nftRules: "add table inet loss; add chain inet loss input { type filter hook input priority 0; }; add rule inet loss input tcp dport \(port) numgen random mod 100 < \(lossPercent) drop",
        segmentationOffload: false)
    let sink = try background(host.onFar(["python3", "-c", """
        import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", \(port))); s.listen(5)
        c, _ = s.accept()
        n = 0
        while True:
            b = c.recv(65536)
            if not b: break
            n += len(b)
        c.sendall(str(n).encode()); c.close()
        """]))
    defer { sink.stop(); host.teardown() }
    let target = try SocketAddress("\(host.farAddress):\(port)")
    _ = eventually(timeout: .seconds(10)) { (try? run(host.onFar(["ss", "-ltn", "sport = :\(port)"])).output.contains("LISTEN")) ?? false }
    let capture = try captureWhile("lossy", in: directory, interface: host.hereInterface, filter: "tcp port \(port)") {
        let socket = try Socket.connected(to: target, timeout: .seconds(5))
        try socket.send(pattern(bytes))
        try socket.shutdown(.write)
        let reply = try socket.receiveUntilEOF()
        #expect(String(decoding: reply, as: UTF8.self) == "\(bytes)", "every byte arrived despite the loss")
        usleep(200_000)  // the last ACKs, before the capture stops
    }
    return capture.path
}
