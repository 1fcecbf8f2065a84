import Foundation
import LabHost
import LabServers
import NetworkAddresses
import Packets
import SocketCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One machine of a hot-standby pair: the I/O around a `StandbyMachine`. One thread, one UDP
/// socket, poll() with the machine's next deadline as the timeout; heartbeats signed and
/// checked with the shared key; the virtual address, the gratuitous ARP and the hooks when the
/// role changes. SIGTERM or SIGINT (through a self-pipe, so that poll wakes at once) stops it
/// cleanly: a master says priority 0 first, so that the backup takes over after one skew.
public final class StandbyNode {
    public let settings: StandbySettings
    private let socket: Socket
    private var machine: StandbyMachine
    public private(set) var counters = StandbyCounters()
    private let emit: (StandbyEvent) -> Void
    private let origin = ContinuousClock.now
    private let originWall = Date().timeIntervalSince1970
    /// This run's epoch (its start, in ms since 1970) and the last sequence number sent.
    private let epoch: UInt64
    private var sequence: UInt64 = 0
    /// The peer's last accepted (epoch, sequence): anything not later is a replay.
    private var lastAccepted: (epoch: UInt64, sequence: UInt64)?
    private var arp: ARPSpeaker?
    /// A second announcement one interval after the first, in case the first was lost.
    private var announceAgainAt: Duration?
    private var masterHook: ChildProcess?
    private var pendingMasterHook: PendingHook?
    private var backupHook: ChildProcess?
    private var lastDropLog: [StandbyEvent.Dropped: Duration] = [:]
    private var lastSendProblem: Duration?

    /// Binds the heartbeat socket and, with a virtual address, checks the link: an address
    /// left on this interface by an earlier run is removed (this node starts as backup), and
    /// one that another host than the peer answers ARP for is refused.
    public init(_ settings: StandbySettings, emit: @escaping (StandbyEvent) -> Void) throws(StandbyProblem) {
        self.settings = settings
        self.emit = emit
        epoch = UInt64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let peerWins: Bool = switch (settings.peer, settings.listen) {
        case (.ipv4(let peer, _), .ipv4(let ours, _)): peer.value > ours.value
        default: settings.peer.host > settings.listen.host
        }
        machine = StandbyMachine(.init(priority: settings.priority, interval: settings.interval, preempt: settings.preempt, peerWinsTies: peerWins))
        do {
            socket = try Socket.udp(settings.listen.family)
            try socket.bind(to: settings.listen)
        } catch {
            throw .failed("cannot listen for heartbeats on \(settings.listen): \(error.description)")
        }
        if let vip = settings.virtualAddress {
            guard geteuid() == 0 else { throw .notPrivileged("a virtual address (ip addr add, a gratuitous ARP)") }
            do { arp = try ARPSpeaker(device: vip.device) } catch { throw .failed("cannot send ARP on \(vip.device): \(error.description)") }
            if vip.isAssignedHere {
                vip.remove()
                emit(StandbyEvent(node: settings.name, kind: .leftoverRemoved(vip.cidr, device: vip.device)))
            }
            try checkAddressIsFree(vip)
        }
    }

    private func checkAddressIsFree(_ vip: VirtualAddress) throws(StandbyProblem) {
        // IPv4 only: asking whether an IPv6 address is taken is duplicate address detection,
        // which the kernel does itself when an address is added without `nodad`.
        guard let arp, case .v4(let v4) = vip.address else { return }
        var asked = [v4]
        if case .ipv4(let peer, _) = settings.peer { asked.append(peer) }
        let answers: [IPv4Address: MACAddress]
        do { answers = try arp.probe(asked, wait: .milliseconds(200)) } catch { throw .failed("ARP probe on \(vip.device): \(error.description)") }
        guard let holder = answers[v4] else { return }
        // The peer holding it is the pair working: it is master.
        if asked.count > 1, answers[asked[1]] == holder { return }
        throw .badOption("\(vip.address) is already in use on \(vip.device): \(holder) answers ARP for it, and that is not the peer \(settings.peer.host). Pick a free virtual address")
    }

    private var now: Duration { ContinuousClock.now - origin }
    private func wallClock(_ offset: Duration) -> Double {
        originWall + Double(offset.components.seconds) + Double(offset.components.attoseconds) / 1e18
    }
    private func event(_ kind: StandbyEvent.Kind) { emit(StandbyEvent(time: wallClock(now), node: settings.name, kind: kind)) }

