import Foundation
import SextantML
import SextantRuntime

extension FederationClient.Settings {
    /// The settings of client `index` of a federation: its emulated speed, seed, CURVE keys
    /// and, under record-level DP, its DP-SGD plan for `records` training records.
    package init(
        configuration: FederationConfiguration, index: Int, name: String, server: String?, records: Int,
        keyOverride: String? = nil
    ) throws {
        self.init(
            server: server ?? configuration.server.bind, name: name, model: configuration.model.spec,
            momentum: configuration.training.momentum, weightDecay: configuration.training.weightDecay,
            speed: configuration.clients.speed(ofClient: index, seed: configuration.run.seed),
            seed: configuration.run.seed &+ UInt64(index) &* 1_000_003)
        optimizer = configuration.training.optimizer
        curve = try configuration.security.loadClientKeys(index: index, name: name, keyOverride: keyOverride)
        validationFraction = configuration.data.validationFraction
        validationSeed = FederationData.validationSeed(configuration, index: index)
        if configuration.privacy.secureAggregation.enabled {
            secureAggregation = configuration.privacy.secureAggregation
        }
        if configuration.privacy.isRecordLevel {
            // DP-SGD samples from the records left for training.
            let training = records - Dataset.validationCount(of: records, fraction: validationFraction)
            recordLevel = try configuration.privacy.recordLevelPlan(federation: configuration, records: training)
            privacyLedger = URL(
                fileURLWithPath: configuration.privacy.ledgerPath(configuration, index: index, name: name))
            runName = configuration.run.name
        }
    }
}
