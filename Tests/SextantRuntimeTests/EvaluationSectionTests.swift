import Testing

@testable import SextantRuntime

/// `evaluation:` and `stop.target_metric`: federated evaluation's keys.
@Suite struct EvaluationSectionTests {
    @Test("off by default; on with a validation share")
    func defaults() throws {
        #expect(!(try decodeConfiguration("{}").isFederatedEvaluationOn))
        let configuration = try decodeConfiguration(
            "data: {validation_fraction: 0.25}\nevaluation: {every: 2}\nstop: {target_metric: macro_f1, target_value: 0.8}"
        )
        #expect(configuration.isFederatedEvaluationOn && configuration.evaluation.every == 2)
        #expect(configuration.stop.meetsTarget(0.8) && !configuration.stop.meetsTarget(0.79))
    }

    @Test("error metrics are met from below")
    func decreasingTargets() throws {
        let stop = try decodeConfiguration(
            "data: {validation_fraction: 0.2}\nstop: {target_metric: rmse, target_value: 1.5}"
        ).stop
        #expect(stop.meetsTarget(1.2) && !stop.meetsTarget(1.6))
    }

    @Test("bad keys are refused naming the key")
    func refusals() {
        for (yaml, needle) in [
            ("data: {validation_fraction: 1}", "data.validation_fraction"),
            ("evaluation: {every: 0}", "evaluation.every"),
            ("data: {validation_fraction: 0.2}\nstop: {target_metric: speed}", "stop.target_metric"),
            ("stop: {target_metric: accuracy, target_value: 0.9}", "needs federated evaluation"),
        ] {
            let message = refusal(of: yaml) ?? "accepted"
            #expect(message.contains(needle), "\(yaml): \(message)")
        }
    }
}
