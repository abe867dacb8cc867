import Foundation
import Logging
import SextantML
import SextantRuntime
import SextantWire

/// A site's part of the preprocessing agreement (docs/design.md 3): before it can build its
/// model, it sends its statistics (counts and sums, never records) and waits for the
/// federation's preprocessing, repeating them every `interval` seconds so that a server
/// started later, or restarted, still receives them.
package enum PreprocessingRequest {
    /// The agreed preprocessing; throws the server's reason when it refuses the statistics,
    /// and `interrupted` when `stop` is raised first.
    package static func run(
        settings: FederationClient.Settings, statistics: [UInt8], stop: StopFlag, logger: Logger,
        interval: Double = 2
    ) throws -> FeaturePipeline {
        let context = try ZMQContext()
        let socket = try FederationClient.makeSocket(context: context, settings: settings)
        defer { socket.close() }
        try socket.connect(to: settings.server)
        let request = WireCodec.encode(
            .statistics(StatisticsMessage(clientName: settings.name, statistics: statistics)))
        let clock = ContinuousClock()
        let started = clock.now
        var lastSent: ContinuousClock.Instant?
        var lastNotice = started
        logger.info(
            "sending this site's statistics for the federation's preprocessing",
            metadata: ["server": "\(settings.server)", "bytes": "\(statistics.count)"])
        while !stop.isRaised {
            if lastSent.map({ clock.now - $0 >= .seconds(interval) }) ?? true {
                // Not connected yet or the queue is full: the next interval sends again.
                try? socket.send(request, blocking: false)
                lastSent = clock.now
            }
            if clock.now - lastNotice >= .seconds(30) {
                lastNotice = clock.now
                logger.notice(
                    "still waiting for the federation's preprocessing: the server waits for every site's statistics (clients.count), or is not reachable",
                    metadata: ["server": "\(settings.server)", "waited": "\(Int((clock.now - started).inSeconds)) s"])
            }
            let events = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 200)
            guard events.first?.contains(.readable) == true else { continue }
            let frames = try socket.receiveMessage(blocking: false)
            let message: WireMessage
            do {
                message = try WireCodec.decode(frames, options: WireDecodingOptions())
            } catch {
                logger.warning("undecodable reply while waiting for the preprocessing: \(error.message)")
                continue
            }
            switch message {
            case .agreement(let agreement):
                do {
                    return try JSONDecoder().decode(FeaturePipeline.self, from: Data(agreement.preprocessing))
                } catch {
                    throw RuntimeError(.rejected, "the server's preprocessing is unreadable: \(error)")
                }
            case .error(let error) where error.code == .rejected || error.code == .unsupportedVersion:
                throw RuntimeError(.rejected, "the server refused this site's data: \(error.text)")
            default:
                continue
            }
        }
        throw RuntimeError(.interrupted, "stopped while waiting for the federation's preprocessing")
    }
}
