import SextantAggregation
import Testing

@testable import SextantRuntime

@Suite struct ServerOptimizerConfigurationTests {
    @Test(arguments: ["fedavg", "fedasync", "fedbuff", "compass"])
    func eachAdaptiveRuleIsReadUnderEveryScheduler(_ kind: String) throws {
        let yaml = """
            scheduler: {kind: \(kind)}
            server: {optimizer: fedyogi, optimizer_lr: 0.05, optimizer_beta1: 0.8, optimizer_beta2: 0.95, optimizer_tau: 0.01}
            """
        let expected = AdaptiveServerOptimizer(rule: .fedyogi, learningRate: 0.05, beta1: 0.8, beta2: 0.95, tau: 0.01)
        #expect(try decodeConfiguration(yaml).server.adaptiveOptimizer == expected)
        #expect(try decodeConfiguration("scheduler: {kind: \(kind)}\n").server.adaptiveOptimizer == nil)
    }

    @Test func fedAvgMIsRefusedWithAnAdaptiveOptimizer() {
        let message = refusal(of: "scheduler: {kind: fedavgm}\nserver: {optimizer: fedadam}\n")
        #expect(message?.contains("server.optimizer fedadam cannot be combined with scheduler.kind fedavgm") == true)
    }

    @Test func anUnknownRuleOrABadParameterNamesTheKey() {
        #expect(refusal(of: "server: {optimizer: fedprox}\n")?.contains("server.optimizer") == true)
        #expect(refusal(of: "server: {optimizer: fedadam, optimizer_lr: 0}\n")?.contains("server.optimizer_lr") == true)
        #expect(
            refusal(of: "server: {optimizer: fedadam, optimizer_beta2: 1}\n")?.contains("server.optimizer_beta2")
                == true)
        #expect(
            refusal(of: "server: {optimizer: fedadam, optimizer_tau: -1}\n")?.contains("server.optimizer_tau") == true)
    }
}
