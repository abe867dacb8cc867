/// The YAML configuration a test writes for its federation (the keys of configs/demo.yaml),
/// with defaults sized for a run of a few seconds to a few tens of seconds on 2 cores.
struct TestConfiguration {
    var name: String
    var seed = 7
    var model = "mlp"
    var dataDirectory: String
    var partition = "iid"
    /// Training examples shared among the clients (0: all 60 000).
    var trainingLimit = 20_000
    /// Test examples the server evaluates after each aggregation.
    var evaluationLimit = 2_000
    /// `data.validation_fraction`: each site's held-out share (federated evaluation).
    var validationFraction = 0.0
    var learningRate = 0.02
    var batchSize = 64
    var momentum = 0.9
    var minClients = 4
    var localSteps = 20
    /// Compass only: the range of local steps it assigns.
    var minLocalSteps = 20
    var maxLocalSteps = 100
    var roundTimeout = 60.0
    /// FedBuff only: K, the updates buffered per version.
    var bufferSize = 3
    var weighting = "samples"
    var maxVersions = 30
    var targetAccuracy = 0.0
    /// `stop.target_metric` and `stop.target_value` (federated evaluation).
    var targetMetric: String?
    var targetValue = 0.0
    var bind: String
    var database: String
    var clientTimeout = 30.0
    var maxUpdateNorm = 1_000.0
    /// HOST:PORT of /metrics and /status; empty: off.
    var metricsBind = ""
    /// `server.file_threshold`: from this many bytes checkpoints are files beside the
    /// database (nil: the default, 2 MiB).
    var fileThreshold: Int?
    var clientCount = 4
    var meanTimePerStep = 0.0
    var speedDistribution = "fixed"
    var scheduler = "fedavg"
    /// YAML appended as is, e.g. a `security:` section.
    var extraYAML = ""

    var yaml: String {
        """
        run:
          name: \(name)
          seed: \(seed)
        model: \(model)
        data:
          dataset: fashion-mnist
          directory: \(dataDirectory)
          partition: \(partition)
          training_limit: \(trainingLimit)
          evaluation_limit: \(evaluationLimit)
          validation_fraction: \(validationFraction)
        training:
          learning_rate: \(learningRate)
          batch_size: \(batchSize)
          momentum: \(momentum)
        scheduler:
          kind: \(scheduler)
          min_clients: \(minClients)
          local_steps: \(localSteps)
          min_local_steps: \(minLocalSteps)
          max_local_steps: \(maxLocalSteps)
          round_timeout: \(roundTimeout)
          buffer_size: \(bufferSize)
          weighting: \(weighting)
        stop:
          max_versions: \(maxVersions)
          target_accuracy: \(targetAccuracy)
        \(targetMetric.map { "  target_metric: \($0)\n  target_value: \(targetValue)" } ?? "")
        server:
          bind: \(bind)
          database: \(database)
          client_timeout: \(clientTimeout)
          max_update_norm: \(maxUpdateNorm)
          metrics_bind: '\(metricsBind)'
        \(fileThreshold.map { "  file_threshold: \($0)" } ?? "")
        clients:
          count: \(clientCount)
          mean_time_per_step: \(meanTimePerStep)
          speed_distribution: \(speedDistribution)
          threads: 1

        """ + extraYAML
    }
}
