import LabEngines
import Packets
import Testing

/// VRRP's rules (RFC 5798 §6.4) as the standby machine applies them, with time as a number:
/// each test is one situation of Lab 10 and what the backup or the master must do in it.
@Suite struct StandbyMachineTests {
    typealias Machine = StandbyMachine
    let interval = Duration.milliseconds(100)

    func machine(priority: UInt8, preempt: Bool = true, peerWinsTies: Bool = false) -> Machine {
        Machine(.init(priority: priority, interval: interval, preempt: preempt, peerWinsTies: peerWinsTies))
    }
    func master(_ name: String = "S1", priority: UInt8 = 200, epoch: UInt64 = 1) -> Machine.Heard {
        .init(name: name, state: .master, priority: priority, interval: interval, epoch: epoch)
    }
    func ms(_ value: Int) -> Duration { .milliseconds(value) }
    func transitions(_ actions: [Machine.Action]) -> [Machine.Action] {
        actions.filter { if case .transition = $0 { true } else { false } }
    }

    @Test func everyMachineStartsAsBackup() {
        var m = machine(priority: 100)
        #expect(m.start(at: .zero) == [.transition(from: .initialize, to: .backup, .started)])
        #expect(m.state == .backup)
    }

    @Test func theMasterDownIntervalIsThreeIntervalsPlusTheSkew() {
        let m = machine(priority: 100)
        #expect(m.skew == ms(100) * 156 / 256)
        #expect(m.masterDownInterval == ms(300) + ms(100) * 156 / 256)
        #expect(machine(priority: 200).masterDownInterval < m.masterDownInterval)
    }

    @Test func aBackupTakesOverWhenTheMasterFallsSilentAndNotBefore() {
        var m = machine(priority: 100)
        _ = m.start(at: .zero)
        _ = m.received(master(), at: ms(1000))
        #expect(m.fire(at: ms(1000) + m.masterDownInterval - ms(1)).isEmpty)
        let actions = m.fire(at: ms(1000) + m.masterDownInterval)
        guard case .transition(.backup, .master, .masterDown(let missed, let last, let peer)) = actions.first else {
            Issue.record("no takeover: \(actions)"); return
        }
        #expect(missed == 3 && last == ms(1000) && peer == "S1")
        #expect(actions.contains(.sendHeartbeat(state: .master, priority: 100)))
    }

    @Test func eachHeartbeatRestartsTheBackupsTimerSoTwoMissedAreNotATakeover() {
        var m = machine(priority: 100)
        _ = m.start(at: .zero)
        var now = Duration.zero
        for _ in 0..<50 {
            // Every third heartbeat arrives, two lost in between.
            now += ms(300)
            #expect(m.fire(at: now).isEmpty)
            _ = m.received(master(), at: now)
        }
        #expect(m.state == .backup)
    }

    @Test func aMasterSendsOneHeartbeatEveryIntervalOnItsOwnSchedule() {
        var m = machine(priority: 200)
        _ = m.start(at: .zero)
        _ = m.fire(at: m.masterDownInterval)
        #expect(m.state == .master)
        let start = m.masterDownInterval
        // Woken 30 ms late: the next is still due on the schedule, not 100 ms after the wake-up.
        #expect(m.fire(at: start + ms(130)) == [.sendHeartbeat(state: .master, priority: 200)])
        #expect(m.nextDeadline == start + ms(200))
    }

    @Test func aCleanStopSaysPriorityZeroAndTheBackupWaitsOneSkewOnly() {
        var leaving = machine(priority: 200)
        _ = leaving.start(at: .zero)
        _ = leaving.fire(at: leaving.masterDownInterval)
        let stop = leaving.stop(at: ms(5000))
        #expect(stop.first == .sendHeartbeat(state: .master, priority: 0))
        #expect(stop.last == .transition(from: .master, to: .initialize, .stopping))

        var backup = machine(priority: 100)
        _ = backup.start(at: .zero)
        _ = backup.received(master(), at: ms(4950))
        _ = backup.received(.init(name: "S1", state: .master, priority: 0, interval: interval, epoch: 1), at: ms(5000))
        #expect(backup.fire(at: ms(5000) + backup.skew - ms(1)).isEmpty)
        #expect(transitions(backup.fire(at: ms(5000) + backup.skew)) == [.transition(from: .backup, to: .master, .peerStepped(down: "S1"))])
    }

