import Foundation
import SextantML

extension FederationData {
    /// The partitions of clients `indices`, decoded together: K client sessions in one
    /// process (`sextant-client --sessions K`) then read and decompress the IDX files once
    /// instead of K times, which is most of a small client's start-up.
    package static func loadPartitions(_ configuration: FederationConfiguration, indices: Range<Int>) throws
        -> [Dataset]
    {
        let count = configuration.clients.count
        guard indices.lowerBound >= 0, indices.upperBound <= count else {
            throw RuntimeError(
                .invalidConfiguration,
                "clients \(indices.lowerBound)..<\(indices.upperBound) are outside 0..<\(count) (clients.count)")
        }
        guard indices.count > 1, configuration.data.dataset == "fashion-mnist" else {
            return try indices.map { try loadPartition(configuration, index: $0) }
        }
        do {
            let data = configuration.data
            let directory = URL(fileURLWithPath: data.directory)
            var labels = try FashionMNIST.labels(.train, from: directory)
            if data.trainingLimit > 0 { labels = Array(labels.prefix(data.trainingLimit)) }
            let partition = try data.partitioner.split(
                labels: labels, classCount: 10, clients: count, seed: configuration.run.seed)
            for index in indices where partition.clients[index].isEmpty {
                throw RuntimeError(
                    .dataUnavailable,
                    "client \(index) received no examples from the \(data.partition) partition; change run.seed or the partition"
                )
            }
            let all = try FashionMNIST.load(.train, from: directory, indices: indices.flatMap { partition.clients[$0] })
            var start = 0
            return indices.map { index in
                let size = partition.clients[index].count
                defer { start += size }
                return all.subset(start..<(start + size))
            }
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
    }
}
