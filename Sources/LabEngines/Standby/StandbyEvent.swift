import Foundation
import Packets
import TextOutput

/// One thing that happened to a standby node, with its wall-clock time: the log a student
/// reads ("12:00:01.661 S2 BACKUP → MASTER: 3 heartbeats missed since 12:00:01.300") and, with
/// `--json`, one object per line that labcheck 10 and the tests read back. The facts are in
/// `kind`; the words are made here, once, for both.
public struct StandbyEvent: Sendable {
    public enum Dropped: String, Sendable {
        /// The HMAC did not match: not signed with our key.
        case forged
        /// Signed, but not later than the last accepted (epoch, sequence): a recording.
        case replayed
        /// Not a heartbeat at all, or cut.
        case malformed
        /// Signed and new, but from an address that is not the peer's.
        case stranger
    }

    public enum Kind: Sendable {
        case started(priority: UInt8, interval: Duration, preempt: Bool, peer: String, listen: String)
        /// `lastHeardAt`: the wall-clock time of the master's last heartbeat, when the reason has one.
        case transition(from: StandbyHeartbeat.State, to: StandbyHeartbeat.State, StandbyMachine.Reason, lastHeardAt: Double?, ourPriority: UInt8)
        case splitBrainKept(peer: String, peerPriority: UInt8, ourPriority: UInt8)
        case dropped(Dropped, from: String, count: Int)
        case addressAdded(String, device: String)
        case addressRemoved(String, device: String)
        case leftoverRemoved(String, device: String)
        case announced(String, mac: String)
        case hookStarted(role: String, command: String, pid: Int32)
        case hookStopped(role: String, command: String)
        case problem(String)
        case stopped(StandbyCounters)
    }

    public var time: Double
    public var node: String
    public var kind: Kind

    public init(time: Double = Date().timeIntervalSince1970, node: String, kind: Kind) {
        self.time = time
        self.node = node
        self.kind = kind
    }

    /// "12:00:01.300", in UTC: the labs compare it with capture times tshark prints in UTC.
    public static func clock(_ time: Double) -> String {
        let whole = Int(time.rounded(.down))
        let millis = min(999, Int(((time - Double(whole)) * 1000).rounded(.down)))
        let daySeconds = ((whole % 86_400) + 86_400) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(two(daySeconds / 3600)):\(two(daySeconds / 60 % 60)):\(two(daySeconds % 60)).\(ms)"
    }

