import Foundation
import Logging
import SextantML
import SextantRuntime
import Synchronization

/// Several clients in one process (`sextant-client --sessions K`), for load tests that put
/// hundreds of clients on a small host: each session is a full ``FederationClient`` with
/// its own DEALER socket (its own TCP connection), ZeroMQ context and thread, as K
/// processes would be, but they share one decoded copy of the training data. (Sharing one
/// context as well lost some sessions' goodbyes at 500 clients; see docs/reliability.md.)
/// Sendable.
package struct ClientSessions: Sendable {
    package var configuration: FederationConfiguration
    package var firstIndex: Int
    package var count: Int
    /// nil: server.bind of the configuration.
    package var server: String?

    package init(configuration: FederationConfiguration, firstIndex: Int, count: Int, server: String?) {
        self.configuration = configuration
        self.firstIndex = firstIndex
        self.count = count
        self.server = server
    }

    /// One session's name and how it ended.
    package struct Result: Sendable {
        package var name: String
        /// nil when the session failed; then `error` says why.
        package var summary: FederationClient.Summary?
        package var error: String?
    }

    /// Runs every session to its end (or until `stop` is raised) and returns them in index order.
    package func run(stop: StopFlag, logger: Logger) throws -> [Result] {
        guard count > 0 else { throw RuntimeError(.invalidConfiguration, "--sessions must be at least 1") }
        let indices = firstIndex..<(firstIndex + count)
        // Sites' own files are read, and agreed on, by each session on its thread.
        let partitions: [Dataset?] =
            configuration.data.isSiteData
            ? indices.map { _ in nil } : try FederationData.loadPartitions(configuration, indices: indices)
        let results = Mutex<[Int: Result]>([:])
        let finished = DispatchGroup()
        for (index, partition) in zip(indices, partitions) {
            let name = "client-\(index)"
            var sessionLogger = logger
            sessionLogger[metadataKey: "client"] = "\(name)"
            finished.enter()
            let thread = Thread { [sessionLogger, configuration, server] in
                defer { finished.leave() }
                var result = Result(name: name)
                do {
                    let data =
                        try partition
                        ?? PreprocessingRequest.agreedDataset(
                            configuration: configuration, index: index, name: name, server: server, keyOverride: nil,
                            stop: stop, logger: sessionLogger)
                    let settings = try FederationClient.Settings(
                        configuration: configuration, index: index, name: name, server: server, records: data.count)
                    let client = try FederationClient(settings: settings, data: data, stop: stop, logger: sessionLogger)
                    result.summary = try client.run()
                } catch {
                    sessionLogger.error("session failed: \(error)")
                    result.error = "\(error)"
                }
                results.withLock { $0[index] = result }
            }
            thread.name = name
            thread.start()
        }
        finished.wait()
        return results.withLock { all in indices.compactMap { all[$0] } }
    }
}
