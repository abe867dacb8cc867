import SextantAggregation
import SextantStore

/// `server:` — where the daemon listens and keeps its checkpoints.
package struct ServerSection: Sendable, Codable {
    /// ZeroMQ endpoint the ROUTER binds (clients connect to the same address).
    package var bind = "tcp://127.0.0.1:7070"
    /// The SQLite checkpoint database.
    package var database = "sextant.sqlite"
    /// Seconds without any message after which a client counts as lost.
    package var clientTimeout = 120.0
    /// Updates whose L2 norm exceeds this are rejected as absurd.
    package var maxUpdateNorm = 1e4
    /// Keep every k-th checkpoint (1: all, which the audit wants) and always the last `keep_last`.
    package var keepEvery = 1
    package var keepLast = 0
    /// Clients allowed to upload an update at the same time; the others wait for a slot.
    package var maxConcurrentUploads = 4
    /// Checkpoints of at least this many bytes are files beside the database instead of
    /// SQLite blobs (docs/design.md 6); 0 puts every one in a file. Deltas always go to the
    /// delta segments.
    package var fileThreshold = CheckpointStore.defaultFileThreshold
    /// Messages per second one client may send (bursts of twice that); more are dropped.
    package var maxMessagesPerSecond = 20.0
    /// Joins per minute one client may send; more are refused.
    package var maxJoinsPerMinute = 12.0
    /// "HOST:PORT" of the HTTP endpoints /metrics, /status and /; empty: none.
    package var metricsBind = ""
    /// Updates based on a model more than this many versions old are refused (0: any age).
    package var maxStaleness = 0
    /// How an event's updates are combined: mean, norm_bound, median, trimmed_mean or
    /// multi_krum (docs/design.md 3).
    package var robustAggregation = "mean"
    /// trimmed_mean: the share of values dropped at each end of every coordinate.
    package var trimFraction = 0.1
    /// multi_krum: f, the attackers it tolerates per event.
    package var krumByzantine = 1
    /// norm_bound: deltas are scaled down to this many times the median recent norm.
    package var normBoundFactor = 3.0
    /// norm_bound: how many recent norms the median is taken over.
    package var normBoundWindow = 50
    /// The server optimizer applied to every aggregated step, under any scheduler: none,
    /// fedadam, fedyogi or fedadagrad (Reddi et al. 2021; ``AdaptiveServerOptimizer``).
    /// FedAvgM's momentum is `scheduler.kind: fedavgm` instead, and the two do not combine.
    package var optimizer = "none"
    /// The adaptive optimizer's server learning rate eta.
    package var optimizerLearningRate = 0.01
    /// Its first- and second-moment decay (beta2 unused by fedadagrad).
    package var optimizerBeta1 = 0.9
    package var optimizerBeta2 = 0.99
    /// Its adaptivity bound tau (also the square root of v's initial value).
    package var optimizerTau = 1e-3

    static let keys = KeySchema.map([
        "bind": .value, "database": .value, "client_timeout": .value, "max_update_norm": .value,
        "keep_every": .value, "keep_last": .value, "max_concurrent_uploads": .value, "file_threshold": .value,
        "max_messages_per_second": .value, "max_joins_per_minute": .value,
        "metrics_bind": .value, "max_staleness": .value, "robust_aggregation": .value, "trim_fraction": .value,
        "krum_byzantine": .value, "norm_bound_factor": .value, "norm_bound_window": .value,
        "optimizer": .value, "optimizer_lr": .value, "optimizer_beta1": .value, "optimizer_beta2": .value,
        "optimizer_tau": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case bind, database, clientTimeout = "client_timeout", maxUpdateNorm = "max_update_norm"
        case keepEvery = "keep_every", keepLast = "keep_last", maxConcurrentUploads = "max_concurrent_uploads"
        case fileThreshold = "file_threshold"
        case maxMessagesPerSecond = "max_messages_per_second", maxJoinsPerMinute = "max_joins_per_minute"
        case metricsBind = "metrics_bind", maxStaleness = "max_staleness"
        case robustAggregation = "robust_aggregation", trimFraction = "trim_fraction", krumByzantine = "krum_byzantine"
        case normBoundFactor = "norm_bound_factor", normBoundWindow = "norm_bound_window"
        case optimizer, optimizerLearningRate = "optimizer_lr", optimizerBeta1 = "optimizer_beta1"
        case optimizerBeta2 = "optimizer_beta2", optimizerTau = "optimizer_tau"
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bind = try c.decodeIfPresent(String.self, forKey: .bind) ?? bind
        database = try c.decodeIfPresent(String.self, forKey: .database) ?? database
        clientTimeout = try c.decodeIfPresent(Double.self, forKey: .clientTimeout) ?? clientTimeout
        maxUpdateNorm = try c.decodeIfPresent(Double.self, forKey: .maxUpdateNorm) ?? maxUpdateNorm
        keepEvery = try c.decodeIfPresent(Int.self, forKey: .keepEvery) ?? keepEvery
        keepLast = try c.decodeIfPresent(Int.self, forKey: .keepLast) ?? keepLast
        maxConcurrentUploads = try c.decodeIfPresent(Int.self, forKey: .maxConcurrentUploads) ?? maxConcurrentUploads
        fileThreshold = try c.decodeIfPresent(Int.self, forKey: .fileThreshold) ?? fileThreshold
        maxMessagesPerSecond = try c.decodeIfPresent(Double.self, forKey: .maxMessagesPerSecond) ?? maxMessagesPerSecond
        maxJoinsPerMinute = try c.decodeIfPresent(Double.self, forKey: .maxJoinsPerMinute) ?? maxJoinsPerMinute
        metricsBind = try c.decodeIfPresent(String.self, forKey: .metricsBind) ?? metricsBind
        maxStaleness = try c.decodeIfPresent(Int.self, forKey: .maxStaleness) ?? maxStaleness
        robustAggregation = try c.decodeIfPresent(String.self, forKey: .robustAggregation) ?? robustAggregation
        trimFraction = try c.decodeIfPresent(Double.self, forKey: .trimFraction) ?? trimFraction
        krumByzantine = try c.decodeIfPresent(Int.self, forKey: .krumByzantine) ?? krumByzantine
        normBoundFactor = try c.decodeIfPresent(Double.self, forKey: .normBoundFactor) ?? normBoundFactor
        normBoundWindow = try c.decodeIfPresent(Int.self, forKey: .normBoundWindow) ?? normBoundWindow
        optimizer = try c.decodeIfPresent(String.self, forKey: .optimizer) ?? optimizer
        optimizerLearningRate =
            try c.decodeIfPresent(Double.self, forKey: .optimizerLearningRate) ?? optimizerLearningRate
        optimizerBeta1 = try c.decodeIfPresent(Double.self, forKey: .optimizerBeta1) ?? optimizerBeta1
        optimizerBeta2 = try c.decodeIfPresent(Double.self, forKey: .optimizerBeta2) ?? optimizerBeta2
        optimizerTau = try c.decodeIfPresent(Double.self, forKey: .optimizerTau) ?? optimizerTau
    }

    /// The host part of `bind`, e.g. "127.0.0.1", "*" or "[::1]".
    package var bindHost: String {
        let rest = bind.dropFirst("tcp://".count)
        return String(rest[..<(rest.lastIndex(of: ":") ?? rest.endIndex)])
    }

    /// Whether `bind` is reachable from this host only (then CURVE is optional).
    package var bindsLoopbackOnly: Bool {
        let host = bindHost
        return host == "localhost" || host.hasPrefix("127.") || host == "[::1]" || host == "::1"
    }

    /// Whether `endpoint` is `tcp://HOST:PORT` with a port in 1...65535, where HOST is a
    /// name or IPv4 address without colons, `*`, or an IPv6 address in brackets (`[::1]`).
    package static func isTCPEndpoint(_ endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://"), let colon = endpoint.lastIndex(of: ":") else { return false }
        let host = endpoint[endpoint.index(endpoint.startIndex, offsetBy: "tcp://".count)..<colon]
        let port = endpoint[endpoint.index(after: colon)...]
        guard !port.isEmpty, port.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(port),
            (1...65535).contains(number), !host.isEmpty
        else { return false }
        if host.hasPrefix("[") {
            let inside = host.dropFirst().dropLast()
            return host.hasSuffix("]") && inside.contains(":") && !inside.contains("[") && !inside.contains("]")
        }
        return !host.contains(":") && !host.contains("[") && !host.contains("]")
    }

    func validate() throws {
        guard Self.isTCPEndpoint(bind) else {
            throw invalid(
                "server.bind", "'\(bind)'",
                "use tcp://HOST:PORT with a port in 1...65535 (IPv6 in brackets: tcp://[::1]:PORT)")
        }
        guard !database.isEmpty else { throw invalid("server.database", "''", "give a file path") }
        guard clientTimeout > 0 else { throw invalid("server.client_timeout", clientTimeout, "it must be positive") }
        guard maxUpdateNorm > 0 else { throw invalid("server.max_update_norm", maxUpdateNorm, "it must be positive") }
        guard maxConcurrentUploads > 0 else {
            throw invalid("server.max_concurrent_uploads", maxConcurrentUploads, "it must be a positive integer")
        }
        guard fileThreshold >= 0 else {
            throw invalid(
                "server.file_threshold", fileThreshold, "it must be 0 (every checkpoint a file) or a number of bytes")
        }
        guard maxMessagesPerSecond > 0, maxMessagesPerSecond.isFinite else {
            throw invalid("server.max_messages_per_second", maxMessagesPerSecond, "it must be a positive number")
        }
        guard maxJoinsPerMinute > 0, maxJoinsPerMinute.isFinite else {
            throw invalid("server.max_joins_per_minute", maxJoinsPerMinute, "it must be a positive number")
        }
        guard maxStaleness >= 0 else {
            throw invalid(
                "server.max_staleness", maxStaleness, "it must be 0 (any age) or a positive number of versions")
        }
        _ = try robust
        _ = try adaptiveOptimizer
        guard keepEvery > 0, keepLast >= 0 else {
            throw invalid("server.keep_every", keepEvery, "keep_every must be >= 1 and keep_last >= 0")
        }
        _ = try metricsAddress
    }
}

extension ServerSection {
    /// The aggregation rule `robust_aggregation` and its parameters name, checked.
    package var robust: RobustAggregation {
        get throws {
            switch robustAggregation {
            case "mean": return .mean
            case "median": return .median
            case "trimmed_mean":
                guard trimFraction > 0, trimFraction < 0.5 else {
                    throw invalid("server.trim_fraction", trimFraction, "it must lie in (0, 0.5)")
                }
                return .trimmedMean(fraction: trimFraction)
            case "multi_krum":
                guard krumByzantine >= 1 else {
                    throw invalid("server.krum_byzantine", krumByzantine, "it must be at least 1")
                }
                return .multiKrum(byzantine: krumByzantine)
            case "norm_bound":
                guard normBoundFactor >= 1, normBoundFactor.isFinite else {
                    throw invalid("server.norm_bound_factor", normBoundFactor, "it must be a finite number >= 1")
                }
                guard normBoundWindow >= 5 else {
                    throw invalid("server.norm_bound_window", normBoundWindow, "it must be at least 5")
                }
                return .normBound(factor: normBoundFactor, window: normBoundWindow, minimumHistory: 5)
            default:
                throw invalid(
                    "server.robust_aggregation", "'\(robustAggregation)'",
                    "use mean, norm_bound, median, trimmed_mean or multi_krum")
            }
        }
    }
}

extension ServerSection {
    /// The adaptive server optimizer `optimizer` names with its parameters, checked (nil for none).
    package var adaptiveOptimizer: AdaptiveServerOptimizer? {
        get throws {
            guard optimizer != "none" else { return nil }
            guard let rule = AdaptiveServerOptimizer.Rule(rawValue: optimizer) else {
                throw invalid("server.optimizer", "'\(optimizer)'", "use none, fedadam, fedyogi or fedadagrad")
            }
            guard optimizerLearningRate > 0, optimizerLearningRate.isFinite else {
                throw invalid("server.optimizer_lr", optimizerLearningRate, "it must be a positive finite number")
            }
            for (key, beta) in [("server.optimizer_beta1", optimizerBeta1), ("server.optimizer_beta2", optimizerBeta2)]
            {
                guard beta >= 0, beta < 1 else { throw invalid(key, beta, "it must lie in [0, 1)") }
            }
            guard optimizerTau > 0, optimizerTau.isFinite else {
                throw invalid("server.optimizer_tau", optimizerTau, "it must be a positive finite number")
            }
            return AdaptiveServerOptimizer(
                rule: rule, learningRate: optimizerLearningRate, beta1: optimizerBeta1, beta2: optimizerBeta2,
                tau: optimizerTau)
        }
    }
}
