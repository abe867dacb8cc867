/// What one DP-SGD contribution inside a client stands for (docs/design.md 7).
///
/// - `record`: one training record (Abadi et al. 2016): each sampled record's gradient is
///   clipped to C.
/// - `subject`: one person, with every record it has in the silo (user-level DP-SGD, as
///   McMahan et al. 2018 do for users): subjects are Poisson-sampled, each sampled subject
///   gives one contribution, the mean gradient of its records in the silo, and that
///   contribution is clipped to C. Removing a subject removes one clipped term, so the step
///   is the sampled Gaussian mechanism over subjects.
///
/// `Sendable`: a plain value.
package enum PrivacyUnit: String, Sendable, Equatable, CaseIterable, Codable {
    case record
    case subject

    /// The adjacency an ε of this unit is stated under, for reports.
    package var adjacency: String {
        switch self {
        case .record: "add/remove one record"
        case .subject: "add/remove all of one subject's records"
        }
    }
}
