import Foundation
import SextantML
import SextantScheduling

/// One YAML file describes a federation: what the server runs and what each client of a
/// local launch trains on. Every key has a documented default (see configs/README.md).
package struct FederationConfiguration: Sendable, Decodable {
    package var run = RunSection()
    package var model = "mlp"
    /// `model.initial_weights`: a safetensors file (as `sextant checkpoints export` writes)
    /// whose tensors are a new run's version 0 instead of seeded random weights.
    package var initialWeights: String?
    package var data = DataSection()
    package var training = TrainingSection()
    package var scheduler = SchedulerSection()
    package var stop = StopSection()
    package var server = ServerSection()
    package var clients = ClientsSection()
    package var privacy = PrivacySection()
    package var security = SecuritySection()

    package init() {}

    package static let keys = KeySchema.map([
        "run": RunSection.keys, "model": .value, "data": DataSection.keys, "training": TrainingSection.keys,
        "scheduler": SchedulerSection.keys, "stop": StopSection.keys, "server": ServerSection.keys,
        "clients": ClientsSection.keys, "privacy": PrivacySection.keys,
        "security": SecuritySection.keys,
    ])

    package static func load(from url: URL) throws -> FederationConfiguration {
        let configuration = try ConfigurationLoader.load(Self.self, from: url, allowedKeys: keys)
        do {
            try configuration.validate()
        } catch let error as RuntimeError {
            throw RuntimeError(.invalidConfiguration, "\(url.path): \(error.message)")
        }
        return configuration
    }

    /// The model architecture, or an error naming the key.
    package var architecture: ModelArchitecture {
        get throws {
            do { return try ModelArchitecture(name: model) } catch let error as SextantMLError {
                throw RuntimeError(.invalidConfiguration, "key 'model': \(error.message)")
            }
        }
    }

    /// Semantic checks that decoding cannot express.
    package func validate() throws {
        _ = try architecture
        _ = try data.partitioner
        try training.validate()
        try scheduler.validate()
        try stop.validate()
        try server.validate()
        try clients.validate()
        try privacy.validate(federation: self)
        try security.validate()
        try validateRobustAggregation()
    }

    /// The rules that compare an event's updates need several at once and have no
    /// sensitivity analysis under client-level DP: refuse the combinations at start.
    private func validateRobustAggregation() throws {
        let rule = try server.robust
        guard rule.needsWholeEvent else { return }
        if scheduler.kind == "fedasync" {
            throw RuntimeError(
                .invalidConfiguration,
                "server.robust_aggregation \(rule.name) compares the updates of an aggregation, but fedasync applies each update alone: use norm_bound, or scheduler.kind fedbuff, fedavg or compass"
            )
        }
        if privacy.isClientLevel {
            throw RuntimeError(
                .invalidConfiguration,
                "server.robust_aggregation \(rule.name) cannot be combined with client-level differential privacy (its sensitivity bound assumes the weighted mean): use mean or norm_bound"
            )
        }
    }

    enum CodingKeys: String, CodingKey {
        case run, model, data, training, scheduler, stop, server, clients, privacy, security
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        run = try c.decodeIfPresent(RunSection.self, forKey: .run) ?? defaults.run
        if let name = try? c.decodeIfPresent(String.self, forKey: .model) {
            model = name
        } else if c.contains(.model) {
            let section = try c.decode(ModelSection.self, forKey: .model)
            model = section.name ?? defaults.model
            initialWeights = section.initialWeights
        }
        data = try c.decodeIfPresent(DataSection.self, forKey: .data) ?? defaults.data
        training = try c.decodeIfPresent(TrainingSection.self, forKey: .training) ?? defaults.training
        scheduler = try c.decodeIfPresent(SchedulerSection.self, forKey: .scheduler) ?? defaults.scheduler
        stop = try c.decodeIfPresent(StopSection.self, forKey: .stop) ?? defaults.stop
        server = try c.decodeIfPresent(ServerSection.self, forKey: .server) ?? defaults.server
        clients = try c.decodeIfPresent(ClientsSection.self, forKey: .clients) ?? defaults.clients
        privacy = try c.decodeIfPresent(PrivacySection.self, forKey: .privacy) ?? defaults.privacy
        security = try c.decodeIfPresent(SecuritySection.self, forKey: .security) ?? defaults.security
    }
}

func invalid(_ key: String, _ value: Any, _ allowed: String) -> RuntimeError {
    RuntimeError(.invalidConfiguration, "key '\(key)' has value \(value); \(allowed)")
}

// MARK: - Sections

/// `model` as a mapping: `{name: mlp, initial_weights: FILE.safetensors}` (a plain name is
/// the short form of `{name: NAME}`).
struct ModelSection: Decodable {
    var name: String?
    var initialWeights: String?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NamedKey.self)
        for key in c.allKeys where !["name", "initial_weights"].contains(key.stringValue) {
            throw RuntimeError(
                .invalidConfiguration, "unknown key 'model.\(key.stringValue)'; allowed here: initial_weights, name")
        }
        name = try c.decodeIfPresent(String.self, forKey: NamedKey("name"))
        initialWeights = try c.decodeIfPresent(String.self, forKey: NamedKey("initial_weights"))
    }
}

