import SextantBenchmarks

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

/// Decodes and validates a YAML configuration as the executables do.
func decodeConfiguration(_ yaml: String) throws -> FederationConfiguration {
    let configuration = try ConfigurationLoader.decode(
        FederationConfiguration.self, from: yaml, name: "test.yaml", allowedKeys: FederationConfiguration.keys)
    try configuration.validate()
    return configuration
}

/// The message a configuration is refused with, or nil when it is accepted.
func refusal(of yaml: String) -> String? {
    do {
        _ = try decodeConfiguration(yaml)
        return nil
    } catch let error as RuntimeError {
        return error.message
    } catch {
        return "\(error)"
    }
}
