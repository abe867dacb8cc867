import Foundation
import SextantML
import SextantScheduling

/// One YAML file describes a federation: what the server runs and what each client of a
/// local launch trains on. Every key has a documented default (see configs/README.md).
package struct FederationConfiguration: Sendable, Decodable {
    package var run = RunSection()
    package var model = ModelSection(spec: ModelArchitecture.mlp.spec)
    package var data = DataSection()
    package var training = TrainingSection()
    package var scheduler = SchedulerSection()
    package var stop = StopSection()
    package var evaluation = EvaluationSection()
    package var server = ServerSection()
    package var clients = ClientsSection()
    package var privacy = PrivacySection()
    package var security = SecuritySection()

    package init() {}

    package static let keys = KeySchema.map([
        "run": RunSection.keys, "model": ModelSection.keys, "data": DataSection.keys, "training": TrainingSection.keys,
        "scheduler": SchedulerSection.keys, "stop": StopSection.keys, "evaluation": EvaluationSection.keys,
        "server": ServerSection.keys,
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

    /// Semantic checks that decoding cannot express.
    package func validate() throws {
        _ = try data.partitioner
        try training.validate()
        try scheduler.validate()
        try stop.validate()
        try evaluation.validate()
        if data.isSiteData, stop.targetAccuracy > 0 {
            throw RuntimeError(
                .invalidConfiguration,
                "stop.target_accuracy needs a test set on the server, and sites' own data leaves it none: use stop.target_metric (federated evaluation)"
            )
        }
        if stop.targetMetric != nil, !isFederatedEvaluationOn {
            throw RuntimeError(
                .invalidConfiguration,
                "stop.target_metric needs federated evaluation: set data.validation_fraction (for example 0.2)")
        }
        try server.validate()
        try clients.validate()
        try validateSiteData()
        try privacy.validate(federation: self)
        try security.validate()
        try validateRobustAggregation()
        if let adaptive = try server.adaptiveOptimizer, scheduler.kind == "fedavgm" {
            throw RuntimeError(
                .invalidConfiguration,
                "server.optimizer \(adaptive.rule.rawValue) cannot be combined with scheduler.kind fedavgm: both are server optimizers; use scheduler.kind fedavg with server.optimizer, or server.optimizer none"
            )
        }
    }

    /// `clients.data` names each site's own file: only for datasets that are one, and with
    /// an extension that matches.
    private func validateSiteData() throws {
        guard let template = clients.data else { return }
        guard data.isSiteData else {
            throw invalid(
                "clients.data", "'\(template)'",
                "sites' own files need data.dataset table (CSV) or arrays (.npy, .npz, IDX), not \(data.dataset)")
        }
        let formats = data.dataset == "table" ? ["csv"] : ["npy", "npz", "gz", "idx"]
        let fileExtension = URL(fileURLWithPath: template).pathExtension.lowercased()
        guard formats.contains(fileExtension) || (data.dataset == "arrays" && template.contains("-idx")) else {
            throw invalid(
                "clients.data", "'\(template)'",
                "data.dataset \(data.dataset) reads \(formats.map { "." + $0 }.joined(separator: ", ")) files")
        }
    }

    /// Whether sites hold out validation records and the server asks them to evaluate
    /// new versions (docs/design.md 3).
    package var isFederatedEvaluationOn: Bool { data.validationFraction > 0 }

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
        case run, model, data, training, scheduler, stop, evaluation, server, clients, privacy, security
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        run = try c.decodeIfPresent(RunSection.self, forKey: .run) ?? defaults.run
        model = try c.decodeIfPresent(ModelSection.self, forKey: .model) ?? defaults.model
        data = try c.decodeIfPresent(DataSection.self, forKey: .data) ?? defaults.data
        training = try c.decodeIfPresent(TrainingSection.self, forKey: .training) ?? defaults.training
        scheduler = try c.decodeIfPresent(SchedulerSection.self, forKey: .scheduler) ?? defaults.scheduler
        stop = try c.decodeIfPresent(StopSection.self, forKey: .stop) ?? defaults.stop
        evaluation = try c.decodeIfPresent(EvaluationSection.self, forKey: .evaluation) ?? defaults.evaluation
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
    /// subjects the privacy audit can attack; or each site's own file (`clients.data`,
    /// `sextant-client --data`): `table` for a CSV file, `arrays` for `.npy`/`.npz` or IDX.
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
    /// How each site reads its own file (`dataset: table` or `arrays`).
    package var site = SiteDataOptions()
    /// The share of each site's records it sets aside for validation, drawn with `run.seed`.
    /// As written in the file; nil: ``validationFraction``'s default.
    package var validationFractionSetting: Double?
    /// The share of each site's records set aside for validation (and federated evaluation):
    /// 0.2 unless set for sites' own data, 0 unless set for the example datasets (whose test
    /// set the server holds).
    package var validationFraction: Double {
        get { validationFractionSetting ?? (isSiteData ? 0.2 : 0) }
        set { validationFractionSetting = newValue }
    }

    /// The datasets that are each site's own file.
    package static let siteDatasets = ["table", "arrays"]

    /// The keys of a site's own data, each declared once; configs/README.md lists the same.
    enum SiteKeys {
        static let label = ConfigurationKey<String>("label", default: "label", shown: "`label`")
        static let features = ConfigurationKey<[String]>(
            "features", shown: "none (every column not named elsewhere)", schema: .list(.value))
        static let ignore = ConfigurationKey<[String]>("ignore", default: [], shown: "`[]`", schema: .list(.value))
        static let categorical = ConfigurationKey<[String]>(
            "categorical", default: [], shown: "`[]`", schema: .list(.value))
        static let missing = ConfigurationKey<String>(
            "missing", default: "refuse", shown: "`refuse`", check: KeyCheck.oneOf(SiteDataOptions.MissingValues.self))
        static let scaling = ConfigurationKey<String>(
            "scaling", default: "standardize", shown: "`standardize`",
            check: KeyCheck.oneOf(FeaturePipeline.NumericTransform.Scaling.self))
        static let validationFraction = ConfigurationKey<Double>(
            "validation_fraction", default: 0.2, shown: "`0.2`",
            check: { $0 >= 0 && $0 < 1 ? nil : "it must lie in [0, 1) (0: no validation share)" })
        static let featuresArray = ConfigurationKey<String>("features_array", shown: "`x`, or `features`")
        static let labelsArray = ConfigurationKey<String>("labels_array", shown: "`y`, or `labels`")
        static let layout = ConfigurationKey<String>(
            "layout", shown: "inferred", check: KeyCheck.oneOf(SiteDataOptions.Layout.self))
        static let subject = ConfigurationKey<String>("subject", shown: "none")
    }

    static let siteDeclared = [
        SiteKeys.label.declared, SiteKeys.features.declared, SiteKeys.ignore.declared, SiteKeys.categorical.declared,
        SiteKeys.missing.declared, SiteKeys.scaling.declared, SiteKeys.validationFraction.declared,
        SiteKeys.featuresArray.declared, SiteKeys.labelsArray.declared, SiteKeys.layout.declared,
        SiteKeys.subject.declared,
    ]

    static let keys = KeySchema.map(
        [
            "dataset": .value, "directory": .value, "partition": .value, "dirichlet_alpha1": .value,
            "dirichlet_alpha2": .value, "evaluation_limit": .value, "training_limit": .value,
        ].merging(siteDeclared.map { ($0.name, $0.schema) }) { first, _ in first })

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
        let keys = try decoder.container(keyedBy: NamedKey.self)
        site = SiteDataOptions(
            label: try keys.read(SiteKeys.label) ?? site.label, features: try keys.read(SiteKeys.features),
            ignore: try keys.read(SiteKeys.ignore) ?? [], categorical: try keys.read(SiteKeys.categorical) ?? [],
            missing: try keys.read(SiteKeys.missing, as: SiteDataOptions.MissingValues.self) ?? .refuse,
            scaling: try keys.read(SiteKeys.scaling, as: FeaturePipeline.NumericTransform.Scaling.self) ?? .standardize,
            featuresArray: try keys.read(SiteKeys.featuresArray), labelsArray: try keys.read(SiteKeys.labelsArray),
            layout: try keys.read(SiteKeys.layout, as: SiteDataOptions.Layout.self),
            subject: try keys.read(SiteKeys.subject))
        validationFractionSetting = try keys.read(SiteKeys.validationFraction)
    }

    /// True when each site trains on its own file rather than a partition made here.
    package var isSiteData: Bool { Self.siteDatasets.contains(dataset) }

    package var partitioner: Partitioner {
        get throws {
            guard (["fashion-mnist", "subject-federation"] + Self.siteDatasets).contains(dataset) else {
                throw invalid("data.dataset", "'\(dataset)'", "use fashion-mnist, subject-federation, table or arrays")
            }
            if let subject = site.subject, dataset != "table" {
                throw invalid(
                    "data.subject", "'\(subject)'",
                    "it names a column of a site's CSV table (data.dataset: table); '\(dataset)' has no such column")
            }
            do {
                try site.validate()
            } catch let error as SextantMLError {
                throw RuntimeError(.invalidConfiguration, "section 'data': \(error.message)")
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
    /// Stop once the federated evaluation of a version, complete over the sites asked,
    /// reaches `target_value` on this metric (accuracy, balanced_accuracy, macro_f1,
    /// roc_auc, r2: at least; loss, mae, rmse: at most).
    package var targetMetric: String?
    package var targetValue = 0.0

    static let keys = KeySchema.map([
        "max_versions": .value, "target_accuracy": .value, "max_seconds": .value, "target_metric": .value,
        "target_value": .value,
    ])

    /// Metrics where larger is better; the others (loss, mae, rmse) are errors.
    package static let increasingMetrics: Set = ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "r2"]
    package static let decreasingMetrics: Set = ["loss", "mae", "rmse"]

    /// Whether `value` of the target metric meets the target.
    package func meetsTarget(_ value: Double) -> Bool {
        guard let targetMetric else { return false }
        return Self.increasingMetrics.contains(targetMetric) ? value >= targetValue : value <= targetValue
    }

    enum CodingKeys: String, CodingKey {
        case maxVersions = "max_versions", targetAccuracy = "target_accuracy", maxSeconds = "max_seconds"
        case targetMetric = "target_metric", targetValue = "target_value"
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxVersions = try c.decodeIfPresent(Int.self, forKey: .maxVersions) ?? maxVersions
        targetAccuracy = try c.decodeIfPresent(Double.self, forKey: .targetAccuracy) ?? targetAccuracy
        maxSeconds = try c.decodeIfPresent(Double.self, forKey: .maxSeconds) ?? maxSeconds
        targetMetric = try c.decodeIfPresent(String.self, forKey: .targetMetric)
        targetValue = try c.decodeIfPresent(Double.self, forKey: .targetValue) ?? targetValue
    }

    func validate() throws {
        guard maxVersions > 0 else { throw invalid("stop.max_versions", maxVersions, "it must be a positive integer") }
        guard targetAccuracy >= 0, targetAccuracy <= 1 else {
            throw invalid("stop.target_accuracy", targetAccuracy, "it must lie in [0, 1] (0: no target)")
        }
        guard maxSeconds >= 0, maxSeconds.isFinite else {
            throw invalid("stop.max_seconds", maxSeconds, "it must be >= 0")
        }
        if let targetMetric {
            let known = Self.increasingMetrics.union(Self.decreasingMetrics)
            guard known.contains(targetMetric) else {
                throw invalid(
                    "stop.target_metric", "'\(targetMetric)'", "use one of \(known.sorted().joined(separator: ", "))")
            }
            guard targetValue.isFinite else { throw invalid("stop.target_value", targetValue, "it must be finite") }
        }
    }
}
