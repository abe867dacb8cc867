import Foundation
import SextantML

extension FederationData {
    /// Client `index`'s own data file (`clients.data` with `{index}` and `{name}` replaced,
    /// or what `sextant-client --data` set there), read with the `data:` options.
    package static func siteData(_ configuration: FederationConfiguration, index: Int, name: String) throws
        -> SiteData
    {
        guard configuration.data.isSiteData else {
            throw RuntimeError(
                .invalidConfiguration,
                "data.dataset is \(configuration.data.dataset): sites' own files need table or arrays")
        }
        guard let path = configuration.clients.dataPath(index: index, name: name) else {
            throw RuntimeError(
                .invalidConfiguration,
                "data.dataset is \(configuration.data.dataset) but no file is named: set clients.data (e.g. \"sites/{name}.csv\") or give sextant-client --data PATH"
            )
        }
        return try siteData(path: path, options: configuration.data.site)
    }

    /// The site file at `path`; a file or format error becomes one `dataUnavailable` line.
    package static func siteData(path: String, options: SiteDataOptions) throws -> SiteData {
        do {
            return try SiteData(contentsOf: URL(fileURLWithPath: path), options: options)
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }

    /// Sites' files pooled for centralised training (`sextant train --data ... --data ...`):
    /// the pipeline fitted from their merged statistics, exactly as a federation of these sites
    /// would agree on it, and each site's validation share (`evaluation.validation_fraction`)
    /// set aside as `client-INDEX` of `sextant launch` does, file INDEX being its data.
    package static func pooledSites(paths: [String], configuration: FederationConfiguration) throws -> (
        pipeline: FeaturePipeline, training: Dataset, validation: Dataset
    ) {
        let task = configuration.model.spec.task.type
        let options = configuration.data.site
        for path in paths {
            let isTable = URL(fileURLWithPath: path).pathExtension.lowercased() == "csv"
            guard isTable == (configuration.data.dataset == "table") else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "\(path): data.dataset \(configuration.data.dataset) reads \(isTable ? ".npy, .npz or IDX files" : ".csv files")"
                )
            }
        }
        do {
            let sites = try paths.map { try SiteData(contentsOf: URL(fileURLWithPath: $0), options: options) }
            var statistics: [SiteStatistics] = []
            for (site, path) in zip(sites, paths) {
                do {
                    statistics.append(try site.statistics(task: task))
                    try statistics.last!.validate()
                    if statistics.count > 1 { _ = try SiteStatistics.merged(statistics) }
                } catch let error as SextantMLError where !error.message.hasPrefix(site.name) {
                    throw SextantMLError(code: error.code, "\(path): \(error.message)")
                }
            }
            let pipeline = try FeaturePipeline.fit(
                statistics: try SiteStatistics.merged(statistics), options: options, task: task)
            var training: [Dataset] = []
            var validation: [Dataset] = []
            for (index, site) in sites.enumerated() {
                let split = try site.dataset(pipeline: pipeline).splittingValidation(
                    fraction: configuration.evaluation.validationFraction,
                    seed: Dataset.validationSeed(
                        clientSeed: configuration.clientSeed(index: index), name: "client-\(index)"))
                training.append(split.train)
                validation.append(split.validation)
            }
            return (pipeline, try Dataset.pooled(training), try Dataset.pooled(validation))
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }
}
