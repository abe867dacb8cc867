import Foundation
import SextantRuntime
import SextantWire
import Synchronization

/// A client for `sextant bench load --premade-deltas`: it speaks the protocol as
/// `sextant-client` does (join, upload request, update, ack; docs/design.md 4) but trains
/// nothing: every update sends the same delta, made once before the run, zero-copy. What it
/// costs the host is libzmq receiving each model and sending each delta, so the rate the
/// benchmark measures is the server's, not that of clients training beside it. Sendable.
struct PremadeDeltaClient: Sendable {
    var name: String
    var endpoint: String
    var fingerprint: String
    var samples: Int
    /// The delta every client sends, made at the first assignment from the model's size.
    var deltas: PremadeDelta

    /// Runs until the server says goodbye; returns the number of updates acknowledged. Blocks:
    /// call it on a thread of its own.
    func run() throws -> Int {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        try socket.setOptions([.routingID(Array(name.utf8)), .linger(milliseconds: 1000)])
        try socket.connect(to: endpoint)
        try socket.send(
            WireCodec.encode(
                .join(JoinMessage(clientName: name, sampleCount: UInt64(samples), modelFingerprint: fingerprint))))
        var sequence: UInt64 = 1
        var acknowledged = 0
        var task: AssignmentMessage?
        while true {
            let message = try WireCodec.decode(try socket.receiveMessage())
            switch message {
            case .assignment(let assignment):
                task = assignment
                try socket.send(
                    WireCodec.encode(
                        .uploadRequest(UploadRequestMessage(updateID: sequence, baseVersion: assignment.modelVersion))))
            case .uploadGrant:
                guard let assignment = task else { continue }
                let (delta, norm) = deltas.delta(count: assignment.model.count)
                let update = UpdateMessage(
                    updateID: sequence, baseVersion: assignment.modelVersion, stepsDone: assignment.localSteps,
                    computeSeconds: 0.001, sampleCount: UInt64(samples), trainLoss: 0, normBeforeClip: norm,
                    clipped: false, delta: delta)
                try socket.send(WireCodec.encode(.update(update)))
            case .ack(let ack) where ack.updateID == sequence:
                acknowledged += 1
                sequence += 1
                task = nil
            case .bye:
                return acknowledged
            case .error(let error):
                throw RuntimeError(.rejected, "\(name): the server refused a message: \(error.code): \(error.text)")
            default:
                continue
            }
        }
    }
}

/// The one delta the clients with pre-made deltas send, made once: small values of every
/// sign (their content matters to no part of the update path measured). Sendable: behind a
/// mutex.
final class PremadeDelta: Sendable {
    private let made = Mutex<(delta: FloatPayload, norm: Double)?>(nil)

    /// The delta of `count` values and its L2 norm.
    func delta(count: Int) -> (FloatPayload, Double) {
        made.withLock { made in
            if let made, made.delta.count == count { return made }
            let values = (0..<count).map { Float($0 % 7 - 3) * 1e-5 }
            let norm = values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            made = (FloatPayload(values), norm)
            return made!
        }
    }
}
