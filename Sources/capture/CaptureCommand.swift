import ArgumentParser
import PacketCapture
import Packets
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture packets live or read a capture file, one tcpdump-style line per frame.",
        discussion: """
            Exit codes: 0 success; 2 bad input (unknown interface, bad filter, unreadable or \
            truncated file); 3 no permission to capture (run with sudo, or setcap as the \
            message says). `inspector` (same options) adds the TCP analysis and explanations.
            """,
        subcommands: [Interfaces.self, Live.self, Read.self])

    static func main() { runAsSocketLabTool() }
}

extension CaptureCommand {
    struct Interfaces: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the interfaces you can capture on, with their addresses.")

        func run() throws {
            for interface in try NetworkInterface.all() {
                var flags: [String] = []
                if interface.isUp { flags.append("up") }
                if interface.isRunning { flags.append("running") }
                if interface.isLoopback { flags.append("loopback") }
                print("\(interface.name) [\(flags.joined(separator: ", "))]" + (interface.description.map { " \($0)" } ?? ""))
                for address in interface.addresses {
                    print("    \(address.address.host)" + (address.netmask.map { " netmask \($0.host)" } ?? ""))
                }
            }
        }
    }

    struct Live: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture on an interface until COUNT frames, the duration, or Ctrl-C.")

        @Option(name: .shortAndLong, help: "Interface to capture on: lo (loopback), eth0, any (all, Linux cooked).")
        var interface = "lo"
        @Option(name: [.customShort("f"), .long], help: "BPF capture filter, e.g. \"tcp port 8080\" (man pcap-filter).")
        var filter = ""
        @Option(name: [.customShort("c"), .long], help: "Stop after this many frames.")
        var count: Int?
        @Option(help: "Stop after this many seconds.")
        var duration: Double?
        @Option(name: [.customShort("w"), .long], help: "Also write the frames to this pcap file (Wireshark opens it).")
        var write: String?
        @Option(name: [.customShort("s"), .long], help: "Bytes kept per frame (snaplen).")
        var snaplen = 262_144
        @Option(name: [.customShort("B"), .long], help: "Kernel buffer size in KiB (0: libpcap's default).")
        var bufferSize = 0
        @Flag(name: [.customShort("p"), .long], help: "Promiscuous mode: also frames addressed to other hosts.")
        var promiscuous = false
        @Flag(help: "Let the kernel batch frames (faster, but lines appear late).")
        var noImmediate = false
        @Flag(name: .shortAndLong, help: "Print no per-frame lines, only the counters at the end.")
        var quiet = false

        func validate() throws {
            if let count { try OptionRange.check(count, 1...1_000_000_000_000, "--count", unit: "frames") }
            if let duration { try OptionRange.check(duration, 0.001...604_800, "--duration", unit: "seconds") }
            try OptionRange.check(snaplen, 68...262_144, "--snaplen", unit: "bytes")
            try OptionRange.check(bufferSize, 0...1_048_576, "--buffer-size", unit: "KiB")
        }

        func run() throws {
            var options = LiveCapture.Options()
            options.interface = interface
            options.filter = filter
            options.snapshotLength = snaplen
            options.bufferSize = bufferSize * 1024
            options.promiscuous = promiscuous
            options.immediate = !noImmediate
            options.writeTo = write
            let capture = try LiveCapture(options)
            LiveCapture.stopOnSignals()
            var standardError = StandardError()
            print("capture: listening on \(interface), link-type \(capture.linkType), snapshot length \(snaplen) bytes", to: &standardError)
            var frames = 0
            let linkType = capture.linkType
            let statistics = try capture.run(count: count, duration: duration.map { .milliseconds(Int($0 * 1000)) }) { frame in
                frames += 1
                if !quiet {
                    print(frame.timestamp.timeOfDay + " " + frame.decode(linkType).summary)
                    flushOutput()
                }
            }
            print("\(frames) packets captured\n\(statistics.received) packets received by filter\n\(statistics.droppedByKernel) packets dropped by kernel", to: &standardError)
        }
    }

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a pcap or pcapng file and print one line per frame.")

        @Argument(help: "The capture file (tcpdump -w, Wireshark, dumpcap: pcap or pcapng; - reads standard input).")
        var file: String
        @Option(name: [.customShort("c"), .long], help: "Stop after this many frames.")
        var count: Int?
        @Flag(name: .shortAndLong, help: "Decode every frame but print only a count per protocol (for benchmarks).")
        var quiet = false

        func validate() throws {
            if let count { try OptionRange.check(count, 1...1_000_000_000_000, "--count", unit: "frames") }
        }

        func run() throws {
            let capture = try CaptureFile(path: file)
            let linkType = capture.linkType
            // Read the options once: a property wrapper's getter costs a generic metadata
            // lookup, too much for every frame of a million.
            let limit = count ?? Int.max, quiet = quiet
            var tally = Tally()
            var result: Result<Void, CaptureError> = .success(())
            do {
                try capture.forEach { frame in
                    if tally.frames >= limit { return }
                    tally.add(frame.bytes, linkType: linkType)
                    if !quiet { print(frame.timestamp.timeOfDay + " " + tally.packet.summary) }
                }
            } catch {
                result = .failure(error)
            }
            if quiet { print(tally) }
            try result.get()
        }
    }
}

/// Frames per protocol, for `read --quiet`. It owns the one `Packet` every frame is decoded
/// into, so nothing is copied per frame.
struct Tally: CustomStringConvertible {
    private(set) var packet = Packet()
    var frames = 0, tcp = 0, udp = 0, icmp = 0, other = 0, malformed = 0, payloadBytes = 0

    mutating func add(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) {
        packet.decode(bytes, linkType: linkType)
        frames += 1
        if packet.problem != nil { malformed += 1 }
        if let length = packet.tcp?.payloadLength {
            tcp += 1
            payloadBytes += length
        } else if let length = packet.udp?.payloadLength {
            udp += 1
            payloadBytes += length
        } else if packet.icmp != nil || packet.icmpv6 != nil {
            icmp += 1
        } else {
            other += 1
        }
    }

    var description: String {
        "\(frames) frames: \(tcp) TCP, \(udp) UDP, \(icmp) ICMP, \(other) other, \(malformed) malformed; \(payloadBytes) payload bytes"
    }
}
