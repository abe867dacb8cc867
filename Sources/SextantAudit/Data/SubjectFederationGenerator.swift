import Foundation
import SextantML

/// Generates federations with subject-level structure (docs/design.md 8): every
/// subject has its own distribution; a member subject's records are spread over several
/// silos; a non-member's records are in no silo; and every subject has held-out audit
/// samples from its distribution. Deterministic for a seed. Sendable.
package struct SubjectFederationGenerator: Sendable {
    /// The subject structure common to every kind of data.
    package struct Configuration: Sendable, Equatable {
        /// How many subjects (people) there are, members and non-members.
        package var subjects = 100
        /// How many silos (clients) hold the members' records.
        package var clients = 4
        /// Training records of each member subject.
        package var recordsPerSubject = 20
        /// Held-out samples of each subject for the auditor.
        package var auditSamplesPerSubject = 10
        /// How many silos a member's records are spread over (capped at `clients`).
        package var silosPerSubject = 2
        /// The fraction of subjects that are members (with ``independentInclusion`` off).
        package var memberFraction = 0.5
        /// Each subject is a member independently with probability 1/2, decided by the seed
        /// before any training: what the one-run audit bound needs (``OneRunEpsilon``).
        /// Off: exactly round(memberFraction × subjects) members.
        package var independentInclusion = false
        /// Dirichlet concentration of each subject's class mix (large: balanced classes).
        package var labelConcentration = 1.0
        package var seed: UInt64 = 0

        package init() {}

        func validate() throws {
            guard subjects >= 2 else { throw AuditError(.invalidArgument, "need at least 2 subjects, not \(subjects)") }
            guard clients >= 1 else { throw AuditError(.invalidArgument, "need at least 1 client, not \(clients)") }
            guard recordsPerSubject >= 1, auditSamplesPerSubject >= 1 else {
                throw AuditError(.invalidArgument, "records and audit samples per subject must be at least 1")
            }
            guard silosPerSubject >= 1 else {
                throw AuditError(.invalidArgument, "silos per subject must be at least 1")
            }
            guard memberFraction > 0, memberFraction < 1 else {
                throw AuditError(
                    .invalidArgument, "member fraction must lie strictly between 0 and 1, not \(memberFraction)")
            }
            guard labelConcentration > 0 else {
                throw AuditError(.invalidArgument, "label concentration must be positive")
            }
        }
    }

    /// Tabular subjects: class-conditional Gaussians with a subject-specific shift.
    ///
    /// Class c has a global mean m_c (coordinates N(0, s^2), s = 2 separation / sqrt(d), as
    /// in ``SyntheticClassification``); subject u's class-c records are
    /// x = m_c + d_uc + e with a personal shift d_uc (coordinates N(0, (shift s)^2)) and
    /// noise e (coordinates N(0, noise^2)).
    package struct Tabular: Sendable, Equatable {
        package var features = 20
        package var classCount = 4
        package var separation = 2.0
        /// Size of the personal shift relative to the spread of the class means.
        package var subjectShift = 2.0
        /// Standard deviation of a record around its subject's class mean.
        package var recordNoise = 1.0

        package init() {}
    }

    /// The personal style transform of the Fashion-MNIST overlay, in pixel units ([0, 1]).
    package struct ImageStyle: Sendable, Equatable {
        /// Contrast factors are uniform in 1 +- this.
        package var contrast = 0.3
        /// Brightness offsets are uniform in +- this.
        package var brightness = 0.15
        /// Translations are whole pixels, uniform in -this...this on each axis.
        package var translation = 2
        /// Standard deviation of the subject's additive pattern.
        package var pattern = 0.15

        package init() {}
    }

    package var configuration: Configuration

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - Structure shared by every kind

    /// Member flags (independent fair coins, or exactly round(fraction * subjects) members
    /// at random) and each member's silos.
    func assignSubjects(using generator: inout SeededGenerator) -> (members: [Bool], silos: [[Int]]) {
        let c = configuration
        var members = [Bool](repeating: false, count: c.subjects)
        if c.independentInclusion {
            for subject in 0..<c.subjects { members[subject] = generator.nextUnit() < 0.5 }
        } else {
            let memberCount = min(c.subjects - 1, max(1, Int((Double(c.subjects) * c.memberFraction).rounded())))
            var order = Array(0..<c.subjects)
            order.shuffle(using: &generator)
            for subject in order.prefix(memberCount) { members[subject] = true }
        }
        var silos = [[Int]](repeating: [], count: c.subjects)
        var memberIndex = 0
        for subject in 0..<c.subjects where members[subject] {
            // The first silo cycles so that every client gets members; the rest are random.
            let first = memberIndex % c.clients
            var others = Array(0..<c.clients).filter { $0 != first }
            others.shuffle(using: &generator)
            silos[subject] = [first] + others.prefix(min(c.silosPerSubject, c.clients) - 1)
            memberIndex += 1
        }
        return (members, silos)
    }

    /// A subject's class labels for `count` records, from its personal class mix.
    private func labels(count: Int, mix: [Double], using generator: inout SeededGenerator) -> [Int32] {
        (0..<count).map { _ in
            var u = generator.nextUnit()
            for (label, weight) in mix.enumerated() {
                u -= weight
                if u < 0 { return Int32(label) }
            }
            return Int32(mix.count - 1)
        }
    }

    /// Splits a member's records over its silos: shuffled, then dealt round-robin.
    func deal(_ records: Int, over silos: [Int], using generator: inout SeededGenerator) -> [Int] {
        var assignment = (0..<records).map { silos[$0 % silos.count] }
        assignment.shuffle(using: &generator)
        return assignment
    }

    // MARK: - Tabular

    /// A tabular federation (see ``Tabular``).
    package func makeTabular(_ tabular: Tabular = Tabular()) throws -> SubjectFederation {
        let c = configuration
        try c.validate()
        guard tabular.features >= 1, tabular.classCount >= 2 else {
            throw AuditError(.invalidArgument, "tabular data needs at least 1 feature and 2 classes")
        }
        var generator = SeededGenerator(seed: c.seed)
        let (members, silos) = assignSubjects(using: &generator)
        let d = tabular.features
        let scale = 2 * tabular.separation / Double(d).squareRoot()
        let classMeans = (0..<tabular.classCount).map { _ in (0..<d).map { _ in generator.nextNormal() * scale } }
        let shape = FeatureShape(channels: d)
        var clientRows = [[(features: [Float], label: Int32, subject: Int32)]](repeating: [], count: c.clients)
        var audit = (features: [Float](), labels: [Int32](), subjects: [Int32]())
        for subject in 0..<c.subjects {
            var personal = generator.derived(UInt64(subject))
            let shifts = (0..<tabular.classCount).map { _ in
                (0..<d).map { _ in personal.nextNormal() * scale * tabular.subjectShift }
            }
            let mix = personal.nextDirichlet([Double](repeating: c.labelConcentration, count: tabular.classCount))
            func record(_ label: Int32) -> [Float] {
                (0..<d).map { j in
                    Float(
                        classMeans[Int(label)][j] + shifts[Int(label)][j] + personal.nextNormal() * tabular.recordNoise)
                }
            }
            let id = Int32(subject)
            if members[subject] {
                let recordLabels = labels(count: c.recordsPerSubject, mix: mix, using: &personal)
                let placement = deal(c.recordsPerSubject, over: silos[subject], using: &personal)
                for (label, client) in zip(recordLabels, placement) {
                    clientRows[client].append((record(label), label, id))
                }
            }
            for label in labels(count: c.auditSamplesPerSubject, mix: mix, using: &personal) {
                audit.features += record(label)
                audit.labels.append(label)
                audit.subjects.append(id)
            }
        }
        let clients = clientRows.map { rows in
            Dataset(
                shape: shape, classCount: tabular.classCount, features: rows.flatMap(\.features),
                labels: rows.map(\.label), subjects: rows.map(\.subject))
        }
        return SubjectFederation(
            kind: "tabular", seed: c.seed, clients: clients,
            auditSet: Dataset(
                shape: shape, classCount: tabular.classCount, features: audit.features, labels: audit.labels,
                subjects: audit.subjects),
            membership: Dictionary(uniqueKeysWithValues: members.enumerated().map { (Int32($0), $1) }),
            independentInclusion: c.independentInclusion)
    }
}
