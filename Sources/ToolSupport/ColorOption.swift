import ArgumentParser
import TextOutput

/// `--no-color`, the same in every tool that colours, and the one rule for when colour is on
/// (`ColorRule`: a terminal, no NO_COLOR, TERM not dumb, no --no-color).
public struct ColorOption: ParsableArguments {
    @Flag(help: "No colours (they are off anyway when the output is not a terminal, NO_COLOR is set or TERM is dumb).")
    public var noColor = false

    public init() {}

    /// Whether this run colours its standard output.
    public var enabled: Bool { ColorRule.enabled(noColorFlag: noColor) }
}
