import Foundation
import SextantML
import SextantWire

extension FederationClient {
    /// Evaluates a global model on this site's validation split (federated evaluation,
    /// docs/design.md 3): the summary counts records, never lists them. A site without a
    /// validation split, or a model of another size, reports 0 records so that the server
    /// does not wait for it.
    func evaluate(_ request: EvaluateMessage) -> EvaluationMessage {
        let empty = EvaluationMessage(modelVersion: request.modelVersion, records: 0, lossSum: 0, summary: [])
        guard validation.count > 0 else { return empty }
        guard request.model.count == evaluationNetwork.parameterCount else {
            logger.warning(
                "cannot evaluate: the model has \(request.model.count) parameters, this client's \(evaluationNetwork.parameterCount)"
            )
            return empty
        }
        request.model.withUnsafeBufferPointer { evaluationNetwork.loadParameters($0) }
        let (lossSum, summary) = evaluationNetwork.evaluationSummary(on: validation)
        guard let json = try? JSONEncoder().encode(summary) else { return empty }
        let metrics = summary.metrics.sorted { $0.key < $1.key }
            .map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
        logger.info(
            "evaluated",
            metadata: [
                "version": "\(request.modelVersion)", "records": "\(validation.count)", "metrics": "\(metrics)",
            ])
        return EvaluationMessage(
            modelVersion: request.modelVersion, records: UInt64(validation.count), lossSum: lossSum,
            summary: Array(json))
    }
}
