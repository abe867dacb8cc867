import Foundation
import SextantAudit
import SextantML

/// A federation with subject structure on disk, as `sextant-audit synth` writes it:
/// `ground-truth.json`, one dataset file per client and the audit set.
struct SubjectFederationFiles {
    let directory: URL
    let truth: SubjectGroundTruth

    init(directory path: String) throws {
        directory = URL(fileURLWithPath: path)
        let truthURL = directory.appendingPathComponent("ground-truth.json")
        guard FileManager.default.fileExists(atPath: truthURL.path) else {
            throw RuntimeError(
                .dataUnavailable,
                "\(truthURL.path) not found: create the federation with `sextant-audit synth --kind fashion-mnist --output \(path) --clients N` (N = clients.count; --kind tabular writes tabular records instead, for a model made for them)"
            )
        }
        do {
            truth = try SubjectGroundTruth.read(from: truthURL)
        } catch {
            throw RuntimeError(.dataUnavailable, "\(truthURL.path): \(error)")
        }
    }

    func partition(_ index: Int) throws -> Dataset {
        guard let client = truth.clients.first(where: { $0.index == index }) else {
            throw RuntimeError(.dataUnavailable, "\(directory.path) has no partition for client \(index)")
        }
        return try read(client.file)
    }

    func auditSet() throws -> Dataset {
        try read(truth.auditSet)
    }

    private func read(_ file: String) throws -> Dataset {
        let url = directory.appendingPathComponent(file)
        do {
            if url.pathExtension == "csv" {
                return try CSVReader(labelColumn: "label", subjectColumn: "subject").read(contentsOf: url)
            }
            return try DatasetFile.read(from: url)
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.dataUnavailable, "\(url.path): \(error)")
        }
    }
}
