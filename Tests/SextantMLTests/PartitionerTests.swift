import Testing

@testable import SextantML

/// 2000 labels over 10 classes with unequal class sizes (class c is drawn with weight c + 1).
private let labels: [Int32] = {
    var generator = SeededGenerator(seed: 99)
    return (0..<2000).map { _ in
        var u = Int.random(in: 0..<55, using: &generator)
        var c: Int32 = 0
        while u >= Int(c) + 1 {
            u -= Int(c) + 1
            c += 1
        }
        return c
    }
}()

private let schemes: [Partitioner] = [.iid, .classes, .dualDirichletDefault, .dualDirichlet(alpha1: 0.5, alpha2: 0.1)]

/// Per-client class histograms.
private func histograms(_ partition: Partition, classCount: Int = 10) -> [[Int]] {
    partition.clients.map { indices in
        var histogram = [Int](repeating: 0, count: classCount)
        for index in indices { histogram[Int(labels[index])] += 1 }
        return histogram
    }
}

@Suite("Partitioner")
struct PartitionerTests {
    @Test func labelsCoverEveryClass() {
        let histogram = Dataset(
            shape: FeatureShape(channels: 1), classCount: 10, features: labels.map(Float.init), labels: labels
        )
        .classHistogram()
        #expect(histogram.allSatisfy { $0 > 20 })
        #expect(histogram.reduce(0, +) == 2000)
    }

    @Test(arguments: schemes, [1, 3, 7, 20])
    func everyExampleAssignedExactlyOnce(_ scheme: Partitioner, clients: Int) throws {
        let partition = try scheme.split(labels: labels, classCount: 10, clients: clients, seed: 1)
        #expect(partition.clients.count == clients)
        #expect(partition.clients.joined().sorted() == Array(labels.indices))
    }

    @Test func iidSharesAreEqual() throws {
        let partition = try Partitioner.iid.split(labels: labels, classCount: 10, clients: 7, seed: 2)
        let sizes = partition.clients.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        #expect(partition.classShares == nil)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8, 12])
    func classPartitionFollowsThePaper(_ clients: Int) throws {
        let range = Partitioner.classCountRange(clients: clients)
        for seed in UInt64(0)..<3 {
            let partition = try Partitioner.classes.split(labels: labels, classCount: 10, clients: clients, seed: seed)
            let shares = try #require(partition.classShares)
            let data = histograms(partition)
            for client in 0..<clients {
                // The classes the definition gives the client, and those it actually received.
                let held = Set((0..<10).filter { shares[$0][client] > 0 })
                let received = Set((0..<10).filter { data[client][$0] > 0 })
                #expect(range.contains(held.count), "m=\(clients) client \(client) holds \(held.count) classes")
                #expect(received.isSubset(of: held))
                #expect(
                    range.contains(received.count), "m=\(clients) client \(client) received \(received.count) classes")
            }
            // Every class is covered, entirely.
            for c in 0..<10 {
                #expect(data.reduce(0) { $0 + $1[c] } == labels.filter { $0 == c }.count)
                #expect(abs(shares[c].reduce(0, +) - 1) < 1e-9)
            }
        }
    }

    @Test func classCountRangeTable() {
        let expected: [Int: ClosedRange<Int>] = [
            1: 10...10, 2: 7...8, 3: 6...8, 4: 5...7, 5: 5...6, 6: 4...6, 7: 4...5, 8: 3...5, 50: 3...5,
        ]
        for (m, range) in expected {
            #expect(Partitioner.classCountRange(clients: m) == range, "m = \(m)")
        }
    }

