// swift-tools-version:6.0
// SocketLab: a networking teaching lab and protocol inspector.
// The folder list is the layer diagram (Docs/architecture.md); dependencies point down:
//
//   executables (thin)    tcp-echo capture inspector raw-ping handshake-demo udp-vs-tcp chat-server
//                         labcheck topology transfer socks-proxy standby socketcore-bench packets-fuzz
//   ToolSupport           exit codes, error printing, the colour flag      (ArgumentParser)
//   LabChecks             the Lab protocol, the registry, one folder per lab, result formats
//   LabEngines            what a lab tool does, with its text and JSON report
//   LabServers            reference servers on one poll loop with per-client output queues
//   LabHost               topologies, child processes, threads, the kernel's TCP table
//   Inspection            tracker → analysis → views
//   PacketCapture         libpcap: live capture, files, the background recorder
//   Packets  SocketCore   pure decoding / typed BSD sockets (know nothing of each other)
//   ExitStatus TextOutput FrameBuilder NetworkAddresses CPcap CZlib CLinux
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let system: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")

/// A thin command-line tool in `Sources/NAME`, named after its product.
func tool(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies + ["ToolSupport", argumentParser], swiftSettings: strict)
}

let package = Package(
    name: "SocketLab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SocketCore", targets: ["SocketCore"]),
        .library(name: "Packets", targets: ["Packets"]),
        .library(name: "PacketCapture", targets: ["PacketCapture"]),
        .library(name: "Inspection", targets: ["Inspection"]),
        .executable(name: "tcp-echo", targets: ["tcp-echo"]),
        .executable(name: "socketcore-bench", targets: ["socketcore-bench"]),
        .executable(name: "capture", targets: ["capture"]),
        .executable(name: "inspector", targets: ["inspector"]),
        .executable(name: "raw-ping", targets: ["raw-ping"]),
        .executable(name: "handshake-demo", targets: ["handshake-demo"]),
        .executable(name: "udp-vs-tcp", targets: ["udp-vs-tcp"]),
        .executable(name: "labcheck", targets: ["labcheck"]),
        .executable(name: "chat-server", targets: ["chat-server"]),
        .executable(name: "topology", targets: ["topology"]),
        .executable(name: "transfer", targets: ["transfer"]),
        .executable(name: "ipc-compare", targets: ["ipc-compare"]),
        .executable(name: "socket-types", targets: ["socket-types"]),
        .executable(name: "remote", targets: ["remote"]),
        .executable(name: "talk", targets: ["talk"]),
        .executable(name: "standby", targets: ["standby"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SHA-256 for the file-transfer lab's digests (BoringSSL's, with the CPU's SHA
        // instructions where it has them: 1.7 GB/s here, faster than the disk it guards).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // FileDescriptor: typed open/read/write/seek on files, EINTR retried, errno typed.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // The answers files are TOML: a real parser, so that every way a student writes a
        // number (25.107, 0x1fc5, 1_000) reads as TOML says.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Latency percentiles (ipc-compare): HdrHistogram keeps every sample's value to three
        // significant digits in fixed memory, so p99 and max of a million round trips are exact
        // to 0.1% without sorting a million numbers.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // libpcap, found with pkg-config; PacketCapture builds on it.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        // zlib: capture files stored gzip-compressed are read as tshark reads them.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The GNU-only Linux calls and constants Swift's Glibc module leaves out (setns…).
        .target(name: "CLinux"),
        // The exit-code contract (0 success, 1 failure, 2 bad input, 3 missing privilege), once.
        .target(name: "ExitStatus", swiftSettings: strict),
        // IPv4/IPv6 address values shared by sockets and decoded packets.
        .target(name: "NetworkAddresses", swiftSettings: strict),
        // How every tool writes for people and programs: the one JSON writer, the colour rule.
        .target(name: "TextOutput", swiftSettings: strict),
        // Typed BSD sockets: every call maps to one syscall, every error names it.
        .target(name: "SocketCore", dependencies: ["NetworkAddresses", "ExitStatus", "CLinux"], swiftSettings: strict),
        // Pure decoding and encoding of headers: no I/O, never traps on any input.
        .target(name: "Packets", dependencies: ["NetworkAddresses"], swiftSettings: strict),
        // Frames built byte by byte with an independent checksum: test data and fuzz seeds.
        .target(name: "FrameBuilder", swiftSettings: strict),
        // libpcap: live capture, pcap/pcapng files, statistics, interfaces, the recorder.
        .target(name: "PacketCapture", dependencies: ["CPcap", "CZlib", "Packets", "SocketCore", "ExitStatus", "TextOutput"], swiftSettings: strict),
        // Follows TCP conversations in decoded packets and explains them; never opens a device.
        // Release builds skip the run-time exclusivity checks here: the tracker updates each
        // connection's state (a class) on every segment, and the checks were 15% of the
        // instructions of `inspector read --summary` (callgrind). Debug builds and tests keep them.
        .target(
            name: "Inspection", dependencies: ["Packets", "PacketCapture", "TextOutput"],
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // The machines a lab runs on: topologies of network namespaces, child processes,
        // threads, the kernel's TCP table. No libpcap, so SocketCore's tests stay small.
        .target(name: "LabHost", dependencies: ["SocketCore", "NetworkAddresses", "CLinux", "ExitStatus", "TextOutput"], swiftSettings: strict),
        // Reference servers a student's own is measured against, on one poll loop.
        .target(name: "LabServers", dependencies: ["SocketCore", "Packets", "ExitStatus", "LabHost", crypto], swiftSettings: strict),
        // What the lab tools do: the handshake demo, the UDP/TCP comparison, ping, file transfer
        // over TCP and TFTP.
        .target(
            name: "LabEngines",
            dependencies: ["SocketCore", "Packets", "PacketCapture", "Inspection", "LabHost", "LabServers", "TextOutput", "ExitStatus", crypto, system,
                           .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: strict),
        // The Lab protocol, its registry and one folder per lab: answers, hints, black-box checks.
        .target(
            name: "LabChecks",
            dependencies: ["SocketCore", "Packets", "PacketCapture", "Inspection", "LabHost", "LabEngines", "LabServers", "TextOutput",
                           .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict),
        // What every command-line tool shares: exit codes, error printing, the colour flag.
        .target(
            name: "ToolSupport",
            dependencies: ["SocketCore", "PacketCapture", "LabHost", "TextOutput", "ExitStatus", argumentParser],
            swiftSettings: strict),

        tool("tcp-echo", ["SocketCore", "LabServers"]),
        tool("socketcore-bench", ["SocketCore"]),
        // tcpdump's little sibling: list interfaces, capture live, read files, one line a frame.
        tool("capture", ["PacketCapture", "Packets"]),
        tool("inspector", ["PacketCapture", "Inspection", "Packets", "TextOutput"]),
        tool("raw-ping", ["LabEngines", "SocketCore", "TextOutput"]),
        tool("handshake-demo", ["LabEngines", "SocketCore", "PacketCapture"]),
        tool("udp-vs-tcp", ["LabEngines", "LabHost", "SocketCore"]),
        tool("chat-server", ["LabServers", "SocketCore"]),
        // Lab 12: a SOCKS5 proxy, the reference a student's own is compared with.
        tool("socks-proxy", ["LabServers", "SocketCore"]),
        tool("labcheck", ["LabChecks", "TextOutput"]),
        tool("topology", ["LabHost"]),
        // Lab 08: a file over TCP with a digest and resume, and over UDP as TFTP.
        tool("transfer", ["LabEngines", "SocketCore", "TextOutput"]),
        // Lab 11: local IPC measured between two processes, and the socket types probed live.
        tool("ipc-compare", ["LabEngines", "SocketCore"]),
        tool("socket-types", ["LabEngines", "SocketCore"]),
        // Lab 09: a command run on another machine, its output and exit status, behind a token.
        // Lab 07: two machines, key by key.
        tool("talk", ["LabEngines", "SocketCore", "TextOutput"]),
        // Lab 10: hot-standby failover by heartbeat, its service, its client and its failures.
        tool("standby", ["LabEngines", "LabServers", "LabHost", "SocketCore", "Packets", "TextOutput"]),
        tool("remote", ["LabEngines", "LabServers", "LabHost", "SocketCore", "Packets"]),
        // libFuzzer target over the decoder and the whole inspector (`make fuzz`); a plain build
        // replays saved inputs.
        .executableTarget(
            name: "packets-fuzz", dependencies: ["Packets", "PacketCapture", "Inspection", "FrameBuilder"],
            swiftSettings: strict),

        // Shared by the test targets: waiting for the kernel, test data, running real programs.
        // It pulls in no libpcap: SocketCore's tests build without it.
        .target(name: "TestSupport", dependencies: ["LabHost", "SocketCore"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "SocketCoreTests", dependencies: ["SocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PacketsTests", dependencies: ["Packets", "FrameBuilder", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "InspectionTests",
            dependencies: ["PacketCapture", "Packets", "SocketCore", "Inspection", "FrameBuilder", "TestSupport", "TextOutput"],
            swiftSettings: strict),
        .testTarget(name: "TextOutputTests", dependencies: ["TextOutput"], swiftSettings: strict),
        .testTarget(name: "LabHostTests", dependencies: ["LabHost", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LabServersTests", dependencies: ["LabServers", "SocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LabEnginesTests", dependencies: ["LabEngines", "Packets", "SocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LabChecksTests",
            dependencies: ["LabChecks", "LabEngines", "LabServers", "Inspection", "PacketCapture", "Packets", "SocketCore", "NetworkAddresses", "FrameBuilder", "TestSupport", "TextOutput"],
            swiftSettings: strict),
    ]
)
