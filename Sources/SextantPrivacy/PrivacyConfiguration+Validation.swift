extension PrivacyConfiguration {
    /// Checks the configuration for a federation of `clients` clients, `clientsPerRound` of
    /// which take part in an aggregation (default: all), and, for record-level DP, the
    /// smallest client dataset `records` when known.
    ///
    /// Refuses, with ``PrivacyError/Code/invalidConfiguration``:
    /// - δ not in (0, 1/n): a δ of 1/n allows a mechanism that publishes one participant's
    ///   data outright (Dwork & Roth's "just release one record" example), so δ must be
    ///   below one over the number of protected units (clients, or records per client);
    /// - a clip norm that is not finite and positive;
    /// - a noise multiplier that is not finite and positive (0 means no privacy), or a target
    ///   ε that is not finite and positive;
    /// - adaptive clipping whose z is not below 2σ_b (the clip-norm query would use up the
    ///   whole budget), or whose γ, η or σ_b are out of range;
    /// - record-level settings missing for `.recordLevel`/`.both`, or given for `.clientLevel`,
    ///   or a sampling rate outside (0, 1].
    public func validate(clients: Int, clientsPerRound: Int? = nil, records: Int? = nil) throws(PrivacyError) {
        guard clients >= 1 else {
            throw invalid("clients must be >= 1, got \(clients)")
        }
        let perRound = clientsPerRound ?? clients
        guard perRound >= 1, perRound <= clients else {
            throw invalid("clientsPerRound must be in 1...\(clients), got \(perRound)")
        }
        if mode.includesClientLevel {
            try checkDelta(delta, field: "delta", units: clients, unitName: "clients")
            try checkNoise(noise, field: "noise")
            switch clipping {
            case .fixed(let clipNorm):
                try checkClipNorm(clipNorm, field: "clipping.clipNorm")
            case .adaptive(let adaptive):
                if case .noiseMultiplier(let z) = noise {
                    // The initializer runs every range check, including z < 2σ_b.
                    do {
                        _ = try AdaptiveClipping(configuration: adaptive, noiseMultiplier: z, clientsPerRound: perRound)
                    } catch {
                        throw invalid("clipping.adaptive: \(error.message)")
                    }
                } else {
                    // z is only known once calibrated to the target ε; ranges are checked now and
                    // z < 2σ_b when AdaptiveClipping is created with the calibrated z.
                    do {
                        _ = try AdaptiveClipping(configuration: adaptive, noiseMultiplier: 0, clientsPerRound: perRound)
                    } catch {
                        throw invalid("clipping.adaptive: \(error.message)")
                    }
                }
            }
        }
        if mode.includesRecordLevel {
            guard let recordLevel else {
                throw invalid("mode \(mode.rawValue) needs recordLevel settings (clipNorm, noise, sampleRate)")
            }
            try checkClipNorm(recordLevel.clipNorm, field: "recordLevel.clipNorm")
            try checkNoise(recordLevel.noise, field: "recordLevel.noise")
            guard recordLevel.sampleRate > 0, recordLevel.sampleRate <= 1 else {
                throw invalid(
                    "recordLevel.sampleRate must be in (0, 1] (batch size / records), got \(recordLevel.sampleRate)")
            }
            let recordDelta = recordLevel.delta ?? delta
            if let records {
                try checkDelta(recordDelta, field: "recordLevel.delta", units: records, unitName: "records in a client")
            } else {
                try checkDelta(recordDelta, field: "recordLevel.delta", units: 1, unitName: "records")
            }
        } else if recordLevel != nil {
            throw invalid("recordLevel settings are given but mode is \(mode.rawValue); use mode both or recordLevel")
        }
    }

    private func invalid(_ message: String) -> PrivacyError {
        PrivacyError(.invalidConfiguration, message)
    }

    private func checkDelta(_ delta: Double, field: String, units: Int, unitName: String) throws(PrivacyError) {
        let bound = 1 / Double(units)
        guard delta > 0, delta < bound else {
            throw invalid(
                "\(field) = \(delta) must be in (0, 1/n) = (0, \(bound)) for n = \(units) \(unitName): "
                    + "a delta of 1/n or more permits releasing one participant's data outright")
        }
    }

    private func checkClipNorm(_ clipNorm: Double, field: String) throws(PrivacyError) {
        guard clipNorm > 0, clipNorm.isFinite else {
            throw invalid("\(field) must be finite and > 0 (it bounds each contribution's L2 norm), got \(clipNorm)")
        }
    }

    private func checkNoise(_ noise: NoiseCalibration, field: String) throws(PrivacyError) {
        switch noise {
        case .noiseMultiplier(let z):
            guard z > 0, z.isFinite else {
                throw invalid("\(field).noiseMultiplier must be finite and > 0 (0 adds no noise: no privacy), got \(z)")
            }
        case .targetEpsilon(let epsilon):
            guard epsilon > 0, epsilon.isFinite else {
                throw invalid("\(field).targetEpsilon must be finite and > 0, got \(epsilon)")
            }
        }
    }
}