    @Test(arguments: [Partitioner.dualDirichletDefault, .dualDirichlet(alpha1: 1, alpha2: 0.1), .classes], [4, 10])
    func countsMatchClassShares(_ scheme: Partitioner, clients: Int) throws {
        let partition = try scheme.split(labels: labels, classCount: 10, clients: clients, seed: 12)
        let shares = try #require(partition.classShares)
        let data = histograms(partition)
        for c in 0..<10 {
            let n = Double(labels.filter { $0 == c }.count)
            #expect(abs(shares[c].reduce(0, +) - 1) < 1e-9)
            for client in 0..<clients {
                let expected = shares[c][client] * n
                #expect(
                    abs(Double(data[client][c]) - expected) < 1,
                    "class \(c) client \(client): \(data[client][c]) vs \(expected)")
            }
        }
    }

    @Test func dualDirichletIsNonIID() throws {
        // With alpha2 = 0.1 each client's class mix is concentrated: some client misses a
        // class it would hold ~20 examples of under an IID split.
        let partition = try Partitioner.dualDirichlet(alpha1: 10, alpha2: 0.1).split(
            labels: labels, classCount: 10, clients: 10, seed: 3)
        #expect(histograms(partition).contains { $0.contains(0) })
    }

    @Test func dualDirichletConcentrationsControlSizesAndMixes() throws {
        // alpha1 -> 0: the client weights w ~ Dir(alpha1 / m) put (almost) all mass on one
        // client, whatever the class mixes.
        let skewed = try Partitioner.dualDirichlet(alpha1: 1e-3, alpha2: 0.5).split(
            labels: labels, classCount: 10, clients: 5, seed: 4)
        #expect(skewed.clients.map(\.count).max()! > 1800)
        // alpha1, alpha2 -> infinity: equal client weights and every class mix equal to the
        // class frequencies, i.e. close to IID. With concentrations of 1e5 the draws deviate from
        // their means by ~sqrt(1 / 1e5) relative: client sizes within 10 % of 400 and each
        // client's count of class c within 10 % of n_c / 5 plus 2 for rounding.
        let flat = try Partitioner.dualDirichlet(alpha1: 1e5, alpha2: 1e5).split(
            labels: labels, classCount: 10, clients: 5, seed: 4)
        let data = histograms(flat)
        for client in 0..<5 {
            #expect(abs(flat.clients[client].count - 400) < 40)
            for c in 0..<10 {
                let expected = Double(labels.filter { $0 == c }.count) / 5
                #expect(abs(Double(data[client][c]) - expected) < 0.1 * expected + 2, "client \(client) class \(c)")
            }
        }
    }

    @Test(arguments: schemes)
    func seedDeterminesThePartition(_ scheme: Partitioner) throws {
        let a = try scheme.split(labels: labels, classCount: 10, clients: 5, seed: 7)
        let b = try scheme.split(labels: labels, classCount: 10, clients: 5, seed: 7)
        let c = try scheme.split(labels: labels, classCount: 10, clients: 5, seed: 8)
        #expect(a.clients == b.clients)
        #expect(a.classShares == b.classShares)
        #expect(a.clients != c.clients)
    }

    @Test(arguments: schemes)
    func rejectsImpossibleClientCounts(_ scheme: Partitioner) {
        do {
            _ = try scheme.split(labels: labels, classCount: 10, clients: 0, seed: 1)
            Issue.record("0 clients accepted")
        } catch let error as SextantMLError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("clients"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        do {
            _ = try scheme.split(labels: Array(labels.prefix(5)), classCount: 10, clients: 6, seed: 1)
            Issue.record("more clients than examples accepted")
        } catch let error as SextantMLError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("5 examples"))
            #expect(error.message.contains("6 clients"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func rejectsNonPositiveConcentrations() {
        #expect(throws: SextantMLError.self) {
            _ = try Partitioner.dualDirichlet(alpha1: 0, alpha2: 0.5).split(
                labels: labels, classCount: 10, clients: 3, seed: 1)
        }
        #expect(throws: SextantMLError.self) {
            _ = try Partitioner.dualDirichlet(alpha1: nil, alpha2: -1).split(
                labels: labels, classCount: 10, clients: 3, seed: 1)
        }
    }

    @Test func parsesNames() throws {
        #expect(try Partitioner(name: "IID") == .iid)
        #expect(try Partitioner(name: "class") == .classes)
        #expect(
            try Partitioner(name: "dual-dirichlet", alpha1: 2, alpha2: 0.3) == .dualDirichlet(alpha1: 2, alpha2: 0.3))
        do {
            _ = try Partitioner(name: "shards")
            Issue.record("unknown partition accepted")
        } catch let error as SextantMLError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("shards"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func summaryHasOneLinePerClient() throws {
        let partition = try Partitioner.classes.split(labels: labels, classCount: 10, clients: 4, seed: 5)
        let lines = partition.summary(labels: labels, classCount: 10).split(separator: "\n")
        #expect(lines.count == 1 + 4)
        for (client, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: " ").compactMap { Int($0) }
            #expect(fields.count == 2 + 10)
            #expect(fields[0] == client)
            #expect(fields[1] == partition.clients[client].count)
            #expect(fields[2...].reduce(0, +) == partition.clients[client].count)
        }
    }

    @Test(arguments: [
        (7, [1.0, 1, 1]),
        (100, [0.2, 0.3, 0.5]),
        (10, [1e-9, 1e-9, 1]),
        (1, [1.0, 1, 1, 1]),
        (0, [2.0, 3]),
        (1999, [0.1, 0.7, 0.05, 0.15, 0.33, 1e-4]),
        (5, [0.0, 1, 0]),
    ])
    func apportionSumsExactly(_ total: Int, _ weights: [Double]) {
        let counts = Partitioner.apportion(total, weights: weights)
        #expect(counts.count == weights.count)
        #expect(counts.reduce(0, +) == total)
        let sum = weights.reduce(0, +)
        for (count, weight) in zip(counts, weights) {
            #expect(count >= 0)
            #expect(abs(Double(count) - Double(total) * weight / sum) < 1)
        }
    }
}
