import Foundation
import Logging
import SextantClient
import SextantML
import SextantRuntime
import SextantWire
import Testing

/// A client against a test ROUTER on loopback that speaks protocol version 1: the client
/// stops with an error naming both versions instead of joining again forever.
@Suite("FederationClient and a server of another protocol version", .timeLimit(.minutes(1)))
struct FederationClientVersionTests {
    @Test("a version-1 server's refusal ends the client with an incompatibleVersion error")
    func olderServerStopsTheClient() async throws {
        let logger = Logger(label: "sextant.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await ClientTestServer.makeRouter()
        var inbox = server.messages.makeAsyncIterator()
        let data = ClientTestServer.data
        let settings = try ClientTestServer.clientSettings(for: server, name: "new")
        let stop = StopFlag()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            stop.raise()
        }
        defer { watchdog.cancel() }
        let ended: Task<Result<FederationClient.Outcome, RuntimeError>, Never> = Task {
            await withCheckedContinuation { continuation in
                Thread {
                    do {
                        let summary = try FederationClient(settings: settings, data: data, stop: stop, logger: logger)
                            .run()
                        continuation.resume(returning: .success(summary.outcome))
                    } catch let error as RuntimeError {
                        continuation.resume(returning: .failure(error))
                    } catch {
                        continuation.resume(returning: .failure(RuntimeError(.protocolViolation, "\(error)")))
                    }
                }.start()
            }
        }
        let join = try #require(await inbox.next())
        // What a version-1 server answers a message of a version it does not speak.
        let refusal = WireCodec.encodeRefusal(
            ErrorReplyMessage(
                code: .unsupportedVersion, text: "unsupported protocol version 2, this peer speaks version 1"),
            peerVersion: 1)
        try await server.send([.bytes(join[0].bytes)] + refusal)
        let result = await ended.value
        await server.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("the client did not stop with an error: \(result)")
            return
        }
        #expect(error.code == .incompatibleVersion)
        #expect(
            error.message
                == "the server speaks protocol version 1, this client speaks \(WireCodec.protocolVersion): upgrade the server"
        )
    }
}
