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
        // A leak of ours grows with the cycles: one kind of socket left open would leave 2,500
        // descriptors (or run into EMFILE long before). Other tests' threads may open or close a
        // few while this runs (a process they ran, a server timing out), so the count is read as
        // a bound, not an equality that another suite's timing can break.
        let after = try openDescriptorCount()
        #expect(after - before < 64, "\(after) descriptors open, \(before) before: \(openDescriptorTargets().joined(separator: ", "))")
    }
}
