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
        server: String, name: String, curve: ClientCurve?, statistics: [UInt8], stop: StopFlag, logger: Logger,
        interval: Double = 2
    ) throws -> FeaturePipeline {
        let context = try ZMQContext()
        let socket = try FederationClient.makeSocket(context: context, name: name, curve: curve)
        defer { socket.close() }
        try socket.connect(to: server)
        let request = WireCodec.encode(.statistics(StatisticsMessage(clientName: name, statistics: statistics)))
        let clock = ContinuousClock()
        let started = clock.now
        var lastSent: ContinuousClock.Instant?
        var lastNotice = started
        logger.info(
            "sending this site's statistics for the federation's preprocessing",
            metadata: ["server": "\(server)", "bytes": "\(statistics.count)"])
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
                    metadata: ["server": "\(server)", "waited": "\(Int((clock.now - started).inSeconds)) s"])
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
            case .bye(let bye):
                throw RuntimeError(
                    .rejected, "the server ended before this site took part (\(bye.reason): \(bye.text))")
            default:
                continue
            }
        }
        throw RuntimeError(.interrupted, "stopped while waiting for the federation's preprocessing")
    }

    /// Site `index`'s records (named `name`) as the model's inputs: its own file read with
    /// the `data:` options, its statistics sent, and the agreed preprocessing applied.
    package static func agreedDataset(
        configuration: FederationConfiguration, index: Int, name: String, server: String?, keyOverride: String?,
        stop: StopFlag, logger: Logger
    ) throws -> Dataset {
        let site = try FederationData.siteData(configuration, index: index, name: name)
        let statistics: [UInt8]
        do {
            statistics = try SiteStatisticsRules.encode(try site.statistics(task: configuration.model.spec.task.type))
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
        let pipeline = try run(
            server: server ?? configuration.server.bind, name: name,
            curve: try configuration.security.loadClientKeys(index: index, name: name, keyOverride: keyOverride),
            statistics: statistics, stop: stop, logger: logger)
        do {
            let dataset = try site.dataset(pipeline: pipeline)
            logger.info(
                "preprocessing agreed",
                metadata: [
                    "records": "\(dataset.count)", "inputs": "\(pipeline.inputWidth)",
                    "classes": "\(pipeline.target.classes.joined(separator: ","))",
                ])
            return dataset
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }
}
