import Testing

@testable import SextantPrivacy

@Suite struct PrivacyConfigurationTests {
    static let valid = PrivacyConfiguration(
        mode: .clientLevel, clipping: .fixed(clipNorm: 1), noise: .noiseMultiplier(1.1), delta: 1e-3)

    func expectInvalid(
        _ configuration: PrivacyConfiguration, clients: Int, clientsPerRound: Int? = nil,
        records: Int? = nil, mentioning phrase: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(sourceLocation: sourceLocation) {
            try configuration.validate(clients: clients, clientsPerRound: clientsPerRound, records: records)
        } throws: { error in
            guard let error = error as? PrivacyError else { return false }
            return error.code == .invalidConfiguration && error.message.contains(phrase)
        }
    }

    @Test func validConfigurationsPass() throws {
        try Self.valid.validate(clients: 100)
        var both = Self.valid
        both.mode = .both
        both.recordLevel = .init(clipNorm: 1, noise: .targetEpsilon(3), sampleRate: 0.01, delta: 1e-5)
        try both.validate(clients: 100, records: 5000)
        var adaptive = Self.valid
        adaptive.clipping = .adaptive(.init(initialClipNorm: 0.1))
        adaptive.noisePlacement = .client
        try adaptive.validate(clients: 100)
    }

    @Test func deltaMustBeBelowOneOverN() {
        expectInvalid(Self.valid, clients: 1000, mentioning: "delta = 0.001 must be in (0, 1/n)")
        var zero = Self.valid
        zero.delta = 0
        expectInvalid(zero, clients: 10, mentioning: "delta")
        var record = Self.valid
        record.mode = .recordLevel
        record.recordLevel = .init(clipNorm: 1, noise: .noiseMultiplier(1), sampleRate: 0.01, delta: 1e-3)
        expectInvalid(record, clients: 10, records: 2000, mentioning: "recordLevel.delta")
    }

    @Test func clipNormMustBePositive() {
        for bad in [0.0, -1.0, .infinity] {
            var configuration = Self.valid
            configuration.clipping = .fixed(clipNorm: bad)
            expectInvalid(configuration, clients: 10, mentioning: "clipping.clipNorm must be finite and > 0")
        }
        var adaptive = Self.valid
        adaptive.clipping = .adaptive(.init(initialClipNorm: -2))
        expectInvalid(adaptive, clients: 10, mentioning: "initialClipNorm")
    }

    @Test func noiseMultiplierTooLargeForTheAdaptiveSplitIsRefused() {
        var configuration = Self.valid
        configuration.clipping = .adaptive(.init(initialClipNorm: 1))
        // 20 clients per round: σ_b = 1, so z = 1.5 is not below σ_b.
        configuration.noise = .noiseMultiplier(1.5)
        expectInvalid(configuration, clients: 100, clientsPerRound: 20, mentioning: "must be below σ_b")
        configuration.noise = .noiseMultiplier(0.9)
        #expect(throws: Never.self) { try configuration.validate(clients: 100, clientsPerRound: 20) }
    }

    @Test func zeroNoiseAndBadTargetsAreRefused() {
        var configuration = Self.valid
        configuration.noise = .noiseMultiplier(0)
        expectInvalid(configuration, clients: 10, mentioning: "no privacy")
        configuration.noise = .targetEpsilon(-1)
        expectInvalid(configuration, clients: 10, mentioning: "targetEpsilon")
    }

    @Test func recordLevelSettingsMustMatchTheMode() {
        var missing = Self.valid
        missing.mode = .both
        expectInvalid(missing, clients: 10, mentioning: "needs recordLevel settings")
        var stray = Self.valid
        stray.recordLevel = .init(clipNorm: 1, noise: .noiseMultiplier(1), sampleRate: 0.1)
        expectInvalid(stray, clients: 10, mentioning: "mode is clientLevel")
        var rate = Self.valid
        rate.mode = .recordLevel
        rate.recordLevel = .init(clipNorm: 1, noise: .noiseMultiplier(1), sampleRate: 1.5)
        expectInvalid(rate, clients: 10, mentioning: "sampleRate")
    }
}

@Suite struct PrivacyCalibrationTests {
    /// A target ε resolves to the accountant's inverse; a given z passes through.
    @Test func targetEpsilonResolvesThroughTheAccountant() throws {
        var configuration = PrivacyConfiguration(
            mode: .both, clipping: .fixed(clipNorm: 1), noise: .noiseMultiplier(1.3), delta: 1e-3,
            recordLevel: .init(clipNorm: 1, noise: .targetEpsilon(0.7242234026), sampleRate: 0.0025, delta: 1e-5))
        #expect(try configuration.clientNoiseMultiplier(events: 100) == 1.3)
        #expect(abs(try configuration.recordNoiseMultiplier(steps: 6000) - 1.3) < 1e-6)
        configuration.noise = .targetEpsilon(5)
        let z = try configuration.clientNoiseMultiplier(events: 100)
        let reached = try RDPAccountant.epsilon(noiseMultiplier: z, sampleRate: 1, steps: 100, delta: 1e-3).epsilon
        #expect(abs(reached - 5) / 5 < 1e-6)
    }
}
