import Foundation
import TextOutput

/// A new shared key for a standby pair: 32 random bytes from the system's generator
/// (getrandom), in base64, in a file only its owner can read — what `RemoteToken` reads back
/// and checks. `standby keygen` and `standby scenario` make theirs here.
public enum SharedKeyFile {
    /// Writes a new key to `path` (never through a symbolic link), mode 600.
    public static func create(at path: String, mode: FreshFile.Mode) throws(FreshFile.Failure) {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        try FreshFile.write(Data(bytes).base64EncodedString() + "\n", to: path, mode: mode, permissions: 0o600)
    }
}
