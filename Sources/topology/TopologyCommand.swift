import ArgumentParser
import LabHost
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

/// Hosts on one machine for the labs, in network namespaces; `scripts/twohosts` is its
/// short form for the two-host topology the handouts use.
@main
struct TopologyCommand: ParsableCommand {
    static func main() { runAsSocketLabTool() }

    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Hosts on one machine for the labs: network namespaces, links, loss and rate limits.",
        discussion: """
            Topologies (names, hosts and addresses):
            \(NamedTopology.allCases.map { "  \($0.rawValue): \($0.spec.summary)" }.joined(separator: "\n"))

              sudo topology up two-hosts --loss 5     make it (again, from scratch), 5% loss
              sudo topology exec two-hosts B ss -ltn  run a command on host B
              sudo topology status                    what is up, with each loss point's loss
              sudo topology down                      remove everything

            Nothing leaves this machine: every host, link and bridge is inside a network \
            namespace, and `down` (or a new `up`) deletes them all. Exit codes: 0 success; 1 a \
            step failed; 2 bad usage (an unknown topology or host, a loss out of range); 3 not \
            root.
            """,
        subcommands: [Up.self, Hold.self, Loss.self, Rate.self, Exec.self, Status.self, Down.self])
}

extension NamedTopology: ExpressibleByArgument {}

extension TopologyCommand {
    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a topology (what an earlier run left of it is removed first).")
        @Argument(help: "two-hosts, failover or router.")
        var name: NamedTopology
        @Option(help: "Drop PCT% of the packets at each of its loss points (0 to 100).")
        var loss: Double = 0

        func run() throws {
            let topology = try Topology(name.spec, owned: false)
            try topology.setLoss(loss)
            print("topology: \(name.rawValue) is up: \(name.spec.summary), loss \(format(loss))%")
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a topology that lasts as long as this command: Ctrl-C (or any end of it, even kill -9) removes it.",
            discussion: """
                For a lecture or a script that must not leave namespaces behind. With --prefix the \
                namespaces and interfaces get that prefix and this process's pid instead of \
                slab- (slt12345-a…), so the topology runs beside a student's own.
                """)
        @Argument(help: "two-hosts, failover or router.")
        var name: NamedTopology
        @Option(help: "Drop PCT% of the packets at each of its loss points.")
        var loss: Double = 0
        @Option(help: "A short prefix (at most 4 letters) for private names.")
        var prefix: String?

        func validate() throws {
            if let prefix, prefix.isEmpty || prefix.count > 4 || !prefix.allSatisfy({ $0.isLetter && $0.isASCII }) {
                throw ValidationError("--prefix is 1 to 4 letters (interface names have at most 15 characters)")
            }
        }

        func run() throws {
            var blocked = sigset_t()
            sigemptyset(&blocked)
            for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&blocked, signal) }
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            let spec = prefix.map { name.forTest(prefix: $0) } ?? name.spec
            let topology = try Topology(spec, owned: true)
            try topology.setLoss(loss)
            print("topology: \(name.rawValue) is up until this command ends (\(spec.namespaces.joined(separator: ", ")))")
            flushOutput()
            var received: Int32 = 0
            sigwait(&blocked, &received)
            topology.teardown()
            print("topology: \(name.rawValue) removed")
        }
    }

    struct Loss: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the loss at every loss point of a topology (0: none).")
        @Argument(help: "The topology.")
        var name: NamedTopology
        @Argument(help: "A percentage from 0 to 100.")
        var percent: Double

        func run() throws {
            try up(name).setLoss(percent)
            print("topology: \(name.rawValue) loss \(format(percent))%")
        }
    }

    struct Rate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Limit what one interface sends (tc tbf), or lift the limit with `none`.")
        @Argument(help: "The topology.")
        var name: NamedTopology
        @Argument(help: "The host (A, B, S1, C, R…).")
        var host: String
        @Argument(help: "A tc rate (10mbit, 1gbit) or none.")
        var rate: String
        @Option(help: "The interface (default: the host's first).")
        var interface: String?

        func run() throws {
            let topology = try up(name)
            let host = try topology.host(host).name
            guard let device = interface ?? topology.interfaces(of: host).first?.name else { throw ValidationError("\(host) has no interface") }
            try topology.setRate(rate == "none" ? nil : rate, host: host, interface: device)
            print("topology: \(host)'s \(device) sends at \(rate == "none" ? "full speed" : rate)")
        }
    }

    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a command on one host of a topology.")
        @Argument(help: "The topology.")
        var name: NamedTopology
        @Argument(help: "The host (A, B, S1, C, R…).")
        var host: String
        @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
        var command: [String]

        func run() throws {
            let topology = try up(name)
            guard !command.isEmpty else { throw ValidationError("exec needs a command to run") }
            let arguments = try topology.inside(host, command.first == "--" ? Array(command.dropFirst()) : command)
            // exec: the command takes over this process, its terminal and its exit status.
            guard let path = ChildProcess.locate(arguments[0]) else { throw ValidationError("\(arguments[0]) is not installed") }
            let argv = arguments.map { strdup($0) } + [nil]
            execv(path, argv)
            throw HostError.spawnFailed(program: arguments[0], errno: .current)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which topologies are up, their hosts' addresses and the loss at each loss point.")

        func run() throws {
            for name in NamedTopology.allCases {
                let topology = Topology(existing: name.spec)
                guard topology.isUp else { print("\(name.rawValue): down"); continue }
                print("\(name.rawValue): up")
                for host in name.spec.hosts {
                    let addresses = topology.interfaces(of: host.name).map { "\($0.name) \($0.address)" }.joined(separator: ", ")
                    print("  \(host.name) (\(host.namespace ?? "this machine")): \(addresses)")
                }
                for point in name.spec.lossPoints {
                    let place = switch point {
                    case .input(let host, let interface): "into \(host) on \(interface)"
                    case .forward(let router): "through \(router)"
                    }
                    print("  loss \(format(topology.loss(at: point)))% \(place)")
                }
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a topology (all of them without a name): its namespaces, links and rules.")
        @Argument(help: "The topology (default: every one).")
        var name: NamedTopology?

        func run() throws {
            guard geteuid() == 0 else { throw HostError.notPrivileged(what: "topology down") }
            for name in name.map({ [$0] }) ?? NamedTopology.allCases {
                Topology(existing: name.spec).teardown()
            }
            print("topology: removed \(name?.rawValue ?? "every topology")")
        }
    }
}

/// The topology, which must be up.
func up(_ name: NamedTopology) throws -> Topology {
    guard geteuid() == 0 else { throw HostError.notPrivileged(what: "the \(name.rawValue) topology") }
    let topology = Topology(existing: name.spec)
    guard topology.isUp else { throw HostError.notUp(topology: name.rawValue) }
    return topology
}

/// 5, 2.5, 0.25: a percentage as a person writes it.
func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String((value * 100).rounded() / 100)
}
