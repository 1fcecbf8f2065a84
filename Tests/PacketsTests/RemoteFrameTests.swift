import Packets
import Testing

/// The remote service's frames, as both ends and the inspector read them.
struct RemoteFrameTests {
    @Test("a frame split anywhere, or several in one read, parses the same")
    func incremental() {
        let frames = [RemoteFrame.hello(challenge: Array(repeating: 7, count: 32)), RemoteFrame(.stdout, Array("hi\n".utf8)),
                      .exit(.exited(3))]
        let bytes = frames.flatMap(\.encoded)
        for cut in 0...bytes.count {
            var buffer = Array(bytes[..<cut])
            var parsed: [RemoteFrame] = []
            var rest = Array(bytes[cut...])
            while true {
                switch RemoteFrame.parse(buffer) {
                case .frame(let frame, let consumed):
                    parsed.append(frame)
                    buffer.removeFirst(consumed)
                    continue
                case .needMore where !rest.isEmpty:
                    buffer += rest
                    rest = []
                    continue
                default:
                    break
                }
                break
            }
            #expect(parsed == frames, "cut at \(cut)")
        }
    }

    @Test("a frame longer than the limit, or of an unknown channel, is refused before it is read")
    func hostile() {
        #expect(RemoteFrame.parse([0x02, 0x7F, 0xFF, 0xFF, 0xFF]) == .invalid("a frame of 2147483647 bytes, over the limit of 1048576"))
        #expect(RemoteFrame.parse(Array("GET / HTTP/1.0".utf8)) == .invalid("unknown channel 0x47"))
        #expect(RemoteFrame.parse([0x21, 0, 0]) == .needMore)
    }

    @Test("a command keeps its arguments exactly: empty ones, spaces, UTF-8")
    func command() {
        let arguments = ["printf", "%s|", "", "two words", "naïve"]
        let decoded = RemoteFrame.run(arguments, timeout: 90).command
        #expect(decoded?.arguments == arguments)
        #expect(decoded?.timeout == 90)
        #expect(RemoteFrame(.run, [0, 0, 0, 0]).command == nil, "no program")
        #expect(RemoteFrame(.run, [0, 0, 0, 0, 0x6C, 0x73]).command == nil, "no final NUL")
    }

    @Test("how a program ended travels whole, and maps to ssh's exit codes")
    func endings() {
        let cases: [(RemoteFrame.Ending, Int32)] = [(.exited(0), 0), (.exited(255), 255), (.signalled(15), 143), (.signalled(9), 137),
                                                    (.notStarted(code: 127, reason: "no such program: x"), 127), (.timedOut(seconds: 5), 124)]
        for (ending, code) in cases {
            #expect(RemoteFrame.exit(ending).ending == ending)
            #expect(ending.exitCode == code)
        }
    }

    @Test("the greeting carries a 32-byte challenge, and nothing else passes for one")
    func greeting() {
        let challenge = (0..<32).map { UInt8($0) }
        #expect(RemoteFrame.hello(challenge: challenge).challenge == challenge)
        #expect(RemoteFrame(.hello, Array("SSH-2.0-OpenSSH".utf8) + [0] + challenge).challenge == nil)
        #expect(RemoteFrame.hello(challenge: Array(challenge.prefix(16))).challenge == nil)
    }
}
