import Foundation

/// What the server is doing, at one moment: the value behind `/status`, its HTML page and
/// `sextant status`. Made by the server actor (``FederationServer/status()``) so the HTTP
/// side never reaches into its state. Sendable; Codable as snake_case JSON.
package struct ServerStatus: Sendable, Codable, Equatable {
    /// One admitted client.
    package struct Client: Sendable, Codable, Equatable {
        package var name: String
        package var samples: Int
        /// The address ZeroMQ reports for its connection, nil if unknown.
        package var peer: String?
        package var lastSeen: Date
        /// Seconds since its last message.
        package var idleSeconds: Double
        /// Compass' estimate of its seconds per local step, nil before its first update
        /// or with another scheduler.
        package var secondsPerStep: Double?
        /// Compass' arrival group of its current task, nil with another scheduler.
        package var arrivalGroup: Int?
        /// Local steps of the task it was last given, nil before its first task.
        package var assignedSteps: Int?

        package init(
            name: String, samples: Int, peer: String?, lastSeen: Date, idleSeconds: Double,
            secondsPerStep: Double? = nil, arrivalGroup: Int? = nil, assignedSteps: Int? = nil
        ) {
            self.name = name
            self.samples = samples
            self.peer = peer
            self.lastSeen = lastSeen
            self.idleSeconds = idleSeconds
            self.secondsPerStep = secondsPerStep
            self.arrivalGroup = arrivalGroup
            self.assignedSteps = assignedSteps
        }

        enum CodingKeys: String, CodingKey {
            case name, samples, peer, lastSeen = "last_seen", idleSeconds = "idle_seconds"
            case secondsPerStep = "seconds_per_step", arrivalGroup = "arrival_group", assignedSteps = "assigned_steps"
        }
    }

    package var runID: String
    /// `running`, then `completed`, `stopped` or `failed` (the run's status in the database).
    package var status: String
    package var modelVersion: Int
    /// The version the run stops at (`stop.max_versions`).
    package var maxVersions: Int
    /// Test accuracy after the last aggregation, nil before the first.
    package var accuracy: Double?
    /// Privacy spent so far, nil without differential privacy.
    package var epsilon: Double?
    /// What ``epsilon`` protects: unit, adjacency, δ (nil without differential privacy).
    package var guarantee: String?
    /// `scheduler.kind`.
    package var scheduler: String
    package var uptimeSeconds: Double
    /// Sorted by name.
    package var clients: [Client]
    /// The newest complete federated evaluation, nil before the first (or without one).
    package var federatedEvaluation: FederatedEvaluation?
    /// Secure aggregation's cohorts so far, nil when the run does not use it.
    package var secureAggregation: SecureAggregation?

    /// What secure aggregation has done in this server process (docs/design.md 13).
    package struct SecureAggregation: Sendable, Codable, Equatable {
        package var cohortsCompleted: Int
        package var cohortsAbandoned: Int
        /// Members that dropped from cohorts that completed.
        package var membersDropped: Int
        package var cohortsOpen: Int

        package init(cohortsCompleted: Int, cohortsAbandoned: Int, membersDropped: Int, cohortsOpen: Int) {
            self.cohortsCompleted = cohortsCompleted
            self.cohortsAbandoned = cohortsAbandoned
            self.membersDropped = membersDropped
            self.cohortsOpen = cohortsOpen
        }

        enum CodingKeys: String, CodingKey {
            case cohortsCompleted = "cohorts_completed", cohortsAbandoned = "cohorts_abandoned"
            case membersDropped = "members_dropped", cohortsOpen = "cohorts_open"
        }
    }

    /// The sites' validation summaries of one version, merged (docs/design.md 3).
    package struct FederatedEvaluation: Sendable, Codable, Equatable {
        package var version: Int
        /// Sites whose summaries were merged, and the validation records they counted.
        package var sites: Int
        package var records: Int
        /// The task's metrics and the mean loss, by name.
        package var metrics: [String: Double]

        package init(version: Int, sites: Int, records: Int, metrics: [String: Double]) {
            self.version = version
            self.sites = sites
            self.records = records
            self.metrics = metrics
        }
    }

    package init(
        runID: String, status: String, modelVersion: Int, maxVersions: Int, accuracy: Double?, epsilon: Double?,
        scheduler: String, uptimeSeconds: Double, clients: [Client], guarantee: String? = nil,
        federatedEvaluation: FederatedEvaluation? = nil
    ) {
        self.guarantee = guarantee
        self.federatedEvaluation = federatedEvaluation
        self.runID = runID
        self.status = status
        self.modelVersion = modelVersion
        self.maxVersions = maxVersions
        self.accuracy = accuracy
        self.epsilon = epsilon
        self.scheduler = scheduler
        self.uptimeSeconds = uptimeSeconds
        self.clients = clients
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", status, modelVersion = "model_version", maxVersions = "max_versions", accuracy, epsilon
        case guarantee, scheduler, uptimeSeconds = "uptime_seconds", clients
        case federatedEvaluation = "federated_evaluation"
        case secureAggregation = "secure_aggregation"
    }

    /// The encoder behind `/status`: ISO 8601 dates, sorted keys (stable for diffs and tests).
    package static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    package static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension ServerStatus {
    /// Nil values are written as `null`, not left out: a client of `/status` sees every
    /// field, and "not known yet" differs from "missing".
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encode(status, forKey: .status)
        try c.encode(modelVersion, forKey: .modelVersion)
        try c.encode(maxVersions, forKey: .maxVersions)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encode(guarantee, forKey: .guarantee)
        try c.encode(scheduler, forKey: .scheduler)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(clients, forKey: .clients)
        try c.encode(federatedEvaluation, forKey: .federatedEvaluation)
        try c.encode(secureAggregation, forKey: .secureAggregation)
    }
}

extension ServerStatus.Client {
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(samples, forKey: .samples)
        try c.encode(peer, forKey: .peer)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(idleSeconds, forKey: .idleSeconds)
        try c.encode(secondsPerStep, forKey: .secondsPerStep)
        try c.encode(arrivalGroup, forKey: .arrivalGroup)
        try c.encode(assignedSteps, forKey: .assignedSteps)
    }
}
