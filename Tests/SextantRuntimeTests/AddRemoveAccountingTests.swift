import Foundation
import SextantAggregation
import SextantBase
import SextantPrivacy
import SextantScheduling
import Testing

@testable import SextantRuntime

/// FedAvg and FedAvgM under client-level DP: add/remove adjacency with Poisson client
/// sampling and a fixed denominator (DP-FedAvg, McMahan et al. 2018), checked against values
/// derived here, not by the accountant.
///
/// Unit and adjacency of every figure: client-level (ε, δ)-DP, one client's whole
/// participation added or removed, at the δ of the configuration.
@Suite struct AddRemoveAccountingTests {
    // MARK: - Sensitivity

    /// The deltas of one round, each of L2 norm at most C = 1 (client c's exactly 1).
    static let deltas: [ClientID: [Float]] = [
        "a": [0.6, 0.8, 0], "b": [0, 0.5, -0.5], "c": [0, 0, 1],
    ]

    /// One round of a FedAvg scheduler with D = 3 and q = 1 over `clients`, every client
    /// reporting: the step `g = Σ c_i Δ_i` with the coefficients and weights the scheduler chose.
    static func step(clients: [ClientID]) -> (g: [Double], coefficients: [Double]) {
        var scheduler = FedAvgScheduler(
            configuration: .init(
                minimumClients: clients.count, localSteps: 5, roundTimeout: 100, weighting: .equal,
                fixedDenominator: 3))
        var weights: [ClientID: Double] = [:]
        var aggregation: Aggregation?
        for client in clients { _ = scheduler.handle(.joined(client, samples: 10), now: 0) }
        for (index, client) in clients.enumerated() {
            let update = UpdateInfo(
                id: Int64(index + 1), client: client, baseVersion: 0, steps: 5, samples: 10)
            for action in scheduler.handle(.updateArrived(update), now: 1) {
                if case .accumulate(_, _, let weight) = action { weights[client] = weight }
                if case .aggregate(let planned) = action { aggregation = planned }
            }
        }
        let coefficient = aggregation?.buckets.first?.coefficient ?? .nan
        var g = [Double](repeating: 0, count: 3)
        var coefficients: [Double] = []
        for client in clients {
            let c = coefficient * (weights[client] ?? .nan)
            coefficients.append(c)
            for i in g.indices { g[i] += c * Double(deltas[client]![i]) }
        }
        return (g, coefficients)
    }