    static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return ms == ms.rounded() ? "\(Int(ms)) ms" : String(format: "%.1f ms", ms)
    }

    /// The reason in a sentence.
    static func because(_ reason: StandbyMachine.Reason, lastHeardAt: Double?, ourPriority: UInt8) -> String {
        switch reason {
        case .started:
            return "every machine starts as backup and listens for a master first"
        case .masterDown(let missed, _, let peer):
            let since = lastHeardAt.map { " since \(clock($0))" } ?? ""
            let who = peer.map { " from \($0)" } ?? ""
            return lastHeardAt == nil ? "no heartbeat from a master for the master down interval (3 × interval + skew)"
                : "\(missed) heartbeats missed\(who)\(since)"
        case .peerStepped(let peer):
            return "\(peer) stopped and said priority 0: taking over after one skew time"
        case .preempted(let peer, let priority):
            return "preempting: \(peer) is master with priority \(priority) < \(ourPriority)"
        case .peerHigher(let peer, let priority, let tie):
            return tie ? "\(peer) has the same priority \(priority) and the higher address" : "peer \(peer) priority \(priority) > \(ourPriority)"
        case .splitBrainYield(let peer, let priority):
            return "split brain: \(peer) was master too all along (priority \(priority) > \(ourPriority)); the lower priority yields"
        case .stopping:
            return "told to stop (the last heartbeat said priority 0)"
        }
    }

    /// One line for people.
    public var text: String {
        let head = "\(Self.clock(time)) \(node)"
        switch kind {
        case let .started(priority, interval, preempt, peer, listen):
            return "\(head) started: priority \(priority), interval \(Self.milliseconds(interval)), \(preempt ? "preempt" : "no preempt"), listening on \(listen), peer \(peer)"
        case let .transition(from, to, reason, lastHeardAt, ours):
            return "\(head) \(from) → \(to): \(Self.because(reason, lastHeardAt: lastHeardAt, ourPriority: ours))"
        case let .splitBrainKept(peer, priority, ours):
            return "\(head) split brain: \(peer) is master too (priority \(priority) < \(ours)): it yields; announcing the address again"
        case let .dropped(why, from, count):
            return "\(head) dropped a \(why.rawValue) heartbeat from \(from) (\(count) so far)"
        case let .addressAdded(address, device):
            return "\(head) added \(address) to \(device)"
        case let .addressRemoved(address, device):
            return "\(head) removed \(address) from \(device)"
        case let .leftoverRemoved(address, device):
            return "\(head) \(address) was still on \(device) from an earlier run: removed (this machine starts as backup)"
        case let .announced(address, mac):
            return address.contains(":") ? "\(head) unsolicited neighbour advertisement: \(address) is at \(mac)"
                : "\(head) gratuitous ARP: \(address) is at \(mac)"
        case let .hookStarted(role, command, pid):
            return "\(head) on-\(role): started `\(command)` (pid \(pid))"
        case let .hookStopped(role, command):
            return "\(head) on-\(role): stopped `\(command)`"
        case .problem(let message):
            return "\(head) problem: \(message)"
        case .stopped(let counters):
            return "\(head) stopped: \(counters.text)"
        }
    }

    /// One JSON object (one line): `kind` first, then `time` (seconds since 1970) and `node`.
    public var json: JSON {
        var fields: [(String, JSON)] = []
        func add(_ key: String, _ value: JSON) { fields.append((key, value)) }
        let name: String
        switch kind {
        case let .started(priority, interval, preempt, peer, listen):
            name = "started"
            add("priority", .integer(Int(priority)))
            add("interval_ms", .decimal(Double(interval.components.seconds) * 1000 + Double(interval.components.attoseconds) / 1e15, places: 3))
            add("preempt", .bool(preempt))
            add("peer", .string(peer))
            add("listen", .string(listen))
        case let .transition(from, to, reason, lastHeardAt, ours):
            name = "transition"
            add("from", .string(from.description))
            add("to", .string(to.description))
            add("reason", .string(Self.reasonName(reason)))
            if case .masterDown(let missed, _, _) = reason { add("missed", .integer(missed)) }
            add("last_heard", .optional(lastHeardAt, places: 6))
            add("text", .string(Self.because(reason, lastHeardAt: lastHeardAt, ourPriority: ours)))
        case let .splitBrainKept(peer, priority, _):
            name = "split_brain"
            add("peer", .string(peer))
            add("peer_priority", .integer(Int(priority)))
        case let .dropped(why, from, count):
            name = "dropped"
            add("why", .string(why.rawValue))
            add("from", .string(from))
            add("count", .integer(count))
        case let .addressAdded(address, device), let .addressRemoved(address, device), let .leftoverRemoved(address, device):
            if case .addressAdded = kind { name = "address_added" } else if case .addressRemoved = kind { name = "address_removed" } else { name = "leftover_removed" }
            add("address", .string(address))
            add("device", .string(device))
        case let .announced(address, mac):
            name = address.contains(":") ? "neighbor_advertisement" : "gratuitous_arp"
            add("address", .string(address))
            add("mac", .string(mac))
        case let .hookStarted(role, command, pid):
            name = "hook_started"
            add("role", .string(role))
            add("command", .string(command))
            add("pid", .integer(Int(pid)))
        case let .hookStopped(role, command):
            name = "hook_stopped"
            add("role", .string(role))
            add("command", .string(command))
        case .problem(let message):
            name = "problem"
            add("message", .string(message))
        case .stopped(let counters):
            name = "stopped"
            fields += counters.jsonFields
        }
        return .object([("kind", .string(name)), ("time", .decimal(time, places: 6)), ("node", .string(node))] + fields)
    }

    static func reasonName(_ reason: StandbyMachine.Reason) -> String {
        switch reason {
        case .started: "started"
        case .masterDown: "master_down"
        case .peerStepped: "peer_stepped_down"
        case .preempted: "preempted"
        case .peerHigher: "peer_higher"
        case .splitBrainYield: "split_brain"
        case .stopping: "stopping"
        }
    }
}

/// What a node counted over its run: every heartbeat in and out, and every one dropped.
public struct StandbyCounters: Sendable, Equatable {
    public var sent = 0
    public var accepted = 0
    public var forged = 0
    public var replayed = 0
    public var malformed = 0
    public var strangers = 0
    public var transitions = 0

    public init() {}

    public var text: String {
        "\(sent) heartbeats sent, \(accepted) accepted, dropped: \(forged) forged, \(replayed) replayed, \(malformed) malformed, \(strangers) from strangers; \(transitions) transitions"
    }

    var jsonFields: [(String, JSON)] {
        [("sent", .integer(sent)), ("accepted", .integer(accepted)), ("forged", .integer(forged)), ("replayed", .integer(replayed)),
         ("malformed", .integer(malformed)), ("strangers", .integer(strangers)), ("transitions", .integer(transitions))]
    }
}
