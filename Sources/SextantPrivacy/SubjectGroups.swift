/// A silo's records grouped by subject, for subject-level DP-SGD (``PrivacyUnit/subject``).
///
/// Subjects are numbered in order of first appearance; ``records`` lists each one's record
/// indices in increasing order, so that a Poisson sample of subject numbers maps to the
/// records whose mean gradient each sampled subject contributes.
///
/// `Sendable`: a plain value.
package struct SubjectGroups: Sendable, Equatable {
    /// The subject id of each group, in order of first appearance.
    package let ids: [Int32]
    /// The record indices of each group.
    package let records: [[Int]]

    /// Groups records by their subject id (`subjects[i]` is record i's subject).
    /// - Throws: ``PrivacyError/Code/invalidArgument`` when there are no records.
    package init(subjects: [Int32]) throws(PrivacyError) {
        guard !subjects.isEmpty else {
            throw PrivacyError(.invalidArgument, "subject-level DP needs records with subject ids; there are none")
        }
        var position: [Int32: Int] = [:]
        var ids: [Int32] = []
        var records: [[Int]] = []
        for (index, subject) in subjects.enumerated() {
            if let group = position[subject] {
                records[group].append(index)
            } else {
                position[subject] = ids.count
                ids.append(subject)
                records.append([index])
            }
        }
        self.ids = ids
        self.records = records
    }

    /// n_s, the number of subjects.
    package var count: Int { ids.count }

    /// The most records any one subject has.
    package var largestGroup: Int { records.map(\.count).max() ?? 0 }
}
