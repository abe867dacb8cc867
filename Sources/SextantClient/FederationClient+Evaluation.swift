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
        // Without a model, the request means the model this client's assignment of the same
        // version carried (sent just before it).
        let model: FloatPayload
        if request.refersToAssignment {
            guard let assigned = assignedModel, assigned.version == request.modelVersion else {
                logger.warning(
                    "cannot evaluate: asked for the model of assignment \(request.modelVersion), which this client did not receive"
                )
                return empty
            }
            model = assigned.model
        } else {
            model = request.model
        }
        guard model.count == evaluationNetwork.parameterCount else {
            logger.warning(
                "cannot evaluate: the model has \(model.count) parameters, this client's \(evaluationNetwork.parameterCount)"
            )
            return empty
        }
        model.withUnsafeBufferPointer { evaluationNetwork.loadParameters($0) }
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
