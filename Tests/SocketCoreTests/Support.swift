import Foundation
@testable import SocketCore
@_exported import TestSupport  // every test file here uses its helpers

/// A listener on 127.0.0.1 (or ::1) with a port the kernel chose.
func loopbackListener(_ family: AddressFamily = .ipv4) throws -> (Socket, SocketAddress) {
    let listener = try Socket.listening(on: .loopback(0, family: family))
    return (listener, try listener.localAddress)
}

/// Open descriptors of this process, from /proc/self/fd.
func openDescriptorCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
}

/// What each open descriptor is (`socket:[1234]`, a path), for a failure message.
func openDescriptorTargets() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return names.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.map { name in
        "\(name)→" + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) ?? "?")
    }
}

