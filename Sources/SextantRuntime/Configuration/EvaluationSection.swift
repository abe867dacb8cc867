/// `evaluation:` — federated evaluation (docs/design.md 3): every site holds out a seeded
/// share of its records (`data.validation_fraction`), and after every `every`-th aggregation
/// the server asks each joined site to evaluate the new global model on them; it merges the
/// sites' summaries (counts, never records), logs and stores the result with the checkpoint,
/// and can stop on it (`stop.target_metric`). A test set on the server stays optional.
package struct EvaluationSection: Sendable, Codable {
    /// Evaluate every k-th version (1: each one).
    package var every = 1

    static let keys = KeySchema.map(["every": .value])

    enum CodingKeys: String, CodingKey {
        case every
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
    }

    func validate() throws {
        guard every >= 1 else { throw invalid("evaluation.every", every, "it must be a positive integer") }
    }
}
