import Foundation
import SextantML
import SextantTestSupport
import Testing

@Suite("Site data: tables, statistics and the agreed pipeline")
struct SiteDataTests {
    static let header = "mrn,age,site,bp,diagnosis\n"
    static let siteA = header + "MRN-77,50,north,120,benign\nMRN-78,,south,130,malignant\nMRN-79,70,north,,benign\n"
    static let siteB = header + "MRN-80,40,east,110,malignant\nMRN-81,60,,140,benign\n"
    static let options = SiteDataOptions(
        label: "diagnosis", ignore: ["mrn"], categorical: ["site"], missing: .mean, scaling: .standardize)

    private func site(_ text: String, _ name: String = "a.csv", options: SiteDataOptions = options) throws -> SiteData {
        try SiteData(csv: Array(text.utf8), name: name, options: options)
    }

    @Test func statisticsCountSumsAndCategories() throws {
        let statistics = try site(Self.siteA).statistics(task: .classification)
        #expect(statistics.recordCount == 3)
        #expect(statistics.columns.map(\.name) == ["age", "site", "bp"])
        #expect(
            statistics.columns[0].numeric
                == NumericStatistics(count: 2, missing: 1, sum: 120, sumOfSquares: 7400, min: 50, max: 70))
        #expect(statistics.columns[1].categories == .init(counts: ["north": 2, "south": 1]))
        #expect(statistics.label.classCounts == ["benign": 2, "malignant": 1])
        try statistics.validate()
    }

    @Test func mergedStatisticsEqualThePooledTable() throws {
        let a = try site(Self.siteA).statistics(task: .classification)
        let b = try site(Self.siteB, "b.csv").statistics(task: .classification)
        let pooledText = Self.siteA + Self.siteB.dropFirst(Self.header.count)
        let pooled = try site(pooledText, "pooled.csv").statistics(task: .classification)
        // Integer data: every sum is exact, so the merge equals the pooled statistics exactly.
        #expect(try SiteStatistics.merged([a, b]) == pooled)
        #expect(try SiteStatistics.merged([b, a]).recordCount == pooled.recordCount)
        let fitted = try FeaturePipeline.fit(
            statistics: SiteStatistics.merged([a, b]), options: Self.options, task: .classification)
        #expect(fitted == (try FeaturePipeline.fit(statistics: pooled, options: Self.options, task: .classification)))
    }

    @Test func mergedStatisticsOfManyRealValuedSitesMatchPooledOnes() throws {
        var generator = SeededGenerator(seed: 11)
        var sites: [String] = []
        for _ in 0..<4 {
            var text = "x,y,label\n"
            for _ in 0..<500 {
                let x = Double.random(in: -1e3...1e3, using: &generator)
                let y = Double.random(in: 0...1, using: &generator)
                text += "\(x),\(y),\(Int.random(in: 0...2, using: &generator))\n"
            }
            sites.append(text)
        }
        let options = SiteDataOptions(label: "label")
        let merged = try SiteStatistics.merged(
            sites.map { try site($0, options: options).statistics(task: .classification) })
        let pooled = try site("x,y,label\n" + sites.map { $0.dropFirst(10) }.joined(), options: options)
            .statistics(task: .classification)
        for (m, p) in zip(merged.columns, pooled.columns) {
            let (m, p) = (m.numeric!, p.numeric!)
            #expect(m.count == p.count && m.min == p.min && m.max == p.max)
            // Compensated sums: the order of additions changes at most the last bits.
            #expect(abs(m.sum - p.sum) <= 1e-12 * max(1, abs(p.sum)) * Double(p.count))
            #expect(abs(m.sumOfSquares - p.sumOfSquares) <= 1e-12 * p.sumOfSquares)
        }
        let fromMerged = try FeaturePipeline.fit(statistics: merged, options: options, task: .classification)
        let fromPooled = try FeaturePipeline.fit(statistics: pooled, options: options, task: .classification)
        for (m, p) in zip(fromMerged.columns, fromPooled.columns) {
            guard case .numeric(let m) = m.kind, case .numeric(let p) = p.kind else {
                Issue.record("not numeric"); continue
            }
            #expect(abs(m.transform.shift - p.transform.shift) <= 1e-6 * max(1, abs(p.transform.shift)))
            #expect(abs(m.transform.scale - p.transform.scale) <= 1e-6 * p.transform.scale)
        }
    }

    @Test func fittedPipelineStandardisesOneHotEncodesAndImputes() throws {
        let statistics = try SiteStatistics.merged([
            try site(Self.siteA).statistics(task: .classification),
            try site(Self.siteB, "b.csv").statistics(task: .classification),
        ])
        let pipeline = try FeaturePipeline.fit(statistics: statistics, options: Self.options, task: .classification)
        #expect(pipeline.columns.map(\.name) == ["age", "site", "bp"])
        #expect(pipeline.target == .init(name: "diagnosis", classes: ["benign", "malignant"]))
        #expect(pipeline.ignored == ["mrn"])
        #expect(pipeline.inputWidth == 1 + 3 + 1)
        // age: 50, 70, 40, 60: mean 55, population variance 125.
        guard case .numeric(let age) = pipeline.columns[0].kind else { throw SextantMLError(code: .corruptData, "age") }
        #expect(age.imputation == 55)
        #expect(age.transform.shift == 55)
        #expect(abs(age.transform.scale - Float(1 / 125.0.squareRoot())) < 1e-7)
        guard case .categorical(let siteColumn) = pipeline.columns[1].kind else {
            throw SextantMLError(code: .corruptData, "site")
        }
        #expect(siteColumn.vocabulary == ["east", "north", "south"])
        #expect(siteColumn.imputation == "north")

        let dataset = try site(Self.siteB, "b.csv").dataset(pipeline: pipeline)
        #expect(dataset.count == 2)
        #expect(dataset.classCount == 2)
        #expect(dataset.labels == [1, 0])
        // Row 2: age 60, site missing (imputed north), bp 140 (mean 125, variance 125).
        let row = Array(dataset.features[5..<10])
        #expect(abs(row[0] - 5 / Float(125.0.squareRoot())) < 1e-6)
        #expect(row[1...3] == [0, 1, 0])
        #expect(abs(row[4] - 15 / Float(125.0.squareRoot())) < 1e-6)
    }

    @Test func minmaxNoneAndZeroVariance() throws {
        let text = "a,b,label\n1,5,0\n3,5,1\n"
        let minmax = try FeaturePipeline.fit(
            statistics: try site(text, options: .init(scaling: .minmax)).statistics(task: .classification),
            options: .init(scaling: .minmax), task: .classification)
        #expect(
            minmax.columns.map(\.kind) == [
                .numeric(.init(transform: .init(scaling: .minmax, shift: 1, scale: 0.5))),
                .numeric(.init(transform: .init(scaling: .minmax, shift: 5, scale: 1))),
            ])
        let standardized = try FeaturePipeline.fit(
            statistics: try site(text, options: .init()).statistics(task: .classification), options: .init(),
            task: .classification)
        #expect(
            standardized.columns[1].kind == .numeric(.init(transform: .init(scaling: .standardize, shift: 5, scale: 1)))
        )
        let none = try FeaturePipeline.fit(
            statistics: try site(text, options: .init(scaling: .none)).statistics(task: .classification),
            options: .init(scaling: .none), task: .classification)
        #expect(try site(text).dataset(pipeline: none).features == [1, 5, 3, 5])
    }

    @Test func numericClassesSortNumericallyAndRegressionKeepsTargets() throws {
        let text = "x,label\n1,10\n2,9\n3,-1\n4,9\n"
        let options = SiteDataOptions(scaling: .none)
        let classes = try FeaturePipeline.fit(
            statistics: try site(text, options: options).statistics(task: .classification), options: options,
            task: .classification)
        #expect(classes.target.classes == ["-1", "9", "10"])
        #expect(try site(text, options: options).dataset(pipeline: classes).labels == [2, 1, 0, 1])
        let regression = try FeaturePipeline.fit(
            statistics: try site(text, options: options).statistics(task: .regression), options: options,
            task: .regression)
        #expect(regression.target.classes.isEmpty)
        let dataset = try site(text, options: options).dataset(pipeline: regression)
        #expect(dataset.targets == [10, 9, -1, 9])
    }

    @Test("regression targets are standardised for training and mapped back in every metric")
    func regressionTargetsAreStandardised() throws {
        // Targets 90 and 110: mean 100, population standard deviation 10.
        let text = "x,score\n1,90\n2,110\n3,90\n4,110\n"
        let options = SiteDataOptions(label: "score")
        let pipeline = try FeaturePipeline.fit(
            statistics: try site(text, options: options).statistics(task: .regression), options: options,
            task: .regression)
        let transform = try #require(pipeline.target.transform)
        #expect(transform.scaling == .standardize && transform.shift == 100 && abs(transform.scale - 0.1) < 1e-7)
        let dataset = try site(text, options: options).dataset(pipeline: pipeline)
        #expect(dataset.targets == [-1, 1, -1, 1])
        #expect(dataset.targetTransform == transform)
        #expect(try dataset.split(validationFraction: 0.5, seed: 3).validation.targetTransform == transform)
        // A network whose outputs are all 0 predicts the mean, 100: 10 away from every target in
        // the target's units (1 in the standardised ones, which the metrics must not report).
        let network = try ModelSpec(task: TaskSpec(type: .regression), layers: [.linear(out: nil)]).makeNetwork(
            input: dataset.shape, classCount: 0, seed: 1)
        network.loadParameters([Float](repeating: 0, count: network.parameterCount))
        let metrics = try #require(network.evaluate(on: dataset).metrics)
        #expect(abs(metrics["mae"]! - 10) < 1e-4)
        #expect(abs(metrics["rmse"]! - 10) < 1e-4)
        #expect(abs(metrics["r2"]! - 0) < 1e-6)
        let unscaled = try FeaturePipeline.fit(
            statistics: try site(text, options: .init(label: "score", scaling: .none)).statistics(task: .regression),
            options: .init(label: "score", scaling: .none), task: .regression)
        #expect(
            try site(text, options: .init(label: "score", scaling: .none)).dataset(pipeline: unscaled).targets == [
                90, 110, 90, 110,
            ])
    }

    @Test func selectedFeaturesIgnoreEveryOtherColumn() throws {
        let options = SiteDataOptions(label: "diagnosis", features: ["bp", "age"], missing: .mean)
        let statistics = try site(Self.siteA, options: options).statistics(task: .classification)
        #expect(statistics.columns.map(\.name) == ["age", "bp"])
        let pipeline = try FeaturePipeline.fit(statistics: statistics, options: options, task: .classification)
        #expect(try site(Self.siteB, options: options).dataset(pipeline: pipeline).count == 2)
    }

    @Test func splitIsSeededAndDisjoint() throws {
        var text = "x,label\n"
        for i in 0..<100 { text += "\(i),\(i % 2)\n" }
        let options = SiteDataOptions(scaling: .none)
        let pipeline = try FeaturePipeline.fit(
            statistics: try site(text, options: options).statistics(task: .classification), options: options,
            task: .classification)
        let dataset = try site(text, options: options).dataset(pipeline: pipeline)
        let (training, validation) = try dataset.split(validationFraction: 0.2, seed: 7)
        #expect(training.count == 80 && validation.count == 20)
        #expect(Set(training.features + validation.features).count == 100)
        let again = try dataset.split(validationFraction: 0.2, seed: 7)
        #expect(again.validation.features == validation.features)
        #expect(try dataset.split(validationFraction: 0.2, seed: 8).validation.features != validation.features)
        #expect(try dataset.split(validationFraction: 0, seed: 7).validation.count == 0)
        expectMLError(.invalidArgument, containing: ["1.5"]) { try dataset.split(validationFraction: 1.5, seed: 7) }
    }

    // MARK: - Bad input, one line each

    @Test func missingValuesAreRefusedByDefault() {
        let refuse = SiteDataOptions(label: "diagnosis", ignore: ["mrn"], categorical: ["site"])
        expectMLError(
            .corruptData, containing: ["a.csv line 3 (row 2), column 'age'", "missing value", "data.missing"]
        ) {
            try site(Self.siteA, options: refuse).statistics(task: .classification)
        }
        expectMLError(.corruptData, containing: ["b.csv line 3 (row 2), column 'site'", "missing value"]) {
            try site(Self.siteB, "b.csv", options: refuse).statistics(task: .classification)
        }
        var mostFrequent = Self.options
        mostFrequent.missing = .mostFrequent
        expectMLError(.corruptData, containing: ["a.csv line 3 (row 2), column 'age'", "most_frequent", "mean"]) {
            try site(Self.siteA, options: mostFrequent).statistics(task: .classification)
        }
    }

    @Test func aNonNumericCellInANumericColumn() {
        expectMLError(
            .corruptData, containing: ["a.csv line 2 (row 1), column 'mrn'", "'MRN-77' is not a number", "data.ignore"]
        ) {
            try site(Self.siteA, options: .init(label: "diagnosis", categorical: ["site"], missing: .mean))
                .statistics(task: .classification)
        }
    }

    @Test func aSiteWhoseColumnsDiffer() throws {
        let pipeline = try FeaturePipeline.fit(
            statistics: try site(Self.siteA).statistics(task: .classification), options: Self.options,
            task: .classification)
        let renamed = "mrn,age,region,bp,diagnosis\nMRN-1,50,north,120,benign\n"
        expectMLError(.corruptData, containing: ["c.csv", "without 'site'", "with 'region' besides"]) {
            try site(renamed, "c.csv").dataset(pipeline: pipeline)
        }
        let otherStatistics = try site(
            renamed, "c.csv", options: .init(label: "diagnosis", ignore: ["mrn"], categorical: ["region"])
        )
        .statistics(task: .classification)
        var merged = try site(Self.siteA).statistics(task: .classification)
        expectMLError(.corruptData, containing: ["without 'site'", "with 'region' besides"]) {
            try merged.merge(otherStatistics)
        }
    }

    @Test func aLabelOutsideTheAgreedClasses() throws {
        let pipeline = try FeaturePipeline.fit(
            statistics: try site(Self.siteA).statistics(task: .classification), options: Self.options,
            task: .classification)
        let text = Self.header + "MRN-1,50,north,120,unknown\n"
        expectMLError(
            .corruptData,
            containing: [
                "d.csv line 2 (row 1), column 'diagnosis'", "'unknown' is outside the agreed classes",
                "'benign', 'malignant'",
            ]
        ) {
            try site(text, "d.csv").dataset(pipeline: pipeline)
        }
        let unseen = Self.header + "MRN-1,50,west,120,benign\n"
        expectMLError(.corruptData, containing: ["column 'site'", "'west' is not in the federation's vocabulary"]) {
            try site(unseen, "e.csv").dataset(pipeline: pipeline)
        }
    }

    @Test func configurationMistakes() {
        expectMLError(.corruptData, containing: ["a.csv", "no label column 'outcome'", "'diagnosis'"]) {
            try site(Self.siteA, options: .init(label: "outcome")).statistics(task: .classification)
        }
        expectMLError(.corruptData, containing: ["data.features names 'weight'"]) {
            try site(Self.siteA, options: .init(label: "diagnosis", features: ["age", "weight"])).statistics(
                task: .classification)
        }
        expectMLError(.invalidArgument, containing: ["'diagnosis' is also in data.ignore"]) {
            try site(Self.siteA, options: .init(label: "diagnosis", ignore: ["diagnosis"]))
        }
        expectMLError(.corruptData, containing: ["column 'diagnosis'", "not a finite number"]) {
            try site(Self.siteA, options: Self.options).statistics(task: .regression)
        }
        expectMLError(.unsupportedFormat, containing: ["data.parquet", "unknown data format"]) {
            try SiteData(contentsOf: URL(fileURLWithPath: "/tmp/data.parquet"), options: Self.options)
        }
    }

    @Test func hostileStatisticsAreRefused() throws {
        let honest = try site(Self.siteA).statistics(task: .classification)
        var inflated = honest
        inflated.columns[0].numeric!.count = 1_000
        var infinite = honest
        infinite.columns[2].numeric!.sum = .infinity
        var tooManyClasses = honest
        tooManyClasses.label.classCounts = Dictionary(uniqueKeysWithValues: (0..<1001).map { ("c\($0)", 1) })
        tooManyClasses.recordCount = 1001
        tooManyClasses.columns = []
        var lying = honest
        lying.columns[1].categories!.counts["north"] = 50
        for (statistics, problem) in [
            (inflated, "do not fit 3 records"), (infinite, "not a finite number"),
            (tooManyClasses, "more than 1000 distinct"), (lying, "outside 1...3"),
        ] {
            expectMLError(.corruptData, containing: ["site statistics", problem]) { try statistics.validate() }
        }
        // The JSON a client sends round-trips.
        let json = try JSONEncoder().encode(honest)
        #expect(try JSONDecoder().decode(SiteStatistics.self, from: json) == honest)
    }
}
