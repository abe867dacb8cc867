import CZeroMQ

/// A CURVE key pair. The secret key never leaves the process except through `write`.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: CurveKey
    public let secretKey: CurveKey

    /// A fresh key pair from libzmq (libsodium's random generator).
    public static func generate() throws(WireError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicText, &secretText) }
        return CurveKeyPair(
            publicKey: try CurveKey(z85: String(cCharBuffer: publicText)),
            secretKey: try CurveKey(z85: String(cCharBuffer: secretText)))
    }

    /// The pair whose secret key is `secretKey` (the public key is derived from it).
    public init(secretKey: CurveKey) throws(WireError) {
        var publicText = [CChar](repeating: 0, count: 41)
        let secretText = secretKey.z85
        try zmqCall("zmq_curve_public") { secretText.withCString { zmq_curve_public(&publicText, $0) } }
        self.init(publicKey: try CurveKey(z85: String(cCharBuffer: publicText)), secretKey: secretKey)
    }

    init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether this libzmq was built with CURVE (libsodium).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }
}
