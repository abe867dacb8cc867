import Foundation
import SextantRuntime

extension FederationClient.Settings {
    /// The settings of client `index` of a federation: its emulated speed, seed, CURVE keys
    /// and, under record-level DP, its DP-SGD plan for `records` training records.
    package init(configuration: FederationConfiguration, index: Int, name: String, server: String?, records: Int) throws
    {
        self.init(
            server: server ?? configuration.server.bind, name: name, architecture: try configuration.architecture,
            momentum: configuration.training.momentum, weightDecay: configuration.training.weightDecay,
            speed: configuration.clients.speed(ofClient: index, seed: configuration.run.seed),
            seed: configuration.run.seed &+ UInt64(index) &* 1_000_003)
        optimizer = configuration.training.optimizer
        curve = try configuration.security.loadClientKeys(index: index, name: name)
        if configuration.privacy.isRecordLevel {
            recordLevel = try configuration.privacy.recordLevelPlan(federation: configuration, records: records)
        }
    }
}
