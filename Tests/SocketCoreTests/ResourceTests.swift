import Testing
@testable import SocketCore

/// A socket owns its descriptor: it is closed exactly once, whether by close() or by drop.
@Suite("Descriptor ownership", .serialized)
struct ResourceTests {
    @Test("10,000 open/close cycles leave the descriptor count where it was")
    func noLeak() throws {
        let before = try openDescriptorCount()
        for cycle in 0..<10_000 {
            switch cycle % 4 {
            case 0:
                try Socket.tcp().close()  // closed explicitly
            case 1:
                _ = try Socket.udp(.ipv6)  // dropped: deinit closes it
            case 2:
                let (a, b) = try Socket.pair()
                try a.close()
                _ = b
            default:
                let (listener, address) = try loopbackListener()
                let client = try Socket.connected(to: address)
                let (server, _) = try listener.accept()
                try client.close()
                _ = server
            }
        }
        // Other tests' threads may still be finishing (a process they ran, a file they read)
        // and hold a descriptor for a moment: a leak of ours is one that stays.
        let settled = eventually(timeout: .seconds(5)) { (try? openDescriptorCount()) == before }
        #expect(settled, "\((try? openDescriptorCount()) ?? -1) descriptors open, \(before) before: \(openDescriptorTargets().joined(separator: ", "))")
    }
}
