import Foundation
import Logging
import SextantML
import SextantRuntime
import SextantWire

/// The first phase of a run on sites' own data (docs/design.md 3): before the model exists,
/// the server binds its endpoint, collects every expected site's statistics, fits the
/// preprocessing once (``PreprocessingAgreement``), sends it to every site, and closes the
/// socket; the federation server then opens it again and the sites, now able to build
/// their model, join. Nothing is written to disk in this phase: a server killed here
/// starts it again, and the sites, which repeat their statistics until answered, follow.
package enum AgreementPhase {
    /// Runs the phase until the sites agree; throws when their statistics cannot make a
    /// pipeline, and `CancellationError` when the task is cancelled (SIGTERM).
    package static func run(
        configuration: FederationConfiguration, rules: any PreprocessingRules, insecure: Bool, logger: Logger
    ) async throws -> FeaturePipeline {
        let keys = try FederationServer.serverKeys(configuration: configuration, insecure: insecure, logger: logger)
        let opened = try await ServerListener.bind(
            configuration.server.bind, maxMessageSize: Int64(StatisticsMessage.maxStatisticsBytes) + 4096, curve: keys,
            logger: logger)
        let socket = opened.socket
        defer { opened.authenticator?.stop() }
        var agreement = PreprocessingAgreement(expectedSites: configuration.clients.count, rules: rules)
        var routes: [String: [UInt8]] = [:]
        var limiter = RateLimiter(
            perSecond: configuration.server.maxMessagesPerSecond,
            burst: max(1, 2 * configuration.server.maxMessagesPerSecond))
        let started = ContinuousClock.now
        logger.info(
            "agreeing on preprocessing: waiting for the statistics of \(configuration.clients.count) sites",
            metadata: ["bind": "\(socket.boundEndpoints.joined(separator: ","))"])
        func send(_ message: WireMessage, to route: [UInt8]) {
            socket.post([.bytes(route)] + WireCodec.encode(message))
        }
        let result: Result<FeaturePipeline, any Error>? = try await withTaskCancellationHandler {
            for await frames in socket.messages {
                guard let site = ServerListener.identity(of: frames, curve: keys != nil) else { continue }
                let now = (ContinuousClock.now - started).inSeconds
                guard limiter.allow(site, now: now) else { continue }
                let route = frames[0].bytes
                let message: WireMessage
                do throws(WireError) {
                    message = try WireCodec.decode(frames.dropFirst(), options: WireDecodingOptions())
                } catch {
                    send(.error(ErrorReplyMessage(error)), to: route)
                    continue
                }
                // Only statistics count now; a join waits for the model (its backoff repeats it).
                guard case .statistics(let statistics) = message else { continue }
                routes[site] = route
                switch agreement.receive(statistics.statistics, from: site) {
                case .waiting(let have, let need):
                    logger.info("site statistics received", metadata: ["site": "\(site)", "sites": "\(have)/\(need)"])
                case .refused(let reason):
                    logger.warning("refused site statistics", metadata: ["site": "\(site)", "reason": "\(reason)"])
                    send(.error(ErrorReplyMessage(code: .rejected, text: reason)), to: route)
                case .answer(let pipeline), .agreed(let pipeline, _):
                    let reply = WireMessage.agreement(AgreementMessage(preprocessing: try encode(pipeline)))
                    for route in routes.values { send(reply, to: route) }
                    return .success(pipeline)
                case .failed(let reason):
                    for route in routes.values {
                        send(.error(ErrorReplyMessage(code: .rejected, text: "no preprocessing: \(reason)")), to: route)
                    }
                    return .failure(
                        RuntimeError(.invalidConfiguration, "the sites' statistics make no preprocessing: \(reason)"))
                }
            }
            return nil
        } onCancel: {
            Task { await socket.shutdown() }
        }
        // Give the answers a moment to leave before the socket closes.
        try? await Task.sleep(for: .milliseconds(300))
        await socket.shutdown()
        await opened.context.terminate(timeout: .seconds(2))
        switch result {
        case .success(let pipeline):
            logger.notice(
                "preprocessing agreed",
                metadata: [
                    "sites": "\(agreement.received.count)", "inputs": "\(pipeline.inputWidth)",
                    "classes": "\(pipeline.target.classes.count)",
                ])
            return pipeline
        case .failure(let error): throw error
        case nil: throw CancellationError()
        }
    }

    /// The pipeline as the sites and the run store it.
    package static func encode(_ pipeline: FeaturePipeline) throws -> [UInt8] {
        try SiteStatisticsRules.canonicalJSON(pipeline)
    }
}
