import Foundation
import Packets
import SocketCore
import Testing
import TestSupport
@testable import LabEngines

/// The rules a file-transfer receiver lives by, checked one by one.
@Suite struct FileNameTests {
    @Test func aPlainNameIsAccepted() throws {
        #expect(try FileName("report.pdf").value == "report.pdf")
        #expect(try FileName(".bashrc").partial == "..bashrc.part")
    }

    @Test func everyWayOutOfTheFolderIsRefused() {
        #expect(throws: FileNameRefusal.dotDot) { try FileName("..") }
        #expect(throws: FileNameRefusal.separator) { try FileName("../etc/passwd") }
        #expect(throws: FileNameRefusal.absolute) { try FileName("/etc/passwd") }
        #expect(throws: FileNameRefusal.separator) { try FileName("a\\b") }
        #expect(throws: FileNameRefusal.nul) { try FileName("a\u{0}b") }
        #expect(throws: FileNameRefusal.controlCharacter) { try FileName("a\nb") }
        #expect(throws: FileNameRefusal.empty) { try FileName("") }
        #expect(throws: FileNameRefusal.tooLong(256)) { try FileName(String(repeating: "x", count: 256)) }
        #expect(throws: FileNameRefusal.partialName) { try FileName(".x.part") }
    }
}

@Suite struct TFTPNegotiationTests {
    @Test func theServerGrantsWhatItCanAndAnswersTsizeWithTheFileSize() {
        let request = TFTPRequest(filename: "f", options: [
            TFTPOption("blksize", "70000"), TFTPOption("windowsize", "500"), TFTPOption("tsize", "0"),
            TFTPOption("timeout", "0"), TFTPOption("unknown", "1"),
        ])
        let (settings, accepted) = TFTPSettings.negotiate(request, isRead: true, fileSize: 1234, maxBlockSize: 65464, maxWindow: 64)
        #expect(settings.blockSize == 65464 && settings.windowSize == 64 && settings.transferSize == 1234 && settings.timeoutSeconds == nil)
        #expect(accepted == [TFTPOption("blksize", "65464"), TFTPOption("windowsize", "64"), TFTPOption("tsize", "1234")])
    }

    @Test func theClientRefusesAnOptionItDidNotAskForOrALargerBlock() {
        var settings = TFTPSettings()
        #expect(throws: TFTPFailure.self) { try settings.apply(oack: [TFTPOption("windowsize", "8")], requested: []) }
        #expect(throws: TFTPFailure.self) { try settings.apply(oack: [TFTPOption("blksize", "2048")], requested: [TFTPOption("blksize", "1428")]) }
        #expect(throws: Never.self) { try settings.apply(oack: [TFTPOption("blksize", "1024")], requested: [TFTPOption("blksize", "1428")]) }
        #expect(settings.blockSize == 1024)
    }
}

@Suite struct NetASCIITests {
    @Test func crLfAndCrNulComeBackAsLfAndCrEvenSplitAcrossBlocks() {
        var decoder = NetASCIIDecoder()
        let wire: [UInt8] = Array("a\r\nb\r".utf8) + [0] + Array("c\r".utf8)
        var out: [UInt8] = []
        for byte in wire { out += decoder.decode([byte][...]) }  // one byte per block: the worst split
        out += decoder.decode(Array("\n".utf8)[...]) + decoder.finish()
        #expect(String(decoding: out, as: UTF8.self) == "a\nb\rc\n")
    }

    @Test func theSourceWritesLfAsCrLfAndALoneCrAsCrNul() throws {
        let folder = try temporaryDirectory("netascii")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("x\ny\rz".utf8).write(to: URL(fileURLWithPath: folder + "/t"))
        let source = NetASCIISource(try OutgoingFile(path: folder + "/t"))
        #expect(try source.nextBlock(size: 4) == Array("x\r\ny".utf8))
        #expect(try source.nextBlock(size: 4) == [0x0D, 0, 0x7A])
    }
}

/// A transfer between this process's own receiver and sender on loopback.
@Suite(.serialized) struct TransferLoopbackTests {
    @Test func aCorruptedTrailerLeavesNoFileUnderTheRealName() throws {
        let folder = try temporaryDirectory("transfer")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let listener = try Socket.listening(on: .loopback(0))
        let receiver = TransferReceiver(options: { var o = TransferReceiver.Options(); o.folder = folder; return o }())
        let events = Peer { () throws -> [String] in
            let (connection, peer) = try listener.accept()
            var lines: [String] = []
            receiver.handle(connection, peer: "\(peer)", events: { lines.append(TransferReport.line($0)) })
            return lines
        }
        // A sender that lies about the digest: the receiver must not keep the file.
        let socket = try Socket.connected(to: try listener.localAddress)
        var stream = MessageStream(socket)
        let offer = TransferProtocol.Offer(name: "lie", size: 3, mode: 0o644, resume: false, overwrite: false)
        try socket.send(Array(offer.lines.joined(separator: "\n").utf8) + [10])
        #expect(try stream.readLine() == "READY 0")
        try stream.writeLine("START 0")
        try socket.send([1, 2, 3])
        try stream.writeLine("SHA256 " + String(repeating: "0", count: 64))
        #expect(try stream.readLine()?.hasPrefix("FAILED the SHA-256 of the bytes received") == true)
        try socket.shutdown(.write)
        let lines = try events.value()
        #expect(lines.count == 1 && lines[0].contains("nothing was saved"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/lie"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/.lie.part"))
    }
}
