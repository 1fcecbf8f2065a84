import Testing
import LabHost
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Every named topology, as a lab uses it: it comes up, its hosts reach each other, loss
/// bites where the spec says, and teardown leaves no namespace, interface or nft table.
@Suite("topologies of hosts in network namespaces", .serialized, .enabled(if: canUseNamespaces, "needs root, ip and nft"))
struct TopologyTests {
    /// The namespaces that exist now.
    static func namespaces() -> Set<String> {
        Set(((try? run(["ip", "netns", "list"]).output) ?? "").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    /// One ping from `from` to `to`'s first address; true if it was answered.
    static func pings(_ topology: Topology, from: String, to: String) throws -> Bool {
        let target = try topology.address(of: to)
        return try topology.run(on: from, ["ping", "-c", "1", "-W", "1", "-q", target]).status == 0
    }

    @Test("two hosts: A and B reach each other, and 100% loss stops them", arguments: [NamedTopology.twoHosts])
    func twoHosts(_ name: NamedTopology) throws {
        let topology = try Topology(name.forTest(prefix: "slt"))
        defer { topology.teardown() }
        #expect(try Self.pings(topology, from: "A", to: "B"))
        #expect(try Self.pings(topology, from: "B", to: "A"))
        try topology.setLoss(100)
        #expect(topology.spec.lossPoints.allSatisfy { topology.loss(at: $0) == 100 })
        #expect(try !Self.pings(topology, from: "A", to: "B"), "nothing crosses a link that drops everything")
        try topology.setLoss(0)
        #expect(try Self.pings(topology, from: "A", to: "B"))
    }

    @Test("failover: two servers and a client on one switch all reach each other")
    func failover() throws {
        let topology = try Topology(NamedTopology.failover.forTest(prefix: "slt"))
        defer { topology.teardown() }
        for (from, to) in [("C", "S1"), ("C", "S2"), ("S1", "S2"), ("S2", "C")] {
            #expect(try Self.pings(topology, from: from, to: to), "\(from) → \(to)")
        }
    }

    @Test("router: the client reaches the server through R, and loss on R drops about what it says")
    func router() throws {
        let topology = try Topology(NamedTopology.router.forTest(prefix: "slt"))
        defer { topology.teardown() }
        #expect(try Self.pings(topology, from: "C", to: "S"), "routed through R")
        try topology.setLoss(30)
        #expect(topology.loss(at: .forward(router: "R")) == 30)
        // 400 pings, each crossing R twice: about 49% lost. Bounds four standard deviations
        // wide (σ ≈ 2.5%), so chance alone does not fail this.
        let output = try topology.run(on: "C", ["ping", "-c", "400", "-i", "0.002", "-W", "1", "-q", try topology.address(of: "S")]).output
        let received = Int(output.split(separator: ",").first { $0.contains("received") }?.split(separator: " ").first ?? "") ?? -1
        #expect((164...244).contains(received), "\(output)")
    }

    @Test("teardown leaves no namespace, interface or nft table behind")
    func teardownIsComplete() throws {
        let spec = NamedTopology.router.forTest(prefix: "slt")
        do {
            let topology = try Topology(spec)
            try topology.setLoss(5)
            #expect(Self.namespaces().isSuperset(of: spec.namespaces))
        }  // released here
        #expect(Self.namespaces().isDisjoint(with: spec.namespaces))
        let links = try run(["ip", "-brief", "link"]).output
        for interface in spec.interfaces { #expect(!links.contains(interface.name)) }
    }

    @Test("this machine and one far host: the test keeps its end here, the far end is in a namespace")
    func machineAndHost() throws {
        let topology = try Topology.farHost(prefix: "slth", subnet: 9)
        defer { topology.teardown() }
        #expect(try run(["ping", "-c", "1", "-W", "1", "-q", topology.farAddress]).status == 0)
        #expect(try run(["ip", "-brief", "link"]).output.contains(topology.hereInterface))
        let far = topology.spec.namespaces
        topology.teardown()
        #expect(try !run(["ip", "-brief", "link"]).output.contains(topology.hereInterface), "the veth pair went with the namespace")
        #expect(Self.namespaces().isDisjoint(with: far))
    }

    @Test("a thread inside a host makes its sockets there, and comes back")
    func withinAHost() throws {
        let topology = try Topology(NamedTopology.twoHosts.forTest(prefix: "slt"))
        defer { topology.teardown() }
        let before = try run(["readlink", "/proc/thread-self/ns/net"]).output
        let listing = try topology.within("B") { try ChildProcess.run(["ip", "-brief", "addr"]).output }
        #expect(listing.contains("10.99.0.2"), "ip, started from the thread inside B, sees B's address")
        #expect(try run(["readlink", "/proc/thread-self/ns/net"]).output == before)
    }

    @Test("a rate limit is a token bucket on the sender's interface, and lifting it removes it")
    func rateLimit() throws {
        let topology = try Topology(NamedTopology.router.forTest(prefix: "slt"))
        defer { topology.teardown() }
        let interface = try #require(topology.interfaces(of: "S").first?.name)
        try topology.setRate("10mbit", host: "S", interface: interface)
        let shaped = try topology.run(on: "S", ["tc", "qdisc", "show", "dev", interface]).output
        #expect(shaped.contains("tbf") && shaped.contains("rate 10Mbit"), "\(shaped)")
        #expect(try Self.pings(topology, from: "C", to: "S"), "a rate limit is not a wall")
        try topology.setRate(nil, host: "S", interface: interface)
        #expect(try !topology.run(on: "S", ["tc", "qdisc", "show", "dev", interface]).output.contains("tbf"))
        #expect(throws: HostError.self) { try topology.setRate("10mbit; reboot", host: "S", interface: interface) }
    }

    @Test("a bad loss is refused before anything changes")
    func badLoss() throws {
        let topology = try Topology(NamedTopology.twoHosts.forTest(prefix: "slt"))
        defer { topology.teardown() }
        #expect(throws: HostError.self) { try topology.setLoss(150) }
        #expect(throws: HostError.self) { try topology.setLoss(.nan) }
    }
}
