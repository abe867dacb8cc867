/// What differential privacy a federation runs with, as read from configuration.
///
/// `validate(clients:clientsPerRound:records:)` refuses unsafe or inconsistent settings with
/// a message naming the field, the value and what is allowed, so a bad file stops the
/// program at start rather than silently training without the promised guarantee.
///
/// `Sendable`: a plain value.
public struct PrivacyConfiguration: Sendable, Equatable {
    /// Which unit is protected.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// A client's whole contribution (DP-FedAvg on the updates).
        case clientLevel
        /// Each training record (DP-SGD inside each client).
        case recordLevel
        /// Both at once.
        case both

        var includesClientLevel: Bool { self != .recordLevel }
        var includesRecordLevel: Bool { self != .clientLevel }
    }

    /// How updates are clipped.
    public enum Clipping: Sendable, Equatable {
        /// A fixed L2 bound C.
        case fixed(clipNorm: Double)
        /// C tracked as a quantile of the update norms (Andrew et al. 2021).
        case adaptive(AdaptiveClipping.Configuration)
    }

    /// How the noise level is chosen.
    public enum NoiseCalibration: Sendable, Equatable {
        /// A given noise multiplier z.
        case noiseMultiplier(Double)
        /// The smallest z that meets this ε at the configured δ over the planned steps.
        case targetEpsilon(Double)
    }

    /// Record-level (DP-SGD) settings.
    ///
    /// `Sendable`: a plain value.
    public struct RecordLevel: Sendable, Equatable {
        /// Per-example clip norm.
        public var clipNorm: Double
        /// Noise level for DP-SGD.
        public var noise: NoiseCalibration
        /// Poisson sampling rate q = B / n.
        public var sampleRate: Double
        /// δ for the record-level guarantee; `nil`: the configuration's δ.
        public var delta: Double?

        public init(clipNorm: Double, noise: NoiseCalibration, sampleRate: Double, delta: Double? = nil) {
            self.clipNorm = clipNorm
            self.noise = noise
            self.sampleRate = sampleRate
            self.delta = delta
        }
    }

    public var mode: Mode
    /// Client-level clipping of updates.
    public var clipping: Clipping
    /// Client-level noise.
    public var noise: NoiseCalibration
    /// δ of the client-level guarantee.
    public var delta: Double
    /// Where client-level noise is added.
    public var noisePlacement: DPFedAvg.NoisePlacement
    /// Required for `.recordLevel` and `.both`; refused for `.clientLevel`.
    public var recordLevel: RecordLevel?

    public init(
        mode: Mode = .clientLevel, clipping: Clipping, noise: NoiseCalibration, delta: Double,
        noisePlacement: DPFedAvg.NoisePlacement = .server, recordLevel: RecordLevel? = nil
    ) {
        self.mode = mode
        self.clipping = clipping
        self.noise = noise
        self.delta = delta
        self.noisePlacement = noisePlacement
        self.recordLevel = recordLevel
    }
}
