// swift-tools-version:6.0
// SocketLab: a networking teaching lab and protocol inspector.
// One target per layer (see Docs/architecture in ../shared/DESIGN.md):
//   CPcap → (Capture) ; SocketCore ; executables stay thin.
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
        .executable(name: "echo", targets: ["echo"]),
        .executable(name: "socketcore-bench", targets: ["socketcore-bench"]),
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
        // Typed BSD sockets: every call maps to one syscall, every error names it.
        .target(name: "SocketCore", swiftSettings: strict),
        // What every command-line tool shares: exit codes and error printing.
        .target(
            name: "ToolSupport",
            dependencies: [
                "SocketCore",
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
        .testTarget(name: "SocketCoreTests", dependencies: ["SocketCore"], swiftSettings: strict),
    ]
)
