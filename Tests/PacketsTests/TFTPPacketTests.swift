import Testing
import Packets

/// TFTP packets as RFC 1350 §5 and RFC 2347 lay them out, byte for byte.
@Suite struct TFTPPacketTests {
    @Test func aReadRequestWithOptionsIsNameModeThenPairsEachEndingInNul() throws {
        let request = TFTPPacket.readRequest(TFTPRequest(filename: "f", mode: "octet", options: [TFTPOption("blksize", "1428")]))
        let bytes = request.encoded()
        #expect(bytes == [0, 1] + Array("f".utf8) + [0] + Array("octet".utf8) + [0] + Array("blksize".utf8) + [0] + Array("1428".utf8) + [0])
        #expect(try TFTPPacket(decoding: bytes) == request)
    }

    @Test func dataAckErrorAndOackRoundTrip() throws {
        let packets: [TFTPPacket] = [
            .data(block: 65535, payload: [1, 2, 3]), .data(block: 0, payload: []), .ack(block: 7),
            .error(code: 1, message: "File not found"), .optionAck([TFTPOption("tsize", "34000000"), TFTPOption("windowsize", "16")]),
            .writeRequest(TFTPRequest(filename: "up", mode: "netascii")),
        ]
        for packet in packets { #expect(try TFTPPacket(decoding: packet.encoded()) == packet) }
    }

    @Test func anErrorWithoutItsTerminatingNulIsStillRead() throws {
        #expect(try TFTPPacket(decoding: [0, 5, 0, 2] + Array("denied".utf8)) == .error(code: 2, message: "denied"))
    }

    @Test func malformedPacketsAreErrorsNotTraps() {
        #expect(throws: TFTPDecodeError.tooShort(1)) { try TFTPPacket(decoding: [0]) }
        #expect(throws: TFTPDecodeError.unknownOpcode(9)) { try TFTPPacket(decoding: [0, 9, 0, 0]) }
        #expect(throws: TFTPDecodeError.missingMode) { try TFTPPacket(decoding: [0, 1, 65, 0]) }
        #expect(throws: TFTPDecodeError.unterminatedString(at: 2)) { try TFTPPacket(decoding: [0, 1, 65, 66]) }
        #expect(throws: TFTPDecodeError.optionWithoutValue("blksize")) {
            try TFTPPacket(decoding: [0, 1, 65, 0] + Array("octet".utf8) + [0] + Array("blksize".utf8) + [0])
        }
        #expect(throws: TFTPDecodeError.tooShort(3)) { try TFTPPacket(decoding: [0, 4, 1]) }
    }

    @Test func optionNamesAreCaseInsensitive() {
        let request = TFTPRequest(filename: "f", options: [TFTPOption("BLKSIZE", "8192")])
        #expect(request.option("blksize") == "8192")
    }
}
