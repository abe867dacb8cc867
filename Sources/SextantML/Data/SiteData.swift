import Foundation

/// One site's own data file, read with the federation's options: a CSV table, or NumPy
/// arrays (`.npy`, `.npz`) and IDX images (`.idx`, `.gz`), by the file's extension.
///
/// A run uses it twice: ``statistics(task:)`` at the start (what the site tells the
/// federation: counts and sums, never records), then ``dataset(pipeline:)`` once the
/// federation has fitted the pipeline from every site's statistics. ``Dataset/split(validationFraction:seed:)``
/// then sets the site's validation share aside.
package struct SiteData: Sendable {
    enum Content: Sendable {
        case table(SiteTable)
        case arrays(SiteArrays)
    }

    /// The file's name, as errors give it.
    package let name: String
    package let options: SiteDataOptions
    let content: Content

    /// Reads the file at `url` (its header, for a table).
    package init(contentsOf url: URL, options: SiteDataOptions) throws {
        try options.validate()
        self.options = options
        name = url.lastPathComponent
        switch url.pathExtension.lowercased() {
        case "csv":
            content = .table(SiteTable(parser: try CSVParser(contentsOf: url)))
        case "npy", "npz", "gz", "idx",
            _ where url.lastPathComponent.contains("-idx"):
            content = .arrays(try SiteArrays(contentsOf: url, options: options))
        default:
            throw SextantMLError(
                code: .unsupportedFormat,
                "\(url.path): unknown data format '.\(url.pathExtension)' (use .csv, .npy, .npz, or IDX as .idx or .gz)"
            )
        }
    }

    /// CSV text in memory (tests, tools); `name` appears in errors.
    package init(csv bytes: [UInt8], name: String, options: SiteDataOptions) throws {
        try options.validate()
        self.options = options
        self.name = name
        content = .table(SiteTable(parser: try CSVParser(bytes: bytes, name: name)))
    }

    /// Arrays in memory (tests, tools): features of one record per row and one label each.
    package init(
        features: NumPyArray, labels: NumPyArray, name: String, options: SiteDataOptions
    ) throws {
        try options.validate()
        self.options = options
        self.name = name
        content = .arrays(try SiteArrays(name: name, features: features, labels: labels, layout: options.layout))
    }

    /// What this site tells the federation about its data for a task of `task`.
    package func statistics(task: TaskSpec.Kind) throws -> SiteStatistics {
        switch content {
        case .table(let table): try table.statistics(options: options, task: task)
        case .arrays(let arrays): try arrays.statistics(task: task)
        }
    }

    /// The site's records as the model's inputs and targets, through the agreed pipeline.
    package func dataset(pipeline: FeaturePipeline) throws -> Dataset {
        switch content {
        case .table(let table): try table.dataset(pipeline: pipeline, subject: options.subject)
        case .arrays(let arrays): try arrays.dataset(pipeline: pipeline)
        }
    }
}
