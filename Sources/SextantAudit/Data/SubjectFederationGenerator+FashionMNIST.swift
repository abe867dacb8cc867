import Foundation
import SextantML

extension SubjectFederationGenerator {
    /// A Fashion-MNIST federation with a subject overlay: each subject owns
    /// `recordsPerSubject` images of `train` (members' go to their silos) and
    /// `auditSamplesPerSubject` images of `test` (its audit samples), chosen by its
    /// personal class mix, and every image a subject owns is drawn in the subject's
    /// personal style (``ImageStyle``): in pixel units, p' = clamp(k (p - 1/2) + 1/2 + b
    /// + pattern, 0, 1) after a translation by (dx, dy) pixels, with the subject's own
    /// contrast k, brightness b, shift and additive Gaussian pattern.
    ///
    /// `train` and `test` are standardised with `normalization` (as ``FashionMNIST/load``
    /// returns them); the styled images are standardised the same way.
    package func makeFashionMNIST(
        train: Dataset, test: Dataset, style: ImageStyle = ImageStyle(),
        normalization: Normalization = FashionMNIST.normalization
    ) throws -> SubjectFederation {
        let c = configuration
        try c.validate()
        guard train.shape == test.shape, train.shape.channels == 1 else {
            throw AuditError(
                .invalidArgument, "the image overlay needs single-channel train and test images of one shape")
        }
        guard c.subjects * c.recordsPerSubject <= train.count else {
            throw AuditError(
                .invalidArgument,
                "\(c.subjects) subjects x \(c.recordsPerSubject) records need \(c.subjects * c.recordsPerSubject) training images, there are \(train.count)"
            )
        }
        guard c.subjects * c.auditSamplesPerSubject <= test.count else {
            throw AuditError(
                .invalidArgument,
                "\(c.subjects) subjects x \(c.auditSamplesPerSubject) audit samples need \(c.subjects * c.auditSamplesPerSubject) test images, there are \(test.count)"
            )
        }
        var generator = SeededGenerator(seed: c.seed)
        let (members, silos) = assignSubjects(using: &generator)
        var trainPool = ImagePool(dataset: train, using: &generator)
        var testPool = ImagePool(dataset: test, using: &generator)
        let shape = train.shape
        var clientParts = [(features: [Float], labels: [Int32], subjects: [Int32])](
            repeating: ([], [], []), count: c.clients)
        var audit = (features: [Float](), labels: [Int32](), subjects: [Int32]())
        for subject in 0..<c.subjects {
            var personal = generator.derived(UInt64(subject))
            let transform = StyleTransform(style: style, shape: shape, normalization: normalization, using: &personal)
            let mix = personal.nextDirichlet([Double](repeating: c.labelConcentration, count: train.classCount))
            let id = Int32(subject)
            // A non-member's training images are drawn too (and discarded), so that the
            // audit images of every subject do not depend on who the members are.
            let owned = trainPool.take(c.recordsPerSubject, mix: mix, using: &personal)
            if members[subject] {
                let placement = deal(c.recordsPerSubject, over: silos[subject], using: &personal)
                for (index, client) in zip(owned, placement) {
                    clientParts[client].features += transform.apply(train.image(index))
                    clientParts[client].labels.append(train.labels[index])
                    clientParts[client].subjects.append(id)
                }
            }
            for index in testPool.take(c.auditSamplesPerSubject, mix: mix, using: &personal) {
                audit.features += transform.apply(test.image(index))
                audit.labels.append(test.labels[index])
                audit.subjects.append(id)
            }
        }
        return SubjectFederation(
            kind: "fashion-mnist", seed: c.seed,
            clients: clientParts.map {
                Dataset(
                    shape: shape, classCount: train.classCount, features: $0.features, labels: $0.labels,
                    subjects: $0.subjects)
            },
            auditSet: Dataset(
                shape: shape, classCount: test.classCount, features: audit.features, labels: audit.labels,
                subjects: audit.subjects),
            membership: Dictionary(uniqueKeysWithValues: members.enumerated().map { (Int32($0), $1) }),
            independentInclusion: c.independentInclusion)
    }
}

extension Dataset {
    fileprivate func image(_ index: Int) -> ArraySlice<Float> {
        features[(index * shape.count)..<((index + 1) * shape.count)]
    }
}

/// Unused image indices by class, each class in random order.
private struct ImagePool {
    private var byClass: [[Int]]

    init(dataset: Dataset, using generator: inout SeededGenerator) {
        var byClass = [[Int]](repeating: [], count: dataset.classCount)
        for (index, label) in dataset.labels.enumerated() { byClass[Int(label)].append(index) }
        for c in byClass.indices { byClass[c].shuffle(using: &generator) }
        self.byClass = byClass
    }

    /// `count` unused indices whose classes follow `mix`, falling back to the fullest
    /// class when a class runs out (the caller checked that enough images remain).
    mutating func take(_ count: Int, mix: [Double], using generator: inout SeededGenerator) -> [Int] {
        (0..<count).map { _ in
            var u = generator.nextUnit()
            var label = mix.count - 1
            for (c, weight) in mix.enumerated() {
                u -= weight
                if u < 0 {
                    label = c
                    break
                }
            }
            if label >= byClass.count || byClass[label].isEmpty {
                label = byClass.indices.max { byClass[$0].count < byClass[$1].count }!
            }
            return byClass[label].removeLast()
        }
    }
}

/// One subject's personal style.
private struct StyleTransform {
    let contrast: Float
    let brightness: Float
    let dx: Int
    let dy: Int
    let pattern: [Float]
    let shape: FeatureShape
    let normalization: Normalization

    init(
        style: SubjectFederationGenerator.ImageStyle, shape: FeatureShape, normalization: Normalization,
        using generator: inout SeededGenerator
    ) {
        contrast = Float(1 + style.contrast * (2 * generator.nextUnit() - 1))
        brightness = Float(style.brightness * (2 * generator.nextUnit() - 1))
        let t = style.translation
        dx = t == 0 ? 0 : Int.random(in: -t...t, using: &generator)
        dy = t == 0 ? 0 : Int.random(in: -t...t, using: &generator)
        pattern = (0..<shape.count).map { _ in Float(generator.nextNormal() * style.pattern) }
        self.shape = shape
        self.normalization = normalization
    }

    /// The styled copy of one standardised image, standardised again.
    func apply(_ image: ArraySlice<Float>) -> [Float] {
        let (mean, deviation) = (normalization.mean, normalization.standardDeviation)
        let (height, width) = (shape.height, shape.width)
        let base = image.startIndex
        var output = [Float](repeating: 0, count: shape.count)
        for y in 0..<height {
            for x in 0..<width {
                let (sy, sx) = (y - dy, x - dx)
                // Pixels shifted in from outside the image are background (0).
                let pixel: Float =
                    (0..<height).contains(sy) && (0..<width).contains(sx)
                    ? image[base + sy * width + sx] * deviation + mean : 0
                let styled = contrast * (pixel - 0.5) + 0.5 + brightness + pattern[y * width + x]
                output[y * width + x] = (min(max(styled, 0), 1) - mean) / deviation
            }
        }
        return output
    }
}
