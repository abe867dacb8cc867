import Foundation
import Logging
import SextantClient
import SextantML
import SextantRuntime
import SextantWire
import Testing

/// A client against a test ROUTER on loopback: an evaluation request without a model (the
/// server sends it to a site it has just sent the same version's model with an assignment)
/// is answered from the assignment's model; one for a version the client was not sent is
/// answered with no records, so that the server does not wait for it.
@Suite("FederationClient and evaluation requests without a model", .timeLimit(.minutes(1)))
struct FederationClientEvaluationTests {
    @Test("the model of the assignment of the same version is evaluated; another version's is not")
    func evaluatesTheAssignedModel() async throws {
        let logger = Logger(label: "sextant.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await ClientTestServer.makeRouter()
        var inbox = server.messages.makeAsyncIterator()
        let parameterCount = ClientTestServer.parameterCount
        var settings = try ClientTestServer.clientSettings(for: server, name: "site")
        settings.validationFraction = 0.5
        let stop = StopFlag()
        let client = Task.detached {
            try? FederationClient(settings: settings, data: ClientTestServer.data, stop: stop, logger: logger).run()
        }
        defer { stop.raise() }
        let join = try #require(await inbox.next())
        let peer: [OutboundFrame] = [.bytes(join[0].bytes)]
        let assignment = AssignmentMessage(
            runID: "r", modelVersion: 3, localSteps: 1, learningRate: 0.1, batchSize: 2,
            model: FloatPayload([Float](repeating: 0.1, count: parameterCount)))
        try await server.send(peer + WireCodec.encode(.assignment(assignment)))
        for version: UInt64 in [3, 9] {
            let request = EvaluateMessage(runID: "r", modelVersion: version, model: FloatPayload([]))
            try await server.send(peer + WireCodec.encode(.evaluate(request)))
        }
        var evaluations: [UInt64: UInt64] = [:]
        while evaluations.count < 2, let frames = await inbox.next() {
            if case .evaluation(let report) = try WireCodec.decode(frames.dropFirst()) {
                evaluations[report.modelVersion] = report.records
            }
        }
        #expect(evaluations[3] == 4, "the assigned model, on the 4 validation records")
        #expect(evaluations[9] == 0, "a version this client was not sent")
        stop.raise()
        _ = await client.value
        await server.shutdown()
    }
}
