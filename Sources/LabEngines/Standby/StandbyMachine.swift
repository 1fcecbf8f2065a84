import Packets

/// The decisions of one machine of a hot-standby pair, in VRRP's terms (RFC 5798 §6.4): INIT,
/// BACKUP, MASTER, and the timers that move between them. Pure: time comes in as an argument
/// (a monotonic offset) and what to do goes out as actions, so that every rule is tested
/// without a socket or a clock, and the node that runs it only does I/O.
///
/// The timing is VRRP's:
///   Skew_Time            = (256 − Priority) × Master_Adver_Interval / 256
///   Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time
/// A backup that hears nothing from the master for Master_Down_Interval takes over; the skew
/// makes the higher priority's timer run out first, so two backups never tie. A master that
/// stops cleanly sends priority 0, and a backup then waits one Skew_Time only.
public struct StandbyMachine: Sendable {
    public typealias State = StandbyHeartbeat.State

    public struct Configuration: Sendable {
        public var priority: UInt8
        public var interval: Duration
        /// A backup with a higher priority than the master's takes the role back (VRRP's
        /// Preempt_Mode, on by default as in VRRP and keepalived).
        public var preempt: Bool
        /// Equal priorities: the higher IP address wins (RFC 5798 §6.4.3). True when the
        /// peer's address is the higher one.
        public var peerWinsTies: Bool

        public init(priority: UInt8, interval: Duration, preempt: Bool = true, peerWinsTies: Bool = false) {
            self.priority = priority
            self.interval = interval
            self.preempt = preempt
            self.peerWinsTies = peerWinsTies
        }
    }

    /// What a heartbeat told us, after its HMAC and sequence were checked.
    public struct Heard: Sendable, Equatable {
        public var name: String
        public var state: State
        public var priority: UInt8
        public var interval: Duration
        public var epoch: UInt64

        public init(name: String, state: State, priority: UInt8, interval: Duration, epoch: UInt64) {
            self.name = name
            self.state = state
            self.priority = priority
            self.interval = interval
            self.epoch = epoch
        }

        public init(_ heartbeat: StandbyHeartbeat) {
            self.init(name: heartbeat.name, state: heartbeat.state, priority: heartbeat.priority,
                      interval: .milliseconds(Int(heartbeat.intervalMilliseconds)), epoch: heartbeat.epoch)
        }
    }

    /// Why a transition happened: facts with numbers; the event log puts them into words.
    public enum Reason: Sendable, Equatable {
        /// INIT → BACKUP: every machine starts as backup and listens first.
        case started
        /// BACKUP → MASTER: nothing from the master for Master_Down_Interval. `lastHeard`: when
        /// its last heartbeat came (nil: never heard); `missed`: heartbeats that interval held.
        case masterDown(missed: Int, lastHeard: Duration?, peer: String?)
        /// BACKUP → MASTER one Skew_Time after the master said priority 0.
        case peerStepped(down: String)
        /// BACKUP → MASTER after preempting: the master's priority is lower than ours.
        case preempted(peer: String, peerPriority: UInt8)
        /// MASTER → BACKUP: a master with a higher priority (or the same and a higher address).
        case peerHigher(peer: String, peerPriority: UInt8, tie: Bool)
        /// MASTER → BACKUP: both were master (the link was cut, or one was frozen) and
        /// heartbeats came back; the lower priority yields at once.
        case splitBrainYield(peer: String, peerPriority: UInt8)
        /// MASTER → INIT: told to stop; the last heartbeat said priority 0.
        case stopping
    }

    public enum Action: Sendable, Equatable {
        /// Send a heartbeat now with this state and priority.
        case sendHeartbeat(state: State, priority: UInt8)
        case transition(from: State, to: State, Reason)
        /// Both were master and we keep the role: announce the address again, so that hosts
        /// whose cache follows the other machine come back (a gratuitous ARP).
        case splitBrainKept(peer: String, peerPriority: UInt8)
    }

