import SextantML

/// A run's model fingerprint parsed back into what rebuilds the model:
/// `architecture:shape:classes:parameters`, such as `mlp:1x28x28:10:199210` or
/// `logreg:20:4:84` (see ``ModelArchitecture/fingerprint(input:classCount:)``). Sendable.
package struct ModelFingerprint: Sendable, Equatable, CustomStringConvertible {
    package var architecture: ModelArchitecture
    package var inputShape: FeatureShape
    package var classCount: Int
    package var parameterCount: Int

    /// Parses a fingerprint and checks that this build's model of that architecture has
    /// the stated parameter count.
    package init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else {
            throw AuditError(
                .unknownModel, "model fingerprint '\(text)' is not architecture:shape:classes:parameters")
        }
        do {
            architecture = try ModelArchitecture(name: parts[0])
        } catch let error as SextantMLError {
            throw AuditError(.unknownModel, "model fingerprint '\(text)': \(error.message)")
        }
        let dimensions = parts[1].split(separator: "x").map { Int($0) }
        guard [1, 3].contains(dimensions.count), dimensions.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw AuditError(.unknownModel, "model fingerprint '\(text)': input shape '\(parts[1])' is not N or CxHxW")
        }
        inputShape =
            dimensions.count == 1
            ? FeatureShape(channels: dimensions[0]!)
            : FeatureShape(channels: dimensions[0]!, height: dimensions[1]!, width: dimensions[2]!)
        guard let classes = Int(parts[2]), classes > 1 else {
            throw AuditError(
                .unknownModel, "model fingerprint '\(text)': class count '\(parts[2])' is not an integer above 1")
        }
        classCount = classes
        guard let count = Int(parts[3]), count > 0 else {
            throw AuditError(
                .unknownModel, "model fingerprint '\(text)': parameter count '\(parts[3])' is not a positive integer")
        }
        parameterCount = count
        let rebuilt = architecture.fingerprint(input: inputShape, classCount: classCount)
        guard rebuilt == text else {
            throw AuditError(
                .unknownModel,
                "model fingerprint '\(text)' does not match this build's model ('\(rebuilt)'); audit with the Sextant version that trained it"
            )
        }
    }

    package var description: String {
        architecture.fingerprint(input: inputShape, classCount: classCount)
    }

    /// A fresh network of this model (its weights are replaced by each checkpoint's).
    package func makeNetwork() -> Network {
        architecture.makeNetwork(input: inputShape, classCount: classCount, seed: 0)
    }
}
