// swift-tools-version:6.0
// SocketLab: a networking teaching lab and protocol inspector.
// One target per layer (see Docs/architecture in ../shared/DESIGN.md):
//   NetworkAddresses ← SocketCore, Packets ; CPcap ← Capture ; executables stay thin.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "SocketLab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SocketCore", targets: ["SocketCore"]),
        .library(name: "Packets", targets: ["Packets"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Inspector", targets: ["Inspector"]),
        .executable(name: "echo", targets: ["echo"]),
        .executable(name: "socketcore-bench", targets: ["socketcore-bench"]),
        .executable(name: "capture", targets: ["capture"]),
        .executable(name: "inspector", targets: ["inspector"]),
        .executable(name: "raw-ping", targets: ["raw-ping"]),
        .executable(name: "handshake-demo", targets: ["handshake-demo"]),
        .executable(name: "udp-vs-tcp", targets: ["udp-vs-tcp"]),
        .executable(name: "labcheck", targets: ["labcheck"]),
        .executable(name: "chat-server", targets: ["chat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libpcap, found with pkg-config; the Capture layer builds on it.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // IPv4/IPv6 address values shared by sockets and decoded packets.
        .target(name: "NetworkAddresses", swiftSettings: strict),
        // Typed BSD sockets: every call maps to one syscall, every error names it.
        .target(name: "SocketCore", dependencies: ["NetworkAddresses"], swiftSettings: strict),
        // Pure decoding and encoding of headers: no I/O, never traps on any input.
        .target(name: "Packets", dependencies: ["NetworkAddresses"], swiftSettings: strict),
        // libpcap: live capture, pcap/pcapng files, statistics, interfaces.
        .target(name: "Capture", dependencies: ["CPcap", "Packets", "SocketCore"], swiftSettings: strict),
        // Follows TCP conversations in decoded packets and explains them; never opens a device.
        // Release builds skip the run-time exclusivity checks here: the tracker updates each
        // connection's state (a class) on every segment, and the checks were 15% of the
        // instructions of `inspector read --summary` (callgrind). Debug builds and tests keep them.
        .target(
            name: "Inspector", dependencies: ["Packets", "Capture"],
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // What every command-line tool shares: exit codes and error printing.
        .target(
            name: "ToolSupport",
            dependencies: [
                "SocketCore",
                "Capture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "echo",
            dependencies: [
                "SocketCore",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "socketcore-bench",
            dependencies: [
                "SocketCore",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // tcpdump's little sibling: list interfaces, capture live, read files, one line a frame.
        .executableTarget(
            name: "capture",
            dependencies: [
                "Capture",
                "Packets",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Follows TCP connections in a capture file; explains them (issue 4 grows it).
        .executableTarget(
            name: "inspector",
            dependencies: [
                "Capture",
                "Inspector",
                "Packets",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // libFuzzer target over the decoder and the whole inspector (`make fuzz`); a plain build
        // replays saved inputs.
        .executableTarget(name: "packets-fuzz", dependencies: ["Packets", "Capture", "Inspector", "TestSupport"], swiftSettings: strict),
        // The labs' engines: ping, the handshake demo, the UDP/TCP comparison, the checks.
        // Linux calls the Glibc module leaves out (setns, for the two-host labs).
        .target(name: "CLinux"),
        .target(name: "LabKit", dependencies: ["SocketCore", "Packets", "Capture", "Inspector", "CLinux"], swiftSettings: strict),
        .executableTarget(
            name: "chat",
            dependencies: ["LabKit", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "labcheck",
            dependencies: ["LabKit", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "udp-vs-tcp",
            dependencies: ["LabKit", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "raw-ping",
            dependencies: ["LabKit", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "handshake-demo",
            dependencies: ["LabKit", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .testTarget(name: "LabKitTests", dependencies: ["LabKit", "Capture", "TestSupport"], swiftSettings: strict),
        // Shared by the test targets: peer threads, running real programs, test data.
        .target(name: "TestSupport", dependencies: ["LabKit"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "SocketCoreTests", dependencies: ["SocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PacketsTests", dependencies: ["Packets", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["Capture", "Packets", "SocketCore", "TestSupport", "Inspector"],
            swiftSettings: strict
        ),
    ]
)
