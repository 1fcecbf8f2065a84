import Foundation
import LabEngines
import Packets
import TextOutput

/// Lab 10, who serves now: a hot-standby pair broken on purpose. From the student's capture on
/// S2's interface (heartbeats both ways, every gratuitous ARP) and the client's log: the
/// interval and priorities, who was master first, how long the takeover after a kill took
/// against 3 × interval + skew, how much faster a clean stop is, what the client saw, what the
/// gratuitous ARP announced, and who yielded after the split brain.
public enum Lab10 {
    public struct Truth: Sendable {
        public var timeline: FailoverTimeline
        public var intervalMilliseconds: Int
        public var priorities: [String: UInt8]
        public var firstMaster: String
        public var failure: FailoverTimeline.Takeover
        public var cleanStop: FailoverTimeline.Takeover?
        public var longestOutageMilliseconds: Double?
        public var announced: String
        public var yielder: String?
    }

    struct Problem: LabBadInput {
        let description: String
    }

    public static func truth(capture path: String, clientLog: String?) throws -> Truth {
        let timeline = try FailoverTimeline(capture: path)
        guard let interval = timeline.advertisedIntervalMilliseconds, let first = timeline.firstMaster else {
            throw Problem(description: "\(path) holds no heartbeat and gratuitous ARP of the pair: capture on S2's interface while both run (see the handout's step 3)")
        }
        guard let failure = timeline.takeovers.first(where: { $0.kind == .failure && $0.measuredMilliseconds != nil }) else {
            throw Problem(description: "\(path) shows no takeover after the master fell silent: kill the master while the capture runs (step 5)")
        }
        var outage: Double?
        if let clientLog {
            guard let text = try? String(contentsOfFile: clientLog, encoding: .utf8) else {
                throw Problem(description: "cannot read the client's log \(clientLog) (standby probe --json > client.jsonl)")
            }
            for line in text.split(separator: "\n") where line.hasPrefix("{\"kind\":\"outage\"") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let ms = (object["ms"] as? NSNumber)?.doubleValue {
                    outage = max(outage ?? 0, ms)
                }
            }
        }
        return Truth(timeline: timeline, intervalMilliseconds: Int(interval.rounded()), priorities: timeline.priorities,
                     firstMaster: first, failure: failure, cleanStop: timeline.takeovers.first { $0.kind == .cleanStop },
                     longestOutageMilliseconds: outage, announced: "\(failure.announcement.address)",
                     yielder: timeline.splitBrains.first?.yielded)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func number(_ q: String, _ key: String, _ expected: Double, within tolerance: Double, hint: (Double) -> String) {
            guard let answer = answers.number(key) else { return results.append(answers.unanswered(q, key, expecting: .number)) }
            results.append(abs(answer - expected) <= tolerance ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        func text(_ q: String, _ key: String, _ expected: String, hint: String) {
            guard let answer = answers.text(key) else { return results.append(answers.unanswered(q, key, expecting: .text)) }
            results.append(answer.lowercased() == expected.lowercased() ? .pass(q, answer) : .fail(q, answer, hint: hint))
        }
        number("Q1 heartbeat interval (ms)", "interval_ms", Double(truth.intervalMilliseconds), within: 0.5) { _ in
            "read the interval field of a heartbeat (bytes 8–9 of the UDP payload), or the time between two of the master's heartbeats"
        }
        for name in truth.priorities.keys.sorted() {
            number("Q2 \(name)'s priority", "priority_\(name.lowercased())", Double(truth.priorities[name] ?? 0), within: 0) { _ in
                "byte 6 of \(name)'s heartbeats (the UDP payload, counting from 0) is its priority"
            }
        }
        text("Q3 master when the capture starts", "first_master", truth.firstMaster,
             hint: "only the master sends heartbeats: whose name is in the first ones?")
        if let measured = truth.failure.measuredMilliseconds {
            number("Q4 takeover after the kill (ms)", "kill_takeover_ms", measured, within: max(2, measured * 0.01)) { _ in
                "from the old master's last heartbeat (frame \(truth.failure.lastAdvert?.frame ?? 0)) to the new master's first gratuitous ARP (frame \(truth.failure.announcement.frame)): subtract their times"
            }
        }
        if let predicted = truth.failure.predictedMilliseconds {
            number("Q5 what VRRP's timing predicts (ms)", "kill_predicted_ms", predicted, within: 1) { answer in
                abs(answer - 3 * Double(truth.intervalMilliseconds)) < 1
                    ? "3 × interval is the missed heartbeats; add the skew, (256 − priority of the new master) × interval / 256"
                    : "3 × interval + (256 − \(truth.failure.newPriority ?? 0)) × interval / 256, with the new master's priority"
            }
        }
        if let clean = truth.cleanStop, let measured = clean.measuredMilliseconds {
            number("Q6 takeover after the clean stop (ms)", "clean_takeover_ms", measured, within: max(2, measured * 0.02)) { _ in
                "from the heartbeat that says priority 0 (frame \(clean.lastAdvert?.frame ?? 0)) to the next gratuitous ARP (frame \(clean.announcement.frame))"
            }
        }
        if let outage = truth.longestOutageMilliseconds {
            number("Q7 longest outage the client saw (ms)", "outage_ms", outage, within: max(1, outage * 0.01)) { _ in
                "in client.jsonl, the \"outage\" lines: from the last answer before the failures to the first after; take the longest"
            }
        }
        text("Q8 the address the gratuitous ARP announces", "arp_address", truth.announced,
             hint: "a gratuitous ARP names the same address as sender and target (arp.src.proto_ipv4): the virtual address the clients use")
        if let yielder = truth.yielder {
            text("Q9 who yielded after the split brain", "split_brain_yielder", yielder,
                 hint: "after the thaw both sent heartbeats as master; VRRP makes the lower priority give way")
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        var lines = ["interval_ms = \(truth.intervalMilliseconds)"]
        for name in truth.priorities.keys.sorted() { lines.append("priority_\(name.lowercased()) = \(truth.priorities[name] ?? 0)") }
        lines.append("first_master = \"\(truth.firstMaster)\"")
        if let measured = truth.failure.measuredMilliseconds { lines.append("kill_takeover_ms = \(JSON.fixed(measured, places: 1))") }
        if let predicted = truth.failure.predictedMilliseconds { lines.append("kill_predicted_ms = \(JSON.fixed(predicted, places: 1))") }
        if let measured = truth.cleanStop?.measuredMilliseconds { lines.append("clean_takeover_ms = \(JSON.fixed(measured, places: 1))") }
        if let outage = truth.longestOutageMilliseconds { lines.append("outage_ms = \(JSON.fixed(outage, places: 1))") }
        lines.append("arp_address = \"\(truth.announced)\"")
        if let yielder = truth.yielder { lines.append("split_brain_yielder = \"\(yielder)\"") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The client's log beside a capture labcheck made: `labcheck-10.pcap` → `labcheck-10-client.jsonl`.
    static func clientLog(beside capture: String) -> String {
        (capture.hasSuffix(".pcap") ? String(capture.dropLast(5)) : capture) + "-client.jsonl"
    }

    /// `labcheck 10` without `--capture`: the whole lab on a topology of its own (kill, clean
    /// stop, freeze and thaw), with the standby program built beside labcheck.
    public static func makeCapture(to path: String) throws -> String {
        let folder = NSTemporaryDirectory() + "labcheck-10-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        var options = FailoverScenario.Options(standby: here + "/standby", capture: path, clientLog: clientLog(beside: path), folder: folder)
        options.prefix = "slck"
        let scenario = try FailoverScenario(options)
        _ = try scenario.run()
        return path
    }
}

extension Lab10: QuestionLab {
    public static let number = "10"
    public static let slug = "10-who-serves-now"
    public static let title = "Who serves now?"
    public static let topics = "hot standby by heartbeat: VRRP's timing, gratuitous ARP, clean stops, split brain"
    public static let checkCommand = "labcheck 10 --capture lab10.pcap --results client.jsonl --answers answers.toml"

    public static func truth(from path: String, request: LabRequest) throws -> Truth {
        let beside = clientLog(beside: path)
        return try truth(capture: path, clientLog: request.results ?? (FileManager.default.fileExists(atPath: beside) ? beside : nil))
    }
}
