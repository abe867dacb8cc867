import Testing

/// The executables under test, started as real processes talking ZeroMQ over loopback TCP.
///
/// Run with `SEXTANT_INTEGRATION=1 swift test --filter SextantIntegrationTests` after
/// `swift build -c release`; see ``IntegrationEnvironment`` for the other variables.
/// Serialized: each test runs a whole federation on the machine's cores.
@Suite(
    "Integration (real processes over loopback)", .serialized,
    .enabled(if: IntegrationEnvironment.isEnabled, "set SEXTANT_INTEGRATION=1 to start the real executables"),
    .timeLimit(.minutes(5)))
struct IntegrationTests {}