    /// Runs until SIGTERM or SIGINT (see `stopOnSignals`) or `stop()`.
    public func run() throws(StandbyProblem) {
        event(.started(priority: settings.priority, interval: settings.interval, preempt: settings.preempt,
                       peer: settings.peer.description, listen: settings.listen.description))
        perform(machine.start(at: now))
        var poller = Poller()
        poller.watch(socket, for: .readable)
        let stopDescriptor = stopPipe?.reading.descriptor ?? -1
        if stopDescriptor >= 0 { poller.watch(descriptor: stopDescriptor, for: .readable) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let deadlines = [machine.nextDeadline, announceAgainAt].compactMap { $0 }
            let timeout = deadlines.min().map { max(.zero, $0 - now) }
            let ready: [PollEvent]
            do { ready = try poller.wait(timeout: timeout) } catch { throw .failed("poll(): \(error.description)") }
            if ready.contains(where: { $0.descriptor == stopDescriptor }) { break }
            if ready.contains(where: { $0.descriptor == socket.descriptor }) { drain(&buffer) }
            // Received heartbeats first, timers second: a node thawed after SIGSTOP reads the
            // master's queued heartbeats before it decides the master is dead.
            perform(machine.fire(at: now))
            if let due = announceAgainAt, due <= now {
                announceAgainAt = nil
                if machine.state == .master { announce() }
            }
            reapHooks()
        }
        var stopping = machine.stop(at: now)
        if stopping.first == .sendHeartbeat(state: .master, priority: 0) {
            // Make before break: say priority 0, then keep the address and the service until
            // the backup's first heartbeat as master (one skew later), so that clients are
            // served until the new master is; at most two intervals, if no backup answers.
            perform([stopping.removeFirst()])
            waitForTakeover(within: settings.interval * 2, &buffer)
        }
        perform(stopping)
        masterHook = nil
        backupHook = nil
        event(.stopped(counters))
    }

    /// Waits for the peer's first authenticated heartbeat as master, at most `limit`.
    private func waitForTakeover(within limit: Duration, _ buffer: inout [UInt8]) {
        let deadline = now + limit
        var poller = Poller()
        poller.watch(socket, for: .readable)
        while now < deadline {
            guard let ready = try? poller.wait(timeout: deadline - now), !ready.isEmpty else { continue }
            do {
                if let heartbeat = try receiveHeartbeat(&buffer), heartbeat.state == .master, heartbeat.priority > 0 { return }
            } catch {
                return
            }
        }
    }

    /// Every datagram waiting on the socket, without blocking.
    private func drain(_ buffer: inout [UInt8]) {
        var check = Poller()
        check.watch(socket, for: .readable)
        while let ready = try? check.wait(timeout: .zero), !ready.isEmpty {
            do {
                if let heartbeat = try receiveHeartbeat(&buffer) { perform(machine.received(.init(heartbeat), at: now)) }
            } catch {
                return
            }
        }
    }

    /// One datagram: the heartbeat when it is well formed, signed with our key, from the peer
    /// and later than the last accepted; nil (dropped and counted) otherwise.
    private func receiveHeartbeat(_ buffer: inout [UInt8]) throws(SocketError) -> StandbyHeartbeat? {
        let (size, sender) = try buffer.withMutableBytes { (raw) throws(SocketError) in try socket.receiveFrom(into: raw) }
        let from = sender?.description ?? "?"
        guard size <= buffer.count, let heartbeat = StandbyHeartbeat(decoding: Array(buffer[..<size])) else {
            drop(.malformed, from: from)
            return nil
        }
        guard settings.key.accepts(heartbeat.mac, for: heartbeat.signedBytes) else {
            drop(.forged, from: from)
            return nil
        }
        guard sender?.host == settings.peer.host else {
            drop(.stranger, from: from)
            return nil
        }
        if let last = lastAccepted, !heartbeat.isLater(than: last) {
            drop(.replayed, from: from)
            return nil
        }
        lastAccepted = (heartbeat.epoch, heartbeat.sequence)
        counters.accepted += 1
        return heartbeat
    }

    /// Counts a dropped heartbeat; logs at most one line a second for each reason, so a flood
    /// of forgeries cannot flood the log.
    private func drop(_ why: StandbyEvent.Dropped, from: String) {
        let count: Int
        switch why {
        case .forged: counters.forged += 1; count = counters.forged
        case .replayed: counters.replayed += 1; count = counters.replayed
        case .malformed: counters.malformed += 1; count = counters.malformed
        case .stranger: counters.strangers += 1; count = counters.strangers
        }
        if let last = lastDropLog[why], now - last < .seconds(1) { return }
        lastDropLog[why] = now
        event(.dropped(why, from: from, count: count))
    }

    private func perform(_ actions: [StandbyMachine.Action]) {
        for action in actions {
            switch action {
            case let .sendHeartbeat(state, priority):
                send(state: state, priority: priority)
            case let .transition(from, to, reason):
                counters.transitions += 1
                let heard: Double? = switch reason {
                case .masterDown(_, let lastHeard, _): lastHeard.map(wallClock)
                default: nil
                }
                event(.transition(from: from, to: to, reason, lastHeardAt: heard, ourPriority: settings.priority))
                if from == .master { giveUp(runBackupHook: to == .backup) }
                if to == .master { takeOver() }
                if to == .backup && from == .initialize { startHook(.backup) }
            case let .splitBrainKept(peer, priority):
                event(.splitBrainKept(peer: peer, peerPriority: priority, ourPriority: settings.priority))
                announce()
            }
        }
    }

