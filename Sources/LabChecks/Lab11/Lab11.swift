import Foundation
import LabEngines

/// Lab 11, between two processes: the student's own `ipc-compare --json` and
/// `socket-types --json` results are the truth; the answers are checked against them, so
/// every student answers for the machine they measured.
public enum Lab11 {
    public struct Truth: Sendable {
        /// Fastest first by the 1-byte median round trip.
        public var fastestFirst: [String]
        public var latencyP50: [String: Double]
        public var boundariesKept: Set<String>
        public var pipeReads: Int?
        public var udpLargest: Int?
        public var seqpacketKeepsBoundaries: Bool?
        public var seqpacketNeedsConnection: Bool?
        public var rawPrivilege: String?
    }

    struct Problem: LabBadInput {
        let description: String
    }

    public static func truth(ipc: String?, types: String?) throws -> Truth {
        guard let ipc, let types else {
            throw Problem(description: "lab 11 checks your answers against your own measurements: ipc-compare --json > ipc.json, sudo socket-types --json > types.json, then labcheck 11 --results ipc.json --types types.json --answers answers.toml")
        }
        func object(_ path: String, tool: String) throws -> [String: Any] {
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["tool"] as? String == tool else {
                throw Problem(description: "\(path) is not the output of \(tool) --json")
            }
            return object
        }
        let results = try object(ipc, tool: "ipc-compare")
        let probes = try object(types, tool: "socket-types")
        let mechanisms = results["mechanisms"] as? [[String: Any]] ?? []
        var latency: [String: Double] = [:]
        var kept: Set<String> = []
        var pipeReads: Int?
        for m in mechanisms {
            guard let name = m["name"] as? String else { continue }
            if let p50 = (m["latency_us"] as? [String: Any])?["p50"] as? NSNumber { latency[name] = p50.doubleValue }
            if m["boundaries_kept"] as? Bool == true { kept.insert(name) }
            if name == "pipe" { pipeReads = (m["reads_returned"] as? [Any])?.count }
        }
        guard !latency.isEmpty else { throw Problem(description: "\(ipc) has no mechanism with a latency: run ipc-compare --json without --only") }
        let rows = Dictionary((probes["rows"] as? [[String: Any]] ?? []).compactMap { row in (row["id"] as? String).map { ($0, row) } }) { a, _ in a }
        func value(_ row: String, _ cell: String) -> Any? { (rows[row]?[cell] as? [String: Any])?["value"] }
        return Truth(fastestFirst: results["fastest_first"] as? [String] ?? latency.sorted { $0.value < $1.value }.map(\.key),
                     latencyP50: latency, boundariesKept: kept, pipeReads: pipeReads,
                     udpLargest: (value("dgram-udp", "largest_message") as? NSNumber)?.intValue,
                     seqpacketKeepsBoundaries: value("seqpacket", "boundaries_kept") as? Bool,
                     seqpacketNeedsConnection: value("seqpacket", "connection") as? Bool,
                     rawPrivilege: value("raw-icmp", "privilege") as? String)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        // Q1
        let fastest = truth.fastestFirst.first ?? "?"
        if let answer = answers.text("fastest") {
            results.append(answer == fastest ? .pass("Q1 fastest for a 1-byte round trip", answer)
                : .fail("Q1 fastest for a 1-byte round trip", answer, hint: truth.latencyP50[answer].map { "\(answer) took \(format($0)) µs at the median in your run; the table's first row (fastest first) is the one" } ?? "write the mechanism's name as ipc-compare prints it (pipe, socketpair-stream, …)"))
        } else {
            results.append(answers.unanswered("Q1 fastest for a 1-byte round trip", "fastest", expecting: .text))
        }
        // Q2
        if let tcp = truth.latencyP50["tcp4"], let best = truth.latencyP50[fastest], best > 0 {
            let ratio = tcp / best
            if let answer = answers.number("tcp_vs_fastest") {
                let close = abs(answer - ratio) <= ratio * 0.1
                results.append(close ? .pass("Q2 how many times longer over TCP loopback", format(answer))
                    : .fail("Q2 how many times longer over TCP loopback", format(answer), hint: answer < 1 ? "divide tcp4's median by the fastest one's, not the other way round" : "tcp4's 1-byte median divided by \(fastest)'s, from your results (the ×fastest column)"))
            } else {
                results.append(answers.unanswered("Q2 how many times longer over TCP loopback", "tcp_vs_fastest", expecting: .number))
            }
        } else {
            results.append(.skipped("Q2 how many times longer over TCP loopback", "your results have no tcp4 row: run ipc-compare without --only"))
        }
        // Q3
        if let answer = answers.text("boundaries_kept") {
            let named = Set(answer.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            let missing = truth.boundariesKept.subtracting(named), extra = named.subtracting(truth.boundariesKept)
            if missing.isEmpty && extra.isEmpty {
                results.append(.pass("Q3 which kept message boundaries", answer))
            } else {
                var hint: [String] = []
                if !extra.isEmpty { hint.append("\(extra.sorted().joined(separator: ", ")) merged the 20 messages (a byte stream)") }
                if !missing.isEmpty { hint.append("\(missing.sorted().joined(separator: ", ")) also returned one message per read") }
                results.append(.fail("Q3 which kept message boundaries", answer, hint: hint.joined(separator: "; ") + " — the boundaries column"))
            }
        } else {
            results.append(answers.unanswered("Q3 which kept message boundaries", "boundaries_kept", expecting: .text))
        }
        // Q4
        if let reads = truth.pipeReads {
            if let answer = answers.integer("pipe_reads") {
                results.append(answer == Int64(reads) ? .pass("Q4 reads the 20 messages took on the pipe", "\(answer)")
                    : .fail("Q4 reads the 20 messages took on the pipe", "\(answer)", hint: answer == 20 ? "20 would be one read per message: a pipe keeps no boundaries; count the pipe's reads_returned in your JSON" : "the number of entries in the pipe's reads_returned"))
            } else {
                results.append(answers.unanswered("Q4 reads the 20 messages took on the pipe", "pipe_reads", expecting: .wholeNumber))
            }
        }
        // Q5
        if let largest = truth.udpLargest {
            if let answer = answers.integer("udp_largest") {
                results.append(answer == Int64(largest) ? .pass("Q5 largest UDP datagram", "\(answer)")
                    : .fail("Q5 largest UDP datagram", "\(answer)", hint: answer == 65_535 ? "65,535 is the IP datagram's limit: take off the IPv4 header (20) and the UDP header (8)" : answer == 65_536 ? "a UDP datagram cannot carry 64 KiB: the IP length field is 16 bits" : "the dgram-udp row's largest message"))
            } else {
                results.append(answers.unanswered("Q5 largest UDP datagram", "udp_largest", expecting: .wholeNumber))
            }
        }
        // Q6
        for (key, name, truthValue, hint) in [
            ("seqpacket_keeps_boundaries", "Q6 SEQPACKET keeps boundaries", truth.seqpacketKeepsBoundaries, "the seqpacket row's boundaries cell: one read per message, like a datagram"),
            ("seqpacket_needs_connection", "Q6 SEQPACKET needs a connection", truth.seqpacketNeedsConnection, "the seqpacket row's connection cell: a sendto() on a socket that never connected failed, like a stream"),
        ] {
            guard let truthValue else { continue }
            guard case .boolean(let answer)? = answers[key] else {
                results.append(.fail(name, "\(key) is not true or false", hint: "write \(key) = true or \(key) = false, without quotes"))
                continue
            }
            results.append(answer == truthValue ? .pass(name, "\(answer)") : .fail(name, "\(answer)", hint: hint))
        }
        // Q7
        if let privilege = truth.rawPrivilege {
            if let answer = answers.text("raw_privilege") {
                let same = answer.uppercased() == privilege.uppercased()
                results.append(same ? .pass("Q7 what a raw socket needs", answer)
                    : .fail("Q7 what a raw socket needs", answer, hint: answer.lowercased() == "root" ? "root works because it holds a capability; name the capability (man 7 capabilities)" : "the raw-icmp row's privilege cell"))
            } else {
                results.append(answers.unanswered("Q7 what a raw socket needs", "raw_privilege", expecting: .text))
            }
        } else {
            results.append(.skipped("Q7 what a raw socket needs", "your socket-types results did not measure it: run it with sudo"))
        }
        // Q8
        if let answer = answers.text("tcp_extra_work") {
            results.append(answer.lowercased() == "c" ? .pass("Q8 what TCP loopback adds", answer)
                : .fail("Q8 what TCP loopback adds", answer, hint: "both paths make system calls, copy the bytes into the kernel and wake the other process; only one goes through TCP, IP and a network device"))
        } else {
            results.append(answers.unanswered("Q8 what TCP loopback adds", "tcp_extra_work", expecting: .text))
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        var lines = ["fastest = \"\(truth.fastestFirst.first ?? "")\""]
        if let tcp = truth.latencyP50["tcp4"], let best = truth.fastestFirst.first.flatMap({ truth.latencyP50[$0] }), best > 0 {
            lines.append("tcp_vs_fastest = \(format(tcp / best))")
        }
        lines.append("boundaries_kept = \"\(truth.boundariesKept.sorted().joined(separator: ", "))\"")
        if let reads = truth.pipeReads { lines.append("pipe_reads = \(reads)") }
        if let largest = truth.udpLargest { lines.append("udp_largest = \(largest)") }
        if let value = truth.seqpacketKeepsBoundaries { lines.append("seqpacket_keeps_boundaries = \(value)") }
        if let value = truth.seqpacketNeedsConnection { lines.append("seqpacket_needs_connection = \(value)") }
        lines.append(truth.rawPrivilege.map { "raw_privilege = \"\($0)\"" } ?? "# raw_privilege: not measured in these results (socket-types without sudo)")
        lines.append("tcp_extra_work = \"c\"")
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

extension Lab11: Lab {
    public static let number = "11"
    public static let slug = "11-between-two-processes"
    public static let title = "Between two processes"
    public static let topics = "pipes, socketpairs, Unix and loopback sockets measured; the socket types probed"
    public static let checkCommand = "labcheck 11 --results ipc.json --types types.json --answers answers.toml"
    public static var kind: LabKind { .questions }

    public static func run(_ request: LabRequest, say: (String) -> Void) throws -> LabOutcome {
        let truth = try truth(ipc: request.results, types: request.types)
        if request.solution { return .solution(answersFile(for: truth)) }
        guard let text = try? String(contentsOfFile: request.answers, encoding: .utf8) else {
            throw Problem(description: "cannot read the answers file \(request.answers): copy Labs/\(slug)/answers.toml here and fill it in")
        }
        let answers: Answers
        do { answers = try Answers(parsing: text) } catch { throw Problem(description: "\(request.answers): \(error)") }
        return .checked(check(answers, against: truth), capture: nil)
    }
}
