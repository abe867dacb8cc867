import Foundation
import SextantML

/// The data a federation is trained and tested on, loaded as the configuration says.
package enum FederationData {
    /// The test split the server evaluates the global model on.
    package static func loadTestSet(_ data: DataSection) throws -> Dataset {
        if data.dataset == "subject-federation" {
            // Image federations are tested on Fashion-MNIST's test split; tabular ones on
            // the subjects' held-out audit samples, the only unseen data they have.
            let federation = try SubjectFederationFiles(directory: data.directory)
            if federation.truth.kind == "fashion-mnist" {
                var fashion = data
                fashion.directory = FashionMNIST.defaultDirectory.path
                fashion.dataset = "fashion-mnist"
                return try loadTestSet(fashion)
            }
            let audit = try federation.auditSet()
            return data.evaluationLimit > 0 ? audit.prefix(data.evaluationLimit) : audit
        }
        do {
            let test = try FashionMNIST.load(.test, from: URL(fileURLWithPath: data.directory))
            return data.evaluationLimit > 0 ? test.prefix(data.evaluationLimit) : test
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }

    /// Client `index`'s partition of the training split.
    package static func loadPartition(_ configuration: FederationConfiguration, index: Int) throws -> Dataset {
        let count = configuration.clients.count
        guard index >= 0, index < count else {
            throw RuntimeError(.invalidConfiguration, "client index \(index) is outside 0..<\(count) (clients.count)")
        }
        if configuration.data.dataset == "subject-federation" {
            let federation = try SubjectFederationFiles(directory: configuration.data.directory)
            guard federation.truth.clients.count == count else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "clients.count is \(count) but \(configuration.data.directory) holds partitions for \(federation.truth.clients.count) clients"
                )
            }
            return try federation.partition(index)
        }
        do {
            let data = configuration.data
            let directory = URL(fileURLWithPath: data.directory)
            var labels = try FashionMNIST.labels(.train, from: directory)
            if data.trainingLimit > 0 { labels = Array(labels.prefix(data.trainingLimit)) }
            let partition = try data.partitioner.split(
                labels: labels, classCount: 10, clients: count, seed: configuration.run.seed)
            let indices = partition.clients[index]
            guard !indices.isEmpty else {
                throw RuntimeError(
                    .dataUnavailable,
                    "client \(index) received no examples from the \(data.partition) partition; change run.seed or the partition"
                )
            }
            return try FashionMNIST.load(.train, from: directory, indices: indices)
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }
}
