import Foundation
import SextantML
import SextantTestSupport
import Testing

@testable import SextantRuntime

/// The `data:` keys of a site's own file and `clients.data`.
@Suite struct SiteDataConfigurationTests {
    @Test("the table keys decode into the sites' options, with documented defaults")
    func tableKeys() throws {
        let yaml = """
            run: {seed: 9}
            data:
              dataset: table
              label: diagnosis
              ignore: [mrn]
              categorical: [site]
              missing: mean
              scaling: minmax
            clients:
              count: 3
              data: "sites/{name}-{index}.csv"
            """
        let configuration = try decodeConfiguration(yaml)
        #expect(
            configuration.data.site
                == SiteDataOptions(
                    label: "diagnosis", ignore: ["mrn"], categorical: ["site"], missing: .mean, scaling: .minmax))
        #expect(configuration.clients.dataPath(index: 2, name: "oslo") == "sites/oslo-2.csv")
        let defaults = try decodeConfiguration("data: {dataset: table}")
        #expect(defaults.data.site == SiteDataOptions())
        let arrays = try decodeConfiguration(
            "data: {dataset: arrays, features_array: images, labels_array: digits, layout: nhwc}\nclients: {data: a.npz}"
        )
        #expect(arrays.data.site.featuresArray == "images" && arrays.data.site.labelsArray == "digits")
        #expect(arrays.data.site.layout == .nhwc)
    }

    @Test(
        "bad data keys are refused in one line naming the key",
        arguments: [
            ("data: {dataset: table, missing: median}", "data.missing"),
            ("data: {dataset: table, scaling: robust}", "data.scaling"),
            ("data: {dataset: arrays, layout: chw}", "data.layout"),
            ("data: {dataset: parquet}", "data.dataset"),
            ("data: {dataset: table, label: y, ignore: [y]}", "'y' is also in data.ignore"),
            ("data: {dataset: table, features: [a], categorical: [b]}", "'b' is in data.categorical but not"),
            ("data: {dataset: table, ignore: mrn}", "data.ignore"),
            ("clients: {data: \"sites/{name}.csv\"}", "clients.data"),
            ("data: {dataset: table}\nclients: {data: \"sites/{name}.npz\"}", "reads .csv"),
            ("data: {dataset: table}\nclients: {data: \"sites/{site}.csv\"}", "{site} is no placeholder"),
        ])
    func refusals(_ yaml: String, _ fragment: String) {
        let message = refusal(of: yaml)
        #expect(message?.contains(fragment) == true, "\(message ?? "accepted")")
    }

    @Test("sextant train's pooled sites: the pipeline of the merged statistics, each site's validation share")
    func pooledSites() throws {
        let directory = try TemporaryDirectory()
        let a = try directory.write(
            Array("id,x,colour,label\nA1,1,red,yes\nA2,2,blue,no\nA3,3,red,yes\n".utf8), to: "a.csv")
        let b = try directory.write(Array("id,x,colour,label\nB1,5,,no\nB2,,blue,yes\n".utf8), to: "b.csv")
        let configuration = try decodeConfiguration(
            "data: {dataset: table, ignore: [id], categorical: [colour], missing: mean}\nevaluation: {validation_fraction: 0.4}"
        )
        let (pipeline, training, validation) = try FederationData.pooledSites(
            paths: [a.path, b.path], configuration: configuration)
        #expect(pipeline.target.classes == ["no", "yes"])
        #expect(pipeline.inputWidth == 3)
        // 0.4 of 3 records, rounded down, is 1; of 2 it is 0.
        #expect(training.count == 4 && validation.count == 1)
        let bad = try directory.write(Array("id,x,shade,label\nC1,1,red,yes\n".utf8), to: "c.csv")
        #expect(throws: RuntimeError.self) {
            try FederationData.pooledSites(paths: [a.path, bad.path], configuration: configuration)
        }
    }
}
