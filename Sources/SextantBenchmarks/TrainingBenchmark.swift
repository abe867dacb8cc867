import CBLAS
import SextantML

/// Measures training throughput against the machine's own sgemm peak, in the same run, so
/// the ratio says how close the numeric core is to what BLAS can do here. Both are counted
/// per CPU-second of the process (the figure a loaded machine does not distort, and the one
/// `bench/pytorch-train.py` compares with PyTorch's); samples per wall-clock second are
/// reported beside them.
package struct TrainingBenchmark: Sendable {
    package struct Result: Sendable, Codable {
        package var model: String
        /// "train" (forward and backward, SGD) or "evaluate" (forward only, as the server's
        /// test-set evaluation runs it).
        package var pass = "train"
        package var batchSize: Int
        /// Training samples per wall-clock second.
        package var samplesPerSecond: Double
        /// Training samples per CPU-second of the process.
        package var samplesPerCPUSecond: Double
        /// GFLOP per CPU-second.
        package var gflops: Double
        /// Achieved GFLOP/s over the measured sgemm peak.
        package var ratioOfPeak: Double
    }

    package var batchSize: Int
    package var steps: Int
    package var repetitions: Int

    package init(batchSize: Int = 64, steps: Int = 50, repetitions: Int = 5) {
        self.batchSize = batchSize
        self.steps = steps
        self.repetitions = repetitions
    }

    /// The median GFLOP per CPU-second of a square sgemm of side `size` (the largest size BLAS
    /// runs at full speed).
    package static func sgemmPeak(size: Int = 1024, repetitions: Int = 7) -> Double {
        let a = [Float](repeating: 0.5, count: size * size)
        let b = [Float](repeating: 0.25, count: size * size)
        var c = [Float](repeating: 0, count: size * size)
        let n = Int32(size)
        var rates: [Double] = []
        for _ in 0..<repetitions {
            let seconds = BenchmarkTiming.wallAndCPUSeconds {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, &c, n)
            }.cpu
            rates.append(2 * Double(size) * Double(size) * Double(size) / seconds / 1e9)
        }
        return BenchmarkTiming.median(rates)
    }

    /// Trains `model` on random data of Fashion-MNIST's shape and reports the median rates.
    package func run(_ model: ModelArchitecture, peak: Double) -> Result {
        let shape = FeatureShape(channels: 1, height: 28, width: 28)
        let network = model.makeNetwork(input: shape, classCount: 10, seed: 1)
        var generator = SeededGenerator(seed: 2)
        let inputs = (0..<(batchSize * shape.count)).map { _ in Float(generator.nextNormal()) }
        let labels = (0..<batchSize).map { _ in Int32.random(in: 0..<10, using: &generator) }
        var optimizer = SGD(learningRate: 0.01, momentum: 0.9)
        func step() {
            inputs.withUnsafeBufferPointer { x in
                labels.withUnsafeBufferPointer { y in
                    _ = network.trainingStep(x.baseAddress!, labels: y.baseAddress!, batchSize: batchSize)
                }
            }
            optimizer.update(network.parameters, gradients: UnsafeBufferPointer(network.gradients))
        }
        step()  // warm-up: allocates scratch memory
        let rates = sampleRates(samples: steps * batchSize) { for _ in 0..<steps { step() } }
        let gflops = rates.cpu / Double(batchSize) * network.trainingFlops(batchSize: batchSize) / 1e9
        return Result(
            model: model.rawValue, batchSize: batchSize, samplesPerSecond: rates.wall,
            samplesPerCPUSecond: rates.cpu, gflops: gflops, ratioOfPeak: gflops / peak)
    }

    /// The median samples per wall-clock and per CPU second of `body`, which handles
    /// `samples` samples, over ``repetitions`` runs.
    private func sampleRates(samples: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        var wallRates: [Double] = []
        var cpuRates: [Double] = []
        for _ in 0..<repetitions {
            let seconds = BenchmarkTiming.wallAndCPUSeconds(body)
            wallRates.append(Double(samples) / seconds.wall)
            cpuRates.append(Double(samples) / seconds.cpu)
        }
        return (BenchmarkTiming.median(wallRates), BenchmarkTiming.median(cpuRates))
    }
}

extension TrainingBenchmark {
    /// The server's test-set evaluation (``Network/evaluate(on:batchSize:)``): `examples`
    /// random examples of Fashion-MNIST's shape through the mlp in batches of 500, counted
    /// as 2 FLOP per parameter and example (its matrix products). Measured in a process whose
    /// only BLAS work so far is what making a network does, so it is what the server's
    /// evaluator sees, not what a product of the peak's size leaves behind.
    package func runEvaluation(examples: Int = 1000, peak: Double) -> Result {
        let shape = FeatureShape(channels: 1, height: 28, width: 28)
        let network = ModelArchitecture.mlp.makeNetwork(input: shape, classCount: 10, seed: 1)
        var generator = SeededGenerator(seed: 3)
        let testSet = Dataset(
            shape: shape, classCount: 10,
            features: (0..<(examples * shape.count)).map { _ in Float(generator.nextNormal()) },
            labels: (0..<examples).map { _ in Int32.random(in: 0..<10, using: &generator) })
        let batchSize = 500
        _ = network.evaluate(on: testSet, batchSize: batchSize)  // warm-up: allocates scratch memory
        let rates = sampleRates(samples: 4 * examples) {
            for _ in 0..<4 { _ = network.evaluate(on: testSet, batchSize: batchSize) }
        }
        let gflops = rates.cpu * 2 * Double(network.parameterCount) / 1e9
        return Result(
            model: ModelArchitecture.mlp.rawValue, pass: "evaluate", batchSize: batchSize,
            samplesPerSecond: rates.wall, samplesPerCPUSecond: rates.cpu, gflops: gflops, ratioOfPeak: gflops / peak)
    }
}
