import ArgumentParser
import Foundation
import SextantAudit
import SextantML

/// `sextant-audit synth`: a federation with subject-level structure, written to files.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a subject federation: client partitions, the audit set and the ground truth.",
        discussion: """
            Writes into --output: client-NNN.csv (tabular) or client-NNN.sxd (images), one \
            per client, each record tagged with its subject; audit.csv or audit.sxd, held-out \
            samples of every subject; ground-truth.json, membership and silos of every subject.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case tabular
        case fashionMNIST = "fashion-mnist"
    }

    @Option(help: "Directory to write into (created if needed).") var output: String
    @Option(help: "tabular or fashion-mnist.") var kind = Kind.tabular
    @Option(help: "Subjects, members and non-members.") var subjects = 100
    @Option(help: "Clients (silos).") var clients = 4
    @Option(help: "Training records per member subject.") var recordsPerSubject = 20
    @Option(help: "Held-out audit samples per subject.") var auditSamples = 10
    @Option(help: "Silos each member's records are spread over.") var silosPerSubject = 2
    @Option(help: "Fraction of subjects that are members (without --independent-inclusion).") var memberFraction = 0.5
    @Flag(
        help:
            "Make each subject a member by an independent fair coin (the one-run audit bound needs it; --member-fraction is then ignored)."
    )
    var independentInclusion = false
    @Option(help: "Dirichlet concentration of each subject's class mix.") var labelConcentration = 1.0
    @Option(help: "Random seed.") var seed: UInt64 = 0

    @Option(help: "Tabular: features.") var features = 20
    @Option(help: "Tabular: classes.") var classes = 4
    @Option(help: "Tabular: separation of the class means.") var separation = 2.0
    @Option(help: "Tabular: size of each subject's personal shift, relative to the class means' spread.")
    var subjectShift = 2.0
    @Option(help: "Tabular: standard deviation of a record around its subject's mean.") var recordNoise = 1.0

    @Option(help: "Images: the Fashion-MNIST directory.") var fashionMnist = FashionMNIST.defaultDirectory.path
    @Option(help: "Images: contrast factors uniform in 1 +- this.") var contrast = 0.3
    @Option(help: "Images: brightness offsets uniform in +- this (pixel units).") var brightness = 0.15
    @Option(help: "Images: maximum translation in pixels.") var translation = 2
    @Option(help: "Images: standard deviation of the subject's additive pattern.") var pattern = 0.15

    func run() throws {
        var configuration = SubjectFederationGenerator.Configuration()
        configuration.subjects = subjects
        configuration.clients = clients
        configuration.recordsPerSubject = recordsPerSubject
        configuration.auditSamplesPerSubject = auditSamples
        configuration.silosPerSubject = silosPerSubject
        configuration.memberFraction = memberFraction
        configuration.independentInclusion = independentInclusion
        configuration.labelConcentration = labelConcentration
        configuration.seed = seed
        let generator = SubjectFederationGenerator(configuration: configuration)
        let federation: SubjectFederation
        switch kind {
        case .tabular:
            var tabular = SubjectFederationGenerator.Tabular()
            tabular.features = features
            tabular.classCount = classes
            tabular.separation = separation
            tabular.subjectShift = subjectShift
            tabular.recordNoise = recordNoise
            federation = try generator.makeTabular(tabular)
        case .fashionMNIST:
            var style = SubjectFederationGenerator.ImageStyle()
            style.contrast = contrast
            style.brightness = brightness
            style.translation = translation
            style.pattern = pattern
            let directory = URL(fileURLWithPath: fashionMnist)
            federation = try generator.makeFashionMNIST(
                train: try FashionMNIST.load(.train, from: directory),
                test: try FashionMNIST.load(.test, from: directory),
                style: style)
        }
        let truth = try federation.write(to: URL(fileURLWithPath: output))
        let members = truth.subjects.filter(\.member).count
        print("wrote \(truth.kind) subject federation to \(output)")
        print("  subjects: \(truth.subjects.count) (\(members) members, \(truth.subjects.count - members) non-members)")
        print("  clients:  \(truth.clients.map { "\($0.file) (\($0.records))" }.joined(separator: ", "))")
        print("  audit:    \(truth.auditSet) (\(federation.auditSet.count) samples)")
        print("  truth:    ground-truth.json")
    }
}
