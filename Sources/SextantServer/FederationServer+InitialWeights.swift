import Foundation
import SextantML
import SextantRuntime

extension FederationServer {
    /// The parameters of `model.initial_weights` for `network`: a safetensors file whose
    /// tensors have exactly this model's names and shapes, or one line naming the difference.
    static func initialWeights(_ path: String, for network: Network) throws -> [Float] {
        do {
            return try network.parameterVector(from: SafeTensors.read(from: URL(fileURLWithPath: path)))
        } catch let error as SextantMLError {
            let message = error.message.hasPrefix(path) ? error.message : "\(path): \(error.message)"
            throw RuntimeError(.invalidConfiguration, "key 'model.initial_weights': \(message)")
        }
    }
}
