/// `evaluation:` — federated evaluation (docs/design.md 3): every site holds out a seeded
/// share of its records, and after every `every`-th aggregation the server asks each joined
/// site to evaluate the new global model on them; it merges the sites' summaries (counts,
/// never records), logs and stores the result with the checkpoint, and can stop on it
/// (`stop.target_metric`). A test set on the server stays optional.
package struct EvaluationSection: Sendable, Codable {
    /// The share of each site's records held out of training for validation (0: none, and
    /// no federated evaluation).
    package var validationFraction = 0.0
    /// Evaluate every k-th version (1: each one).
    package var every = 1

    static let keys = KeySchema.map(["validation_fraction": .value, "every": .value])

    enum CodingKeys: String, CodingKey {
        case validationFraction = "validation_fraction", every
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? validationFraction
        every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
    }

    /// Whether sites hold out records and the server asks for their evaluations.
    package var isEnabled: Bool { validationFraction > 0 }

    func validate() throws {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw invalid(
                "evaluation.validation_fraction", validationFraction,
                "it must lie in [0, 1) (0: no federated evaluation)")
        }
        guard every >= 1 else { throw invalid("evaluation.every", every, "it must be a positive integer") }
    }
}