package struct RunSection: Sendable, Codable {
    /// A label for logs and the checkpoint database.
    package var name = "sextant"
    /// Seed of model initialisation, partitions and client speeds.
    package var seed: UInt64 = 1

    static let keys = KeySchema.map(["name": .value, "seed": .value])

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    }
}

package struct DataSection: Sendable, Codable {
    /// `fashion-mnist` (partitioned here), or `subject-federation`: the files that
    /// `sextant-audit synth` writes into `directory`, one partition per client, with
    /// subjects the privacy audit can attack.
    package var dataset = "fashion-mnist"
    package var directory = FashionMNIST.defaultDirectory.path
    /// How the training set is split among clients: iid, class or dual-dirichlet.
    package var partition = "iid"
    package var dirichletAlpha1: Double?
    package var dirichletAlpha2 = 0.5
    /// Test examples the server evaluates after each aggregation (0: the whole test set).
    package var evaluationLimit = 0
    /// Training examples to use in all (0: all), for quick runs.
    package var trainingLimit = 0

    static let keys = KeySchema.map([
        "dataset": .value, "directory": .value, "partition": .value, "dirichlet_alpha1": .value,
        "dirichlet_alpha2": .value, "evaluation_limit": .value, "training_limit": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case dataset, directory, partition
        case dirichletAlpha1 = "dirichlet_alpha1", dirichletAlpha2 = "dirichlet_alpha2"
        case evaluationLimit = "evaluation_limit", trainingLimit = "training_limit"
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? dataset
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        partition = try c.decodeIfPresent(String.self, forKey: .partition) ?? partition
        dirichletAlpha1 = try c.decodeIfPresent(Double.self, forKey: .dirichletAlpha1)
        dirichletAlpha2 = try c.decodeIfPresent(Double.self, forKey: .dirichletAlpha2) ?? dirichletAlpha2
        evaluationLimit = try c.decodeIfPresent(Int.self, forKey: .evaluationLimit) ?? evaluationLimit
        trainingLimit = try c.decodeIfPresent(Int.self, forKey: .trainingLimit) ?? trainingLimit
    }

    package var partitioner: Partitioner {
        get throws {
            guard ["fashion-mnist", "subject-federation"].contains(dataset) else {
                throw invalid("data.dataset", "'\(dataset)'", "use fashion-mnist or subject-federation")
            }
            guard evaluationLimit >= 0, trainingLimit >= 0 else {
                throw invalid("data.evaluation_limit", evaluationLimit, "limits must be 0 (all) or positive")
            }
            do {
                return try Partitioner(name: partition, alpha1: dirichletAlpha1, alpha2: dirichletAlpha2)
            } catch let error as SextantMLError {
                throw RuntimeError(.invalidConfiguration, "key 'data.partition': \(error.message)")
            }
        }
    }
}

package struct TrainingSection: Sendable, Codable {
    package var learningRate = 0.02
    package var batchSize = 64
    package var momentum = 0.9
    package var weightDecay = 0.0
    package var optimizer = "sgd"

    static let keys = KeySchema.map([
        "learning_rate": .value, "batch_size": .value, "momentum": .value, "weight_decay": .value, "optimizer": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case learningRate = "learning_rate", batchSize = "batch_size", momentum
        case weightDecay = "weight_decay", optimizer
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        momentum = try c.decodeIfPresent(Double.self, forKey: .momentum) ?? momentum
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
        optimizer = try c.decodeIfPresent(String.self, forKey: .optimizer) ?? optimizer
    }

    func validate() throws {
        do {
            try TrainingHyperparameters.check(
                batchSize: batchSize, lr: learningRate, momentum: momentum, weightDecay: weightDecay)
            _ = try TrainingHyperparameters.makeOptimizer(
                name: optimizer, lr: learningRate, momentum: momentum, weightDecay: weightDecay)
        } catch let error as RuntimeError {
            throw RuntimeError(.invalidConfiguration, "section 'training': \(error.message)")
        }
    }
}

package struct StopSection: Sendable, Codable {
    /// Stop after this many aggregations (model versions).
    package var maxVersions = 50
    /// Stop once the test accuracy reaches this (0: no target).
    package var targetAccuracy = 0.0
    /// Stop after this many seconds of wall time (0: no limit).
    package var maxSeconds = 0.0

    static let keys = KeySchema.map(["max_versions": .value, "target_accuracy": .value, "max_seconds": .value])

    enum CodingKeys: String, CodingKey {
        case maxVersions = "max_versions", targetAccuracy = "target_accuracy", maxSeconds = "max_seconds"
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxVersions = try c.decodeIfPresent(Int.self, forKey: .maxVersions) ?? maxVersions
        targetAccuracy = try c.decodeIfPresent(Double.self, forKey: .targetAccuracy) ?? targetAccuracy
        maxSeconds = try c.decodeIfPresent(Double.self, forKey: .maxSeconds) ?? maxSeconds
    }

    func validate() throws {
        guard maxVersions > 0 else { throw invalid("stop.max_versions", maxVersions, "it must be a positive integer") }
        guard targetAccuracy >= 0, targetAccuracy <= 1 else {
            throw invalid("stop.target_accuracy", targetAccuracy, "it must lie in [0, 1] (0: no target)")
        }
        guard maxSeconds >= 0, maxSeconds.isFinite else {
            throw invalid("stop.max_seconds", maxSeconds, "it must be >= 0")
        }
    }
}