    private func send(state: StandbyHeartbeat.State, priority: UInt8) {
        sequence += 1
        var heartbeat = StandbyHeartbeat(state: state, priority: priority, intervalMilliseconds: UInt16(clamping: Int((settings.interval / .milliseconds(1)).rounded())),
                                         epoch: epoch, sequence: sequence, name: settings.name)
        heartbeat.mac = settings.key.proof(for: heartbeat.signedBytes)
        do {
            try socket.send(heartbeat.encoded(), to: settings.peer)
            counters.sent += 1
        } catch {
            // A cut link (nftables drops our output: EPERM) or no route: keep going, the
            // peer's own timer decides; say so once a second at most.
            if let last = lastSendProblem, now - last < .seconds(1) { return }
            lastSendProblem = now
            event(.problem("heartbeat to \(settings.peer) not sent: \(error.description)"))
        }
    }

    private func takeOver() {
        // The service starts first, on a thread of its own: fork() of this process takes 1.5
        // to 3 ms, and neither the address nor its announcement should wait for that, nor the
        // service for them (it starts for tens of ms; the address is there long before).
        if let command = settings.onMaster { pendingMasterHook = PendingHook(command: command) }
        if let vip = settings.virtualAddress {
            do {
                try vip.add()
                event(.addressAdded(vip.cidr, device: vip.device))
            } catch {
                event(.problem(error.description))
            }
            announce()
            announceAgainAt = now + settings.interval
        }
    }

    /// The master's hook once its thread has started it; `waiting`: until it has.
    private func collectMasterHook(waiting: Bool) {
        guard let pending = pendingMasterHook, waiting || pending.isDone else { return }
        pendingMasterHook = nil
        let command = settings.onMaster ?? ""
        switch pending.wait() {
        case .success(let child):
            masterHook = child
            event(.hookStarted(role: Role.master.rawValue, command: command, pid: child.pid))
        case .failure(let error):
            event(.problem("on-master `\(command)` did not start: \(error.description)"))
        }
    }

    private func giveUp(runBackupHook: Bool) {
        collectMasterHook(waiting: true)
        if let hook = masterHook {
            hook.stop(grace: .milliseconds(500))
            event(.hookStopped(role: "master", command: settings.onMaster ?? ""))
            masterHook = nil
        }
        announceAgainAt = nil
        if let vip = settings.virtualAddress {
            vip.remove()
            event(.addressRemoved(vip.cidr, device: vip.device))
        }
        if runBackupHook { startHook(.backup) }
    }

    private func announce() {
        guard let vip = settings.virtualAddress, let arp else { return }
        do {
            try arp.announce(vip.address)
            event(.announced(vip.address.description, mac: arp.mac.description))
        } catch {
            event(.problem("gratuitous ARP on \(vip.device): \(error.description)"))
        }
    }

    private enum Role: String { case master, backup }

    /// `--on-master` or `--on-backup`, in a session of its own, its output on our standard
    /// error. A master's hook may be the service itself: it runs until the role is given up,
    /// then its whole process group is stopped.
    private func startHook(_ role: Role) {
        guard let command = role == .master ? settings.onMaster : settings.onBackup else { return }
        do {
            let child = try ChildProcess(shell: command, output: STDERR_FILENO)
            if role == .master { masterHook = child } else { backupHook = child }
            event(.hookStarted(role: role.rawValue, command: command, pid: child.pid))
        } catch {
            event(.problem("on-\(role.rawValue) `\(command)` did not start: \(error.description)"))
        }
    }

    private func reapHooks() {
        collectMasterHook(waiting: false)
        if let hook = backupHook, !hook.isRunning { backupHook = nil }
    }

    /// Makes SIGTERM and SIGINT end `run()` cleanly, at once: the handler writes a byte to a
    /// pipe that the loop's poll() watches (write() is async-signal-safe).
    public static func stopOnSignals() {
        guard let stopPipe else { return }
        stopWriter.store(stopPipe.writing.descriptor, ordering: .releasing)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number) { _ in
                var byte: UInt8 = 1
                _ = write(stopWriter.load(ordering: .acquiring), &byte, 1)
            }
        }
    }
}

/// A hook being started on a thread of its own (see `takeOver`).
private final class PendingHook: @unchecked Sendable {
    // @unchecked: `result` is written once by the starting thread before `done` is
    // signalled, and read only after waiting for that signal.
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<ChildProcess, HostError>?

    init(command: String) {
        Thread.detachNewThread { [self] in
            do throws(HostError) {
                result = .success(try ChildProcess(shell: command, output: STDERR_FILENO))
            } catch {
                result = .failure(error)
            }
            done.signal()
        }
    }

    var isDone: Bool {
        guard done.wait(timeout: .now()) == .success else { return false }
        done.signal()
        return true
    }

    /// Waits until the program is started (milliseconds) and returns it, or why it was not.
    func wait() -> Result<ChildProcess, HostError> {
        done.wait()
        done.signal()
        return result ?? .failure(.badValue("no result"))
    }
}

/// The self-pipe of `stopOnSignals` (nil only when no descriptor was left at start-up; then
/// the signals keep their default action and end the process).
private let stopPipe = try? PipeEnd.makePipe()
private let stopWriter = Atomic<Int32>(-1)
