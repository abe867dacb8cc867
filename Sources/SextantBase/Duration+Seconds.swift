extension Duration {
    /// The duration as floating-point seconds, for rates and clocks.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
