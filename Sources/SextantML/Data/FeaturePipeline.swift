/// How a site's raw records become a model's inputs and targets, as the federation agreed
/// at the start of a run from every site's statistics (never from records).
///
/// The pipeline travels with the model: it is stored in the run, shipped with every export,
/// and applied identically in training, evaluation, export (inside the ONNX graph) and
/// prediction. A pipeline is plain data; fitting one from merged statistics and reading
/// files live beside it.
///
/// Tables: ``columns`` lists the feature columns the model reads, in the order their
/// outputs appear in the input vector. A numeric column gives one value,
/// `(x - shift) * scale` (standardisation: shift = mean, scale = 1 / standard deviation;
/// min-max: shift = min, scale = 1 / (max - min); none: 0 and 1), with a missing value
/// replaced by ``NumericColumn/imputation`` before scaling, or refused when it is nil. A
/// categorical column gives one value per word of its vocabulary (one-hot), all zeros for a
/// missing value or a category the federation never saw when ``CategoricalColumn/unknown``
/// allows it.
///
/// Arrays (`.npy`/`.npz`, IDX images): ``arrayShape`` is the shape of one record (channels,
/// height, width, after any layout change) and ``columns`` is empty; ``arrayScaling``
/// standardises every value with one shift and scale per channel.
package struct FeaturePipeline: Hashable, Sendable, Codable {
    /// The feature columns of a table, in input order (empty for array data).
    package var columns: [Column]
    /// Columns present in the sites' files that the model does not read (identifiers, free
    /// text): never an error, never sent anywhere.
    package var ignored: [String]
    /// True when the configuration selected the feature columns by name: then every other
    /// column of a site's file is ignored too. Nil or false: every column of a file must be a
    /// feature, the target or in ``ignored``.
    package var ignoresOtherColumns: Bool?
    /// What the model predicts.
    package var target: Target
    /// The shape of one array record; nil for tables, whose input is `1 x 1 x width`.
    package var arrayShape: FeatureShape?
    /// One transform per channel of array data (empty: the values as they are).
    package var arrayScaling: [NumericTransform]

    package init(
        columns: [Column], ignored: [String] = [], ignoresOtherColumns: Bool? = nil, target: Target,
        arrayShape: FeatureShape? = nil, arrayScaling: [NumericTransform] = []
    ) {
        self.columns = columns
        self.ignored = ignored
        self.ignoresOtherColumns = ignoresOtherColumns
        self.target = target
        self.arrayShape = arrayShape
        self.arrayScaling = arrayScaling
    }

    /// One feature column of a table.
    package struct Column: Hashable, Sendable, Codable {
        package var name: String
        package var kind: Kind

        package init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }

        package enum Kind: Hashable, Sendable, Codable {
            case numeric(NumericColumn)
            case categorical(CategoricalColumn)
        }

        /// How many input values the column becomes.
        package var width: Int {
            switch kind {
            case .numeric: 1
            case .categorical(let column): column.vocabulary.count
            }
        }
    }

    package struct NumericColumn: Hashable, Sendable, Codable {
        package var transform: NumericTransform
        /// The raw value that replaces a missing cell (before the transform); nil: a missing
        /// cell is an error naming file, row and column.
        package var imputation: Float?

        package init(transform: NumericTransform, imputation: Float? = nil) {
            self.transform = transform
            self.imputation = imputation
        }
    }

    package struct CategoricalColumn: Hashable, Sendable, Codable {
        /// The categories, in the order of their one-hot positions (sorted, as agreed).
        package var vocabulary: [String]
        /// Whether a missing cell or a category outside the vocabulary becomes all zeros
        /// (true) or an error (false).
        package var allowsUnknown: Bool
        /// The category that replaces a missing cell (the most frequent one over every site);
        /// nil: a missing cell is all zeros or an error, as ``allowsUnknown`` says.
        package var imputation: String?

        package init(vocabulary: [String], allowsUnknown: Bool = false, imputation: String? = nil) {
            self.vocabulary = vocabulary
            self.allowsUnknown = allowsUnknown
            self.imputation = imputation
        }
    }

    /// `(x - shift) * scale`, and the rule that produced it (for reports and exports).
    package struct NumericTransform: Hashable, Sendable, Codable {
        package enum Scaling: String, Hashable, Sendable, Codable, CaseIterable {
            case none, standardize, minmax
        }
        package var scaling: Scaling
        package var shift: Float
        package var scale: Float

        package init(scaling: Scaling, shift: Float, scale: Float) {
            self.scaling = scaling
            self.shift = shift
            self.scale = scale
        }

        package static let identity = NumericTransform(scaling: .none, shift: 0, scale: 1)

        @inlinable
        package func apply(_ x: Float) -> Float { (x - shift) * scale }

        /// The raw value whose transform is `y`: `y / scale + shift`.
        @inlinable
        package func invert(_ y: Float) -> Float { y / scale + shift }
    }

    /// The label or regression targets.
    package struct Target: Hashable, Sendable, Codable {
        /// The label column of a table (or the labels array's name in an `.npz`).
        package var name: String
        /// The class names of a classification task, in the order of the model's outputs (the
        /// raw cells' text, sorted as agreed); empty for regression.
        package var classes: [String]
        /// How a regression target is scaled for training: the network learns
        /// `(y - shift) * scale` and its outputs are mapped back with
        /// ``NumericTransform/invert(_:)`` wherever a prediction or a metric leaves the model
        /// (evaluation, `sextant predict`, the ONNX graph). Nil for classification, and for
        /// pipelines stored before targets were scaled (their targets are the raw values).
        package var transform: NumericTransform?

        package init(name: String, classes: [String], transform: NumericTransform? = nil) {
            self.name = name
            self.classes = classes
            self.transform = transform
        }
    }

    /// The width of the model's input vector.
    package var inputWidth: Int {
        arrayShape?.count ?? columns.reduce(0) { $0 + $1.width }
    }

    /// The model's input shape.
    package var inputShape: FeatureShape {
        arrayShape ?? FeatureShape(channels: inputWidth)
    }
}
