import ArgumentParser
import LabHost
import PacketCapture
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// The exit codes every SocketLab tool ends with (DESIGN.md's contract).
public enum ToolExit {
    /// 0: success.
    public static let success: Int32 = 0
    /// 1: a check, a lab or a network operation failed.
    public static let failure: Int32 = 1
    /// 2: bad usage or bad input (an unknown option, a port out of range, a bad address).
    public static let badInput: Int32 = 2
    /// 3: missing privilege (raw sockets, live capture); the message says how to get it.
    public static let missingPrivilege: Int32 = 3
}

/// Writes to standard error, for `print(…, to: &standardError)`.
public struct StandardError: TextOutputStream {
    public init() {}
    public mutating func write(_ text: String) {
        // write(2) on descriptor 2: C's `stderr` global is not concurrency-safe in Swift 6.
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

extension ParsableCommand {
    /// Runs the command like ArgumentParser's own `main()`, but with SocketLab's exit codes:
    /// a usage error exits 2 (ArgumentParser's default is 64), and a `SocketError` prints its
    /// message and hint and exits with its own code.
    public static func runAsSocketLabTool() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as SocketError {
            fail(error)
        } catch let error as CaptureError {
            fail(error)
        } catch let error as HostError {
            fail(message: error.description, exitCode: error.exitCode)
        } catch let code as ExitCode {
            // A tool's own verdict (ping with no reply exits 1): it has said what it had to.
            flushOutput()
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help and --version print and exit 0
            }
            var standardError = StandardError()
            print(fullMessage(for: error), to: &standardError)
            if code == .validationFailure { Glibc.exit(ToolExit.badInput) }
            Glibc.exit(code.rawValue)
        }
        Glibc.exit(ToolExit.success)
    }

    /// Prints a SocketError (call, errno, hint) to standard error and exits with its code.
    public static func fail(_ error: SocketError) -> Never {
        fail(message: error.description, exitCode: error.exitCode)
    }

    /// Prints a CaptureError (what failed and how to fix it) and exits with its code.
    public static func fail(_ error: CaptureError) -> Never {
        fail(message: error.description, exitCode: error.exitCode)
    }

    private static func fail(message: String, exitCode: Int32) -> Never {
        flushOutput()
        var standardError = StandardError()
        print("\(configuration.commandName ?? "socketlab"): \(message)", to: &standardError)
        Glibc.exit(exitCode)
    }
}

/// Flushes standard output, so a line reaches a pipe or a test at once.
public func flushOutput() { fflush(nil) }
