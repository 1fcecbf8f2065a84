#if canImport(Glibc)
import Glibc
#endif

/// The topologies the labs use, by the names the command line takes (`topology up NAME`).
/// Fixed names and addresses, because handouts print them: a student types 10.99.0.2.
public enum NamedTopology: String, CaseIterable, Sendable {
    /// A and B on one cable: the two-machine labs, udp-vs-tcp --two-hosts.
    case twoHosts = "two-hosts"
    /// Two servers and a client on one switch: the hot-standby failover lab.
    case failover
    /// Client – router – server, loss on the router: the proxy and transfer labs.
    case router

    public var spec: Topology.Spec {
        typealias I = Topology.Interface
        switch self {
        case .twoHosts:
            return Topology.Spec(
                name: rawValue, summary: "A (10.99.0.1) and B (10.99.0.2) on one link",
                hosts: [.init(name: "A", namespace: "slab-a"), .init(name: "B", namespace: "slab-b")],
                links: [.veth(I(host: "A", name: "slab-a-eth", address: "10.99.0.1/24"),
                              I(host: "B", name: "slab-b-eth", address: "10.99.0.2/24"))],
                lossPoints: [.input(host: "A", interface: "slab-a-eth"), .input(host: "B", interface: "slab-b-eth")])
        case .failover:
            return Topology.Spec(
                name: rawValue, summary: "servers S1 (10.99.1.1), S2 (10.99.1.2) and client C (10.99.1.10) on one switch",
                hosts: [.init(name: "S1", namespace: "slab-s1"), .init(name: "S2", namespace: "slab-s2"), .init(name: "C", namespace: "slab-c")],
                links: [.bridge(namespace: "slab-switch", [
                    I(host: "S1", name: "slab-s1-eth", address: "10.99.1.1/24"),
                    I(host: "S2", name: "slab-s2-eth", address: "10.99.1.2/24"),
                    I(host: "C", name: "slab-c-eth", address: "10.99.1.10/24"),
                ])],
                lossPoints: [.input(host: "S1", interface: "slab-s1-eth"), .input(host: "S2", interface: "slab-s2-eth"),
                             .input(host: "C", interface: "slab-c-eth")])
        case .router:
            return Topology.Spec(
                name: rawValue, summary: "client C (10.99.2.1) – router R (10.99.2.254, 10.99.3.254) – server S (10.99.3.1), loss on R",
                hosts: [.init(name: "C", namespace: "slab-rc", gateway: "10.99.2.254"),
                        .init(name: "R", namespace: "slab-rr", forwards: true),
                        .init(name: "S", namespace: "slab-rs", gateway: "10.99.3.254")],
                links: [.veth(I(host: "C", name: "slab-c-eth", address: "10.99.2.1/24"), I(host: "R", name: "slab-r-eth0", address: "10.99.2.254/24")),
                        .veth(I(host: "R", name: "slab-r-eth1", address: "10.99.3.254/24"), I(host: "S", name: "slab-s-eth", address: "10.99.3.1/24"))],
                lossPoints: [.forward(router: "R")])
        }
    }

    /// A test's own two hosts: this machine (`here`, its sockets and captures stay in the
    /// test process's namespace) and `far`, a namespace, on a /30 `10.231.SUBNET.0`. Names
    /// carry the pid, so parallel runs do not collide and a dead run's leftovers are known.
    public static func machineAndHost(prefix: String, subnet: Int, segmentationOffload: Bool = true) -> Topology.Spec {
        let tag = String(getpid() % 100_000)
        return Topology.Spec(
            name: "\(prefix) (this machine and one host)", summary: "here 10.231.\(subnet).1, far 10.231.\(subnet).2",
            hosts: [.init(name: "here", namespace: nil), .init(name: "far", namespace: "\(prefix)-\(tag)")],
            links: [.veth(Topology.Interface(host: "here", name: "\(prefix)\(tag)h", address: "10.231.\(subnet).1/30"),
                          Topology.Interface(host: "far", name: "\(prefix)\(tag)p", address: "10.231.\(subnet).2/30"))],
            lossPoints: [.input(host: "far", interface: "\(prefix)\(tag)p")],
            leftoverPrefix: "\(prefix)-", segmentationOffload: segmentationOffload)
    }

    /// A named topology for a test, with the test's pid in every name (`slabt12345-a`), so it
    /// runs beside a student's `topology up` without touching it.
    public func forTest(prefix: String) -> Topology.Spec {
        let tag = String(getpid() % 100_000)
        var spec = self.spec
        func rename(_ namespace: String) -> String { "\(prefix)\(tag)-" + namespace.dropFirst("slab-".count) }
        func renameInterface(_ name: String) -> String { "\(prefix)\(tag)" + name.dropFirst("slab-".count) }
        spec.hosts = spec.hosts.map { var host = $0; host.namespace = host.namespace.map(rename); return host }
        spec.links = spec.links.map { link in
            switch link {
            case .veth(var a, var b):
                a.name = renameInterface(a.name); b.name = renameInterface(b.name)
                return .veth(a, b)
            case .bridge(let namespace, let ends):
                return .bridge(namespace: rename(namespace), ends.map { var end = $0; end.name = renameInterface(end.name); return end })
            }
        }
        spec.lossPoints = spec.lossPoints.map { point in
            if case .input(let host, let interface) = point { return .input(host: host, interface: renameInterface(interface)) }
            return point
        }
        spec.leftoverPrefix = prefix
        return spec
    }
}
