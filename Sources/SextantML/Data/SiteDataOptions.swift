/// How a site's file is read: which columns are features, label, categories or ignored,
/// what a missing value becomes and how features are scaled. Every site of a federation
/// reads its file with the same options (the `data:` section of the configuration).
///
/// Tables: every column that is neither the label nor in ``ignore`` is a feature, numeric
/// unless listed in ``categorical``; or, when ``features`` is set, exactly those columns are
/// (every other one is ignored). Arrays (`.npy`, `.npz`, IDX): ``featuresArray`` and
/// ``labelsArray`` name the arrays of an `.npz`, ``layout`` the order of image dimensions.
package struct SiteDataOptions: Hashable, Sendable, Codable {
    /// What a missing cell becomes.
    package enum MissingValues: String, Hashable, Sendable, Codable, CaseIterable {
        /// An error naming file, row and column.
        case refuse
        /// Numeric columns: the mean over every site; categorical columns: the most frequent category.
        case mean
        /// Categorical columns: the most frequent category over every site. Numeric columns
        /// refuse missing cells: sites share no numeric value counts, so their mode (as their
        /// median) cannot be merged from statistics.
        case mostFrequent = "most_frequent"
    }

    /// How image dimensions are ordered in an array file.
    package enum Layout: String, Hashable, Sendable, Codable, CaseIterable {
        /// N x C x H x W (PyTorch).
        case nchw
        /// N x H x W x C (TensorFlow, most image files).
        case nhwc
    }

    /// The label (or regression target) column.
    package var label: String
    /// The feature columns, if selected by name (nil: every column not otherwise named).
    package var features: [String]?
    /// Columns never read (identifiers, free text); a name absent from a file is no error.
    package var ignore: [String]
    /// Columns whose values are categories (one-hot encoded over the agreed vocabulary).
    package var categorical: [String]
    package var missing: MissingValues
    package var scaling: FeaturePipeline.NumericTransform.Scaling
    /// The features array of an `.npz` (nil: `x`, or `features`).
    package var featuresArray: String?
    /// The labels array of an `.npz` (nil: `y`, or `labels`).
    package var labelsArray: String?
    /// The order of image dimensions (nil: inferred, and an error when ambiguous).
    package var layout: Layout?
    /// The column naming each record's subject (person), for subject-level DP; never a
    /// feature (nil: records have no subject).
    package var subject: String?

    package init(
        label: String = "label", features: [String]? = nil, ignore: [String] = [], categorical: [String] = [],
        missing: MissingValues = .refuse, scaling: FeaturePipeline.NumericTransform.Scaling = .standardize,
        featuresArray: String? = nil, labelsArray: String? = nil, layout: Layout? = nil, subject: String? = nil
    ) {
        self.subject = subject
        self.label = label
        self.features = features
        self.ignore = ignore
        self.categorical = categorical
        self.missing = missing
        self.scaling = scaling
        self.featuresArray = featuresArray
        self.labelsArray = labelsArray
        self.layout = layout
    }

    /// Contradictions between the lists, one line each.
    package func validate() throws {
        func fail(_ message: String) -> SextantMLError { SextantMLError(code: .invalidArgument, message) }
        if ignore.contains(label) { throw fail("the label column '\(label)' is also in data.ignore") }
        if let subject {
            if subject == label { throw fail("the subject column '\(subject)' is also the label") }
            if features?.contains(subject) == true || categorical.contains(subject) {
                throw fail("the subject column '\(subject)' is also a feature (data.features or data.categorical)")
            }
        }
        if categorical.contains(label) {
            throw fail("the label column '\(label)' is also in data.categorical (labels are classes already)")
        }
        if let features {
            if features.contains(label) { throw fail("the label column '\(label)' is also in data.features") }
            if let both = features.first(where: ignore.contains) {
                throw fail("column '\(both)' is in both data.features and data.ignore")
            }
            if let stray = categorical.first(where: { !features.contains($0) }) {
                throw fail("column '\(stray)' is in data.categorical but not in data.features")
            }
        }
        if let both = categorical.first(where: ignore.contains) {
            throw fail("column '\(both)' is in both data.categorical and data.ignore")
        }
    }
}
