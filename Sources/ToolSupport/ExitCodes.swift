import ArgumentParser
@_exported import ExitStatus
import LabHost
import PacketCapture
import SocketCore
import TextOutput

#if canImport(Glibc)
import Glibc
#endif

/// Writes to standard error, for `print(…, to: &standardError)`.
public struct StandardError: TextOutputStream {
    public init() {}
    public mutating func write(_ text: String) {
        // write(2) on descriptor 2: C's `stderr` global is not concurrency-safe in Swift 6.
        writeAll(text.utf8, to: 2)
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
            fail(message: error.description, exitStatus: error.exitStatus)
        } catch let error as any ExitStatusError {
            fail(message: error.description, exitStatus: error.exitStatus)
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
            if code == .validationFailure { Glibc.exit(ExitStatus.badInput.rawValue) }
            Glibc.exit(code.rawValue)
        }
        Glibc.exit(ExitStatus.success.rawValue)
    }

    /// Prints a SocketError (call, errno, hint) to standard error and exits with its code.
    public static func fail(_ error: SocketError) -> Never {
        fail(message: error.description, exitStatus: error.exitStatus)
    }

    /// Prints a CaptureError (what failed and how to fix it) and exits with its code.
    public static func fail(_ error: CaptureError) -> Never {
        fail(message: error.description, exitStatus: error.exitStatus)
    }

    private static func fail(message: String, exitStatus: ExitStatus) -> Never {
        flushOutput()
        var standardError = StandardError()
        print("\(configuration.commandName ?? "socketlab"): \(message)", to: &standardError)
        Glibc.exit(exitStatus.rawValue)
    }
}

/// Flushes standard output, so a line reaches a pipe or a test at once.
public func flushOutput() { fflush(nil) }

extension ExitCode {
    /// ArgumentParser's exit with one of the contract's statuses: `throw ExitCode(.failure)`.
    public init(_ status: ExitStatus) { self.init(status.rawValue) }
}
