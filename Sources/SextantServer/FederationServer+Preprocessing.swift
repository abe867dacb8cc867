import Foundation
import Logging
import SextantML
import SextantRuntime
import SextantStore

extension FederationServer {
    /// The preprocessing and its rules for a run on sites' own data (nil for the example
    /// datasets): the one stored in the run a restart resumes, or else the sites' agreement
    /// (``AgreementPhase``), which binds the endpoint and waits for every site. Cancelling
    /// the task (SIGTERM) ends the wait.
    package static func agreedPreprocessing(
        configuration: FederationConfiguration, insecure: Bool, logger: Logger
    ) async throws -> (pipeline: FeaturePipeline, rules: any PreprocessingRules)? {
        guard configuration.data.isSiteData else { return nil }
        let rules = SiteStatisticsRules(options: configuration.data.site, task: configuration.model.spec.task.type)
        if let stored = try storedPreprocessing(database: configuration.server.database, logger: logger) {
            logger.info("resuming with the run's agreed preprocessing", metadata: ["inputs": "\(stored.inputWidth)"])
            return (stored, rules)
        }
        let pipeline = try await AgreementPhase.run(
            configuration: configuration, rules: rules, insecure: insecure, logger: logger)
        return (pipeline, rules)
    }

    /// The agreed preprocessing of the run a start would resume, read without writing (nil
    /// without a database, a run to resume, or a stored preprocessing).
    static func storedPreprocessing(database: String, logger: Logger) throws -> FeaturePipeline? {
        guard FileManager.default.fileExists(atPath: database) else { return nil }
        let store: CheckpointStore
        do {
            store = try CheckpointStore(path: database, logger: logger, mode: .readOnly)
        } catch let error as StoreError {
            throw RuntimeError(.storage, error.message)
        }
        guard let run = try store.latestRun(), run.status != .completed,
            let stored = try store.schedulerState(run: run.id)[preprocessingKey]
        else { return nil }
        do {
            return try JSONDecoder().decode(FeaturePipeline.self, from: stored)
        } catch {
            throw RuntimeError(.storage, "run '\(run.id)': its stored preprocessing is unreadable: \(error)")
        }
    }
}
