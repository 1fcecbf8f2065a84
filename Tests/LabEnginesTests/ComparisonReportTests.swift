import Testing
@testable import LabEngines

/// udp-vs-tcp's table and its sentences follow the numbers measured (issue 21).
@Suite struct ComparisonReportTests {
    static func result(tcpWire: Int, udpWire: Int) -> UDPvsTCP.Result {
        var r = UDPvsTCP.Result(setting: "loopback (127.0.0.1)")
        r.tcp.sizesSent = [10, 200, 1400, 3000, 50, 8000, 1, 700, 20000, 100] * 2
        r.udp.sizesSent = r.tcp.sizesSent
        r.tcp.receiveSizes = [r.tcp.sizesSent.reduce(0, +)]
        r.udp.receiveSizes = r.udp.sizesSent
        r.tcp.payloadBytes = 10_000
        r.udp.payloadBytes = 10_000
        r.tcp.wireBytes = tcpWire
        r.udp.wireBytes = udpWire
        return r
    }

    @Test func whenTCPMergedTheMessagesTheTakeawaySaysTCPUsedFewerBytesAndWhy() {
        let lines = ComparisonReport.table(Self.result(tcpWire: 11_400, udpWire: 14_200))
        let cost = lines.last { $0.contains("bytes on the wire per payload byte") && $0.hasPrefix("- ") } ?? ""
        #expect(cost.contains("TCP used fewer bytes on the wire than UDP (1.14 against 1.42"), "\(cost)")
        #expect(cost.contains("merged the small messages"))
        #expect(!cost.contains("TCP paid more"))
    }

    @Test func whenTCPPaidMoreTheTakeawaySaysSo() {
        let lines = ComparisonReport.table(Self.result(tcpWire: 20_700, udpWire: 14_200))
        #expect(lines.contains { $0.hasPrefix("- TCP paid more bytes on the wire (2.07 against 1.42") })
    }

    @Test func theThroughputRowSaysWhatLimitsIt() {
        var r = Self.result(tcpWire: 11_400, udpWire: 14_200)
        r.bulkBytes = 20_000_000
        let lines = ComparisonReport.table(r)
        let note = lines.first { $0.contains("(throughput: one 20.0 MB transfer between two threads") } ?? ""
        #expect(note.contains("compare TCP with UDP within one run") && note.contains("iperf3"), "\(lines)")
    }

    @Test func cellsNeverRunIntoTheirNeighbour() {
        let lines = ComparisonReport.table(Self.result(tcpWire: 11_400, udpWire: 14_200))
        let row = lines.first { $0.contains("what the receives returned") } ?? ""
        #expect(row.contains("message ends hidden   each datagram whole") || row.range(of: "hidden +each", options: .regularExpression) != nil, "\(row)")
        #expect(!row.contains("hidden each"))
    }
}

private func * (array: [Int], count: Int) -> [Int] { Array((0..<count).map { _ in array }.joined()) }