    @Test func aHigherPriorityBackupPreemptsALowerMaster() {
        var m = machine(priority: 200)
        _ = m.start(at: .zero)
        for step in 1...10 { _ = m.received(master("S2", priority: 100), at: ms(100 * step)) }
        // The lower master's heartbeats do not hold it back: its timer ran from the start.
        let actions = m.fire(at: m.masterDownInterval)
        #expect(transitions(actions) == [.transition(from: .backup, to: .master, .preempted(peer: "S2", peerPriority: 100))])
    }

    @Test func withoutPreemptionAReturningHigherPriorityStaysBackup() {
        var m = machine(priority: 200, preempt: false)
        _ = m.start(at: .zero)
        for step in 1...20 {
            _ = m.received(master("S2", priority: 100), at: ms(100 * step))
            #expect(m.fire(at: ms(100 * step)).isEmpty)
        }
        #expect(m.state == .backup)
    }

    @Test func aMasterYieldsToAHigherPriorityAndToAnEqualOneWithTheHigherAddress() {
        var m = machine(priority: 100)
        _ = m.start(at: .zero)
        _ = m.fire(at: m.masterDownInterval)
        let yielded = m.received(master("S1", priority: 200, epoch: 9), at: ms(2000))
        #expect(yielded.first == .transition(from: .master, to: .backup, .peerHigher(peer: "S1", peerPriority: 200, tie: false)))
        #expect(yielded.contains(.sendHeartbeat(state: .backup, priority: 100)))

        var tie = machine(priority: 100, peerWinsTies: true)
        _ = tie.start(at: .zero)
        _ = tie.fire(at: tie.masterDownInterval)
        #expect(tie.received(master("S1", priority: 100), at: ms(2000)).first == .transition(from: .master, to: .backup, .peerHigher(peer: "S1", peerPriority: 100, tie: true)))
    }

    @Test func splitBrainTheLowerPriorityYieldsAndTheHigherAnnouncesOnce() {
        // S2 took over from S1 (epoch 7), which was only cut off; heartbeats come back.
        var s2 = machine(priority: 100)
        _ = s2.start(at: .zero)
        _ = s2.received(master("S1", priority: 200, epoch: 7), at: ms(100))
        _ = s2.fire(at: ms(100) + s2.masterDownInterval)
        #expect(s2.state == .master)
        let yielded = s2.received(master("S1", priority: 200, epoch: 7), at: ms(3000))
        #expect(yielded.first == .transition(from: .master, to: .backup, .splitBrainYield(peer: "S1", peerPriority: 200)))

        // S1 kept the role all along; S2's queued heartbeats arrive together, then its yield.
        var s1 = machine(priority: 200)
        _ = s1.start(at: .zero)
        _ = s1.fire(at: s1.masterDownInterval)
        let first = s1.received(master("S2", priority: 100), at: ms(3000))
        #expect(first.contains(.splitBrainKept(peer: "S2", peerPriority: 100)))
        #expect(first.contains(.sendHeartbeat(state: .master, priority: 200)))
        #expect(s1.received(master("S2", priority: 100), at: ms(3001)).isEmpty)
        #expect(s1.received(.init(name: "S2", state: .backup, priority: 100, interval: interval, epoch: 1), at: ms(3002)).isEmpty)
        #expect(s1.state == .master)
    }

    @Test func theOldMastersLastHeartbeatCrossingOurFirstIsNoSplitBrain() {
        var m = machine(priority: 200)
        _ = m.start(at: .zero)
        _ = m.fire(at: m.masterDownInterval)
        let crossing = m.received(master("S2", priority: 100), at: m.masterDownInterval + ms(1))
        #expect(!crossing.contains(.splitBrainKept(peer: "S2", peerPriority: 100)))
        #expect(crossing == [.sendHeartbeat(state: .master, priority: 200)])
    }

    @Test func aRestartedPeerThatPreemptsIsNotCalledASplitBrain() {
        var s2 = machine(priority: 100)
        _ = s2.start(at: .zero)
        _ = s2.received(master("S1", priority: 200, epoch: 7), at: ms(100))
        _ = s2.fire(at: ms(100) + s2.masterDownInterval)
        // S1 was killed and restarted: a new epoch.
        #expect(s2.received(master("S1", priority: 200, epoch: 8), at: ms(5000)).first
            == .transition(from: .master, to: .backup, .peerHigher(peer: "S1", peerPriority: 200, tie: false)))
    }
}