    /// Adding client c to {a, b} moves the step by `Δ_c / D`, of norm `‖Δ_c‖/3 = 1/3 = C/D`
    /// (every coefficient is 1/D whoever takes part), which is the sensitivity the privacy
    /// layer charges, with or without c; the noise it adds is `z·C/D`. Renormalising over
    /// the arrivals instead (coefficient 1/m) would move it by `‖(Δa+Δb)/2 − (Δa+Δb+Δc)/3‖`,
    /// more than C/D here.
    @Test func addingOrRemovingAClientMovesTheStepByAtMostCOverD() throws {
        let with = Self.step(clients: ["a", "b", "c"])
        let without = Self.step(clients: ["a", "b"])
        #expect(with.coefficients.allSatisfy { abs($0 - 1.0 / 3) < 1e-15 })
        #expect(without.coefficients.allSatisfy { abs($0 - 1.0 / 3) < 1e-15 })
        let moved = zip(with.g, without.g).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        #expect(abs(moved - 1.0 / 3) < 1e-7)

        let renormalised = (0..<3).map { i in
            let a = Double(Self.deltas["a"]![i])
            let b = Double(Self.deltas["b"]![i])
            return (a + b) / 2 - with.g[i]
        }
        #expect(renormalised.map { $0 * $0 }.reduce(0, +).squareRoot() > 1.0 / 3 + 0.01)

        for (clients, coefficients) in [(["a", "b", "c"], with.coefficients), (["a", "b"], without.coefficients)] {
            var privacy = try ClientLevelPrivacy(
                configuration: .init(
                    noiseMultiplier: 1.5, clipping: .fixed(1), delta: 1e-5, expectedClientsPerEvent: 3,
                    fixedDenominator: 3))
            let contributions = zip(clients, coefficients).map {
                ClientLevelPrivacy.Contribution(client: $0, coefficient: $1, clipNorm: 1, unclipped: true)
            }
            var noise = [Float](repeating: 0, count: 3)
            var generator = SeededGenerator(seed: 3)
            let outcome = try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(newVersion: 1, contributions: contributions, noise: $0, using: &generator)
            }
            #expect(abs(outcome.sensitivity - 1.0 / 3) < 1e-15)
            #expect(abs(outcome.noiseStandardDeviation - 1.5 / 3) < 1e-15)
            #expect(moved <= outcome.sensitivity * (1 + 1e-6))
        }
    }

    /// A round nobody was sampled for still releases noise of std `z·C/D` and is charged:
    /// otherwise "no change" would tell that the added client was not there.
    @Test func anEmptyRoundReleasesNoiseAndIsCharged() throws {
        var privacy = try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: 2, clipping: .fixed(1.5), delta: 1e-5, sampleRate: 0.1, expectedClientsPerEvent: 5,
                fixedDenominator: 5))
        var noise = [Float](repeating: 0, count: 4)
        var generator = SeededGenerator(seed: 5)
        let outcome = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(newVersion: 1, contributions: [], noise: $0, using: &generator)
        }
        #expect(abs(outcome.noiseStandardDeviation - 2 * 1.5 / 5) < 1e-15)
        #expect(privacy.events == 1)
        #expect(noise.contains { $0 != 0 })
    }

    // MARK: - Poisson-sampled FedAvg's epsilon

    /// RDP of order α (an integer ≥ 2) of the sampled Gaussian mechanism with sampling rate q
    /// and noise multiplier σ under add/remove adjacency (Mironov, Talwar & Zhang 2019,
    /// section 3.3, the binomial expansion for integer orders):
    /// `ρ(α) = ln Σ_{k=0}^{α} C(α, k) (1−q)^{α−k} q^k exp((k² − k)/(2σ²)) / (α − 1)`,
    /// summed here in log space.
    static func sampledGaussianRDP(order alpha: Int, q: Double, sigma: Double) -> Double {
        var terms: [Double] = []
        for k in 0...alpha {
            let logBinomial = lgamma(Double(alpha + 1)) - lgamma(Double(k + 1)) - lgamma(Double(alpha - k + 1))
            let logTerm =
                logBinomial + Double(alpha - k) * log1p(-q) + Double(k) * log(q)
                + Double(k * k - k) / (2 * sigma * sigma)
            terms.append(logTerm)
        }
        let largest = terms.max()!
        let logSum = largest + log(terms.reduce(0) { $0 + exp($1 - largest) })
        return logSum / Double(alpha - 1)
    }

    /// (ε, δ) after `events` compositions, minimised over `orders` with the conversion of
    /// Balle et al. 2020 (Theorem 21): `ε(α) = T ρ(α) + ln(1 − 1/α) − (ln δ + ln α)/(α − 1)`.
    static func independentEpsilon(q: Double, sigma: Double, events: Int, delta: Double, orders: [Int]) -> Double {
        orders.map { alpha in
            let a = Double(alpha)
            return Double(events) * sampledGaussianRDP(order: alpha, q: q, sigma: sigma) + log(1 - 1 / a)
                - (log(delta) + log(a)) / (a - 1)
        }.min()!
    }

    /// A whole FedAvg run, 20 clients sampled with q = 0.25 by the scheduler (D = qN = 5)
    /// for 40 rounds, through the aggregation core: every round, empty ones included, is one
    /// sampled Gaussian with q = expected clients / N = 0.25, and the reported ε equals the
    /// independent one to 1e-9 relative over the same integer orders 2…64 (both sides sum
    /// the same terms; the accountant evaluates the series its own way).
    @Test func poissonSampledFedAvgIsChargedTheSampledGaussian() throws {
        let n = 20
        let q = 0.25
        let orders = Array(2...64)
        let privacy = try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: 1.1, clipping: .fixed(1), delta: 1e-5, sampleRate: q, expectedClientsPerEvent: 5,
                fixedDenominator: Double(n) * q),
            orders: orders.map(Double.init))
        let scheduler = FedAvgScheduler(
            configuration: .init(
                minimumClients: n, localSteps: 5, roundTimeout: 100, weighting: .equal, samplingRate: q,
                fixedDenominator: Double(n) * q))
        let clients = (0..<n).map { SchedulerSimulation<FedAvgScheduler>.Client(id: "c\($0)", secondsPerStep: 0.1) }
        var simulation = SchedulerSimulation(
            scheduler: scheduler, model: [0, 0, 0], clients: clients, privacy: privacy)
        let finished = simulation.run(
            untilVersion: 40, observer: .init(train: { _, _ in [3, 0, 4] }))
        #expect(finished)
        let accounted = try #require(simulation.core.privacy)
        #expect(accounted.events == 40)
        #expect(simulation.aggregations.allSatisfy { abs($0.aggregation.buckets[0].coefficient - 0.2) < 1e-15 })
        #expect(simulation.accumulated.values.allSatisfy { $0.coefficient == 1 })
        let expected = Self.independentEpsilon(q: q, sigma: 1.1, events: 40, delta: 1e-5, orders: orders)
        print("40 Poisson-sampled FedAvg rounds, q = 0.25, z = 1.1: ε = \(accounted.epsilon), independent \(expected)")
        #expect(abs(accounted.epsilon / expected - 1) < 1e-9, "reported \(accounted.epsilon), derived \(expected)")
        #expect(
            accounted.configuration.guaranteeDescription
                == "client-level, add/remove one client, Poisson client sampling q=0.25, delta=1e-05")
    }

    /// The runtime turns a fedavg configuration into this: q from scheduler.sampling_rate,
    /// D = clients.count × q; other schedulers stay at q = 1 with zero-out adjacency.
    @Test func theRuntimeChargesFedAvgAtItsSamplingRate() throws {
        let fedavg = try decodeConfiguration(
            """
            clients: {count: 40}
            scheduler: {kind: fedavgm, sampling_rate: 0.1, weighting: equal}
            stop: {max_versions: 10}
            privacy: {mode: client-level, noise_multiplier: 1.0, delta: 1.0e-3}
            """)
        let settings = try fedavg.privacy.makeClientLevelConfiguration(federation: fedavg)
        #expect(settings.sampleRate == 0.1)
        #expect(settings.fixedDenominator == 4)
        let fedbuff = try decodeConfiguration(
            """
            clients: {count: 40}
            scheduler: {kind: fedbuff, buffer_size: 4, weighting: equal}
            stop: {max_versions: 10}
            privacy: {mode: client-level, noise_multiplier: 1.0, delta: 1.0e-3}
            """)
        let buffered = try fedbuff.privacy.makeClientLevelConfiguration(federation: fedbuff)
        #expect(buffered.sampleRate == 1)
        #expect(buffered.fixedDenominator == nil)
        #expect(buffered.guaranteeDescription == "client-level, zero-out adjacency, participation public, delta=0.001")
    }
}
