import Testing
@testable import LabEngines

/// iputils' arithmetic, checked on numbers worked out by hand from ping_common.c.
@Test func pingArithmeticMatchesIputils() {
    var statistics = PingStatistics()
    statistics.transmitted = 3
    for microseconds: Int64 in [37, 49, 52] { statistics.record(microseconds: microseconds, duplicate: false) }
    statistics.elapsedMilliseconds = 408
    // tsum 138, tsum2 6474: variance (6474 - 138²/3) / 3 = (6474 - 6348) / 3 = 42, sqrt → 6.
    #expect(statistics.lines(host: "127.0.0.1") == [
        "", "--- 127.0.0.1 ping statistics ---",
        "3 packets transmitted, 3 received, 0% packet loss, time 408ms",
        "rtt min/avg/max/mdev = 0.037/0.046/0.052/0.006 ms",
    ])
    #expect(PingStatistics.time(microseconds: 37) == "0.037")
    #expect(PingStatistics.time(microseconds: 1234) == "1.23")
    #expect(PingStatistics.time(microseconds: 12345) == "12.3")
    #expect(PingStatistics.time(microseconds: 123_456) == "123")
    #expect(PingStatistics.percent(100.0 / 3) == "33.3333")
    #expect(PingStatistics.percent(30) == "30")
}