    public let configuration: Configuration
    public private(set) var state: State = .initialize
    /// When the current state began.
    public private(set) var since: Duration = .zero
    /// The master's interval as its heartbeats say (ours until one is heard).
    public private(set) var masterInterval: Duration
    private var masterDownAt: Duration?
    private var nextHeartbeatAt: Duration?
    /// Why the master-down timer runs: set by the master's priority 0, or by preemption.
    private var downCause: DownCause = .silence
    private enum DownCause: Sendable { case silence, steppedDown(String), preempting(String, UInt8) }
    /// The last heartbeat a backup accepted from a master, to explain a takeover.
    public private(set) var lastHeard: (time: Duration, name: String, epoch: UInt64)?
    /// The epoch of the master we took over from, to tell a split brain (same epoch: it never
    /// stopped) from a restarted peer preempting (a new epoch).
    private var replacedEpoch: UInt64?
    private var splitBrainReportedAt: Duration?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        masterInterval = configuration.interval
    }

    /// (256 − Priority) × Master_Adver_Interval / 256.
    public var skew: Duration { masterInterval * (256 - Int(configuration.priority)) / 256 }
    /// 3 × Master_Adver_Interval + Skew_Time.
    public var masterDownInterval: Duration { masterInterval * 3 + skew }

    /// The earliest timer: when `fire(at:)` has something to do.
    public var nextDeadline: Duration? {
        [masterDownAt, nextHeartbeatAt].compactMap { $0 }.min()
    }

    /// INIT → BACKUP, listening for a master.
    public mutating func start(at now: Duration) -> [Action] {
        guard state == .initialize else { return [] }
        return becomeBackup(at: now, masterDownIn: masterDownInterval, .started)
    }

    /// The timers: a master's next heartbeat, a backup's master-down.
    public mutating func fire(at now: Duration) -> [Action] {
        var actions: [Action] = []
        if state == .master, let due = nextHeartbeatAt, due <= now {
            actions.append(.sendHeartbeat(state: .master, priority: configuration.priority))
            // The next one an interval after this one was due, not after now: a late wake-up
            // does not stretch every later interval.
            var next = due + configuration.interval
            if next <= now { next = now + configuration.interval }
            nextHeartbeatAt = next
        }
        if state == .backup, let due = masterDownAt, due <= now {
            let reason: Reason
            switch downCause {
            case .silence:
                let missed = lastHeard.map { Int(((now - $0.time) / masterInterval).rounded(.down)) } ?? 3
                reason = .masterDown(missed: max(missed, 3), lastHeard: lastHeard?.time, peer: lastHeard?.name)
            case .steppedDown(let peer): reason = .peerStepped(down: peer)
            case .preempting(let peer, let priority): reason = .preempted(peer: peer, peerPriority: priority)
            }
            replacedEpoch = lastHeard?.epoch
            actions += becomeMaster(at: now, reason)
        }
        return actions
    }

    /// A heartbeat from the peer, already authenticated and not a replay.
    public mutating func received(_ heard: Heard, at now: Duration) -> [Action] {
        guard heard.state != .initialize || heard.priority == 0 else { return [] }
        let ours = configuration.priority
        let peerWins = heard.priority > ours || (heard.priority == ours && configuration.peerWinsTies)
        switch state {
        case .initialize:
            return []
        case .backup:
            // A peer's BACKUP heartbeat (sent once, when it yields) says nothing to a backup.
            if heard.state == .backup { return [] }
            if heard.priority == 0 {
                masterDownAt = now + skew
                downCause = .steppedDown(heard.name)
                return []
            }
            if !configuration.preempt || peerWins {
                masterInterval = heard.interval
                masterDownAt = now + masterDownInterval
                downCause = .silence
                lastHeard = (now, heard.name, heard.epoch)
            } else if case .silence = downCause {
                // Preempt_Mode and a lower priority: discard, so the timer runs out (RFC 5798
                // §6.4.2), and say why when it does.
                downCause = .preempting(heard.name, heard.priority)
            }
            return []
        case .master:
            if heard.priority == 0 {
                // The other master is leaving: make sure every host hears from us now.
                nextHeartbeatAt = now
                return fire(at: now)
            }
            if heard.state == .backup {
                // The peer yielded to us. If it had been master a while beside us (a split
                // brain), hosts may still send to it: announce the address again.
                guard now - since > configuration.interval else { return [] }
                return reportSplitBrain(heard, at: now)
            }
            if peerWins {
                // Its epoch is the one we replaced: it never stopped, both were master.
                let reason: Reason = replacedEpoch == heard.epoch
                    ? .splitBrainYield(peer: heard.name, peerPriority: heard.priority)
                    : .peerHigher(peer: heard.name, peerPriority: heard.priority, tie: heard.priority == ours)
                masterInterval = heard.interval
                lastHeard = (now, heard.name, heard.epoch)
                // One heartbeat as BACKUP tells the winner we yielded: after a split brain
                // (which it may not have noticed: our heartbeats were lost) it announces the
                // address again, so hosts that followed us go back to it.
                return becomeBackup(at: now, masterDownIn: masterDownInterval, reason) + [.sendHeartbeat(state: .backup, priority: ours)]
            }
            // A lower master. Just after we took over, that is the old master's heartbeat
            // crossing our first one; later, both were master: answer at once, so that it
            // yields, and announce the address again.
            guard now - since > configuration.interval else {
                nextHeartbeatAt = now
                return fire(at: now)
            }
            return reportSplitBrain(heard, at: now)
        }
    }

    /// Both were master, and we keep the role: answer at once so the peer yields, and
    /// announce the address again. A thawed or reconnected peer's queued heartbeats arrive
    /// together, and its yield follows: one answer and one report for them all.
    private mutating func reportSplitBrain(_ heard: Heard, at now: Duration) -> [Action] {
        if let reported = splitBrainReportedAt, now - reported < masterDownInterval { return [] }
        splitBrainReportedAt = now
        nextHeartbeatAt = now
        return fire(at: now) + [.splitBrainKept(peer: heard.name, peerPriority: heard.priority)]
    }

    /// Stops: a master says priority 0 so that the backup takes over after one skew.
    public mutating func stop(at now: Duration) -> [Action] {
        let previous = state
        state = .initialize
        since = now
        masterDownAt = nil
        nextHeartbeatAt = nil
        guard previous != .initialize else { return [] }
        var actions: [Action] = []
        if previous == .master { actions.append(.sendHeartbeat(state: .master, priority: 0)) }
        actions.append(.transition(from: previous, to: .initialize, .stopping))
        return actions
    }

    private mutating func becomeBackup(at now: Duration, masterDownIn wait: Duration, _ reason: Reason) -> [Action] {
        let previous = state
        state = .backup
        since = now
        nextHeartbeatAt = nil
        masterDownAt = now + wait
        downCause = .silence
        return [.transition(from: previous, to: .backup, reason)]
    }

    private mutating func becomeMaster(at now: Duration, _ reason: Reason) -> [Action] {
        let previous = state
        state = .master
        since = now
        masterDownAt = nil
        masterInterval = configuration.interval
        nextHeartbeatAt = now + configuration.interval
        return [.transition(from: previous, to: .master, reason), .sendHeartbeat(state: .master, priority: configuration.priority)]
    }
}
