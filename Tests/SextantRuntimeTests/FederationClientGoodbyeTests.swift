import Foundation
import Logging
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
import SextantServer
import SextantSimulation
import SextantWire
import Testing

/// A client against a test ROUTER on loopback: the server's goodbye arrives while the
/// client waits out its last chunk's emulated time. It used to be consumed there and
/// forgotten; the client then sent its update to a server that had gone and waited for it
/// forever (found by the server-kill chaos test).
@Suite("FederationClient and the server's goodbye", .timeLimit(.minutes(1)))
struct FederationClientGoodbyeTests {
    @Test("a goodbye during the last training chunk ends the client, with no update sent")
    func goodbyeDuringLastChunk() async throws {
        let logger = Logger(label: "sextant.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await ClientTestServer.makeRouter()
        var inbox = server.messages.makeAsyncIterator()

        let data = ClientTestServer.data
        let parameterCount = ClientTestServer.parameterCount
        // 5 steps (one chunk) at 0.3 s each: the client then waits 1.5 s for the last chunk.
        let settings = try ClientTestServer.clientSettings(for: server, name: "slow", timePerStep: 0.3)
        let stop = StopFlag()
        let outcome: FederationClient.Outcome? = try await withThrowingTaskGroup(of: FederationClient.Outcome?.self) {
            group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    Thread {
                        let summary = try? FederationClient(settings: settings, data: data, stop: stop, logger: logger)
                            .run()
                        continuation.resume(returning: summary?.outcome)
                    }.start()
                }
            }
            let join = try #require(await inbox.next())
            guard case .join = try WireCodec.decode(join.dropFirst()) else {
                Issue.record("the client's first message is not a join")
                stop.raise()
                return try await group.next() ?? nil
            }
            let peer: [OutboundFrame] = [.bytes(join[0].bytes)]
            let assignment = AssignmentMessage(
                runID: "r", modelVersion: 3, localSteps: 5, learningRate: 0.1, batchSize: 4,
                model: FloatPayload([Float](repeating: 0, count: parameterCount)))
            try await server.send(peer + WireCodec.encode(.assignment(assignment)))
            try await Task.sleep(for: .milliseconds(500))
            try await server.send(peer + WireCodec.encode(.bye(ByeMessage(reason: .done, text: "training finished"))))
            // Without the fix the client never returns: stop it after a while.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(8))
                stop.raise()
            }
            defer { watchdog.cancel() }
            return try await group.next() ?? nil
        }
        #expect(outcome == .done)

        await server.shutdown()
        var sent: [WireMessageType] = []
        while let frames = await inbox.next() {
            if let message = try? WireCodec.decode(frames.dropFirst()) { sent.append(message.type) }
        }
        #expect(!sent.contains(.update), "the client sent an update after the goodbye: \(sent)")
    }
}
