import Foundation
import SextantPrivacy
import SextantRuntime

/// The DP-SGD steps a client's records (or subjects) have been used in during a run, kept
/// in a file of the client's own so that a restarted client goes on from them
/// (docs/design.md 7). Without it a restart began again at zero: the client trained past
/// its budget and reported less than it had spent.
///
/// The client keeps this count itself rather than taking it from the server: the guarantee
/// protects the client's records, including against the server, so the count that limits
/// training must not be one the server can lower. The file is written, and synced, before
/// each update leaves the client, so a crash can only make it count steps whose update was
/// never sent (an over-count, never an under-count).
///
/// `Sendable`: a plain value.
package struct ClientPrivacyLedger: Sendable, Equatable, Codable {
    package var run: String
    package var unit: PrivacyUnit
    package var noiseMultiplier: Double
    package var sampleRate: Double
    package var steps: Int

    enum CodingKeys: String, CodingKey {
        case run, unit, steps
        case noiseMultiplier = "noise_multiplier", sampleRate = "sample_rate"
    }

    package init(run: String, plan: PrivacySection.RecordLevelPlan, steps: Int = 0) {
        self.run = run
        unit = plan.unit
        noiseMultiplier = plan.noiseMultiplier
        sampleRate = plan.sampleRate
        self.steps = steps
    }

    /// The steps already spent in `run` under `plan` according to the file at `url`: 0 when
    /// there is no file or it belongs to another run.
    /// - Throws: ``RuntimeError`` naming the file when it cannot be read, or when it records
    ///   this run under another mechanism (its steps cannot be composed with this plan's).
    package static func spentSteps(at url: URL, run: String, plan: PrivacySection.RecordLevelPlan) throws -> Int {
        guard FileManager.default.fileExists(atPath: url.path) else { return 0 }
        let ledger: ClientPrivacyLedger
        do {
            ledger = try JSONDecoder().decode(ClientPrivacyLedger.self, from: Data(contentsOf: url))
        } catch {
            throw RuntimeError(
                .invalidConfiguration,
                "\(url.path): the privacy ledger cannot be read (\(error)); it holds the DP-SGD steps this client has "
                    + "spent, so it is not ignored: restore it, or remove it only if this run never trained here")
        }
        guard ledger.run == run else { return 0 }
        let mine = ClientPrivacyLedger(run: run, plan: plan)
        guard
            ledger.unit == mine.unit, ledger.noiseMultiplier == mine.noiseMultiplier,
            ledger.sampleRate == mine.sampleRate, ledger.steps >= 0
        else {
            throw RuntimeError(
                .invalidConfiguration,
                "\(url.path): run '\(run)' spent \(ledger.steps) \(ledger.unit.rawValue)-level steps at z "
                    + "\(ledger.noiseMultiplier), q \(ledger.sampleRate); this client's plan is now z "
                    + "\(mine.noiseMultiplier), q \(mine.sampleRate) (\(mine.unit.rawValue)); a run's steps must keep "
                    + "one mechanism: restore the configuration or start a new run (run.name)")
        }
        return ledger.steps
    }

    /// Writes the ledger to `url` (a new file renamed over the old one, synced, with its
    /// directory created if need be).
    package func write(to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
            try encoder.encode(self).write(to: temporary)
            let handle = try FileHandle(forUpdating: temporary)
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 {
                throw RuntimeError(.storage, String(cString: strerror(errno)))
            }
        } catch {
            throw RuntimeError(
                .storage,
                "\(url.path): the privacy ledger cannot be written (\(error)); no update leaves this client unaccounted"
            )
        }
    }
}
