import Foundation
import SextantML
import SextantStore

/// What a stored run trained, rebuilt from the run's configuration and fingerprint: the
/// declared model, and the preprocessing its clients applied, for exports and prediction.
package enum RunModel {
    /// The run-state key under which a run on sites' own data keeps its agreed preprocessing
    /// (the JSON of ``FeaturePipeline``).
    package static let preprocessingKey = "preprocessing"

    /// The model of `checkpoint` of `run`, ready to export. `storedPipeline` is the run's
    /// agreed preprocessing as stored (sites' own data); without one the pipeline is derived
    /// from the configuration's dataset (``pipeline(for:input:classCount:)``).
    package static func exportedModel(run: Run, checkpoint: Checkpoint, storedPipeline: Data? = nil) throws
        -> ExportedModel
    {
        let configuration: FederationConfiguration
        do {
            configuration = try ConfigurationLoader.decode(
                FederationConfiguration.self, from: run.config, name: "the configuration of run '\(run.id)'",
                allowedKeys: FederationConfiguration.keys)
        } catch let error as RuntimeError {
            throw RuntimeError(.invalidConfiguration, "cannot rebuild the model of run '\(run.id)': \(error.message)")
        }
        let pipeline: FeaturePipeline
        if let storedPipeline {
            do {
                pipeline = try JSONDecoder().decode(FeaturePipeline.self, from: storedPipeline)
            } catch {
                throw RuntimeError(.storage, "run '\(run.id)': its stored preprocessing is unreadable: \(error)")
            }
        } else {
            guard !configuration.data.isSiteData else {
                throw RuntimeError(
                    .storage, "run '\(run.id)' trained on sites' own data but holds no agreed preprocessing")
            }
            let (input, classCount) = try shape(of: run)
            pipeline = self.pipeline(for: configuration.data, input: input, classCount: classCount)
        }
        do {
            return try ExportedModel(
                spec: configuration.model.spec,
                pipeline: pipeline,
                run: run.id, version: checkpoint.version, fingerprint: run.fingerprint,
                parameters: checkpoint.parameters)
        } catch let error as SextantMLError {
            throw RuntimeError(.invalidConfiguration, "run '\(run.id)': \(error.message)")
        } catch let error as ModelSpecError {
            throw RuntimeError(.invalidConfiguration, "run '\(run.id)': \(error)")
        }
    }

    /// The input shape and class count a preset's fingerprint records (`mlp:1x28x28:10:199210`).
    static func shape(of run: Run) throws -> (FeatureShape, Int) {
        let parts = run.fingerprint.split(separator: ":")
        let sides = parts.count == 4 ? parts[1].split(separator: "x").compactMap { Int($0) } : []
        guard sides.count == 1 || sides.count == 3, let classes = Int(parts[2]) else {
            throw RuntimeError(
                .invalidConfiguration,
                "run '\(run.id)': cannot read the input shape from its model fingerprint '\(run.fingerprint)'")
        }
        let shape =
            sides.count == 1
            ? FeatureShape(channels: sides[0]) : FeatureShape(channels: sides[0], height: sides[1], width: sides[2])
        return (shape, classes)
    }

    /// The preprocessing of today's datasets as a ``FeaturePipeline``: Fashion-MNIST's pixels
    /// in [0, 1] standardised with ``FashionMNIST/normalization`` (the inputs of an export are
    /// then the pixels / 255); a subject federation's records as stored (already standardised
    /// by `sextant-audit synth`), classes named by their index.
    package static func pipeline(for data: DataSection, input: FeatureShape, classCount: Int) -> FeaturePipeline {
        let fashion = data.dataset == "fashion-mnist"
        let normalization = FashionMNIST.normalization
        return FeaturePipeline(
            columns: [],
            target: FeaturePipeline.Target(
                name: "label",
                classes: fashion && classCount == FashionMNIST.classNames.count
                    ? FashionMNIST.classNames : (0..<classCount).map(String.init)),
            arrayShape: input,
            arrayScaling: fashion
                ? [.init(scaling: .standardize, shift: normalization.mean, scale: 1 / normalization.standardDeviation)]
                : [])
    }
}
