import Crypto
import Foundation

/// The key agreements of the protocol: X25519 between two members' keys, HKDF-SHA256 with the
/// cohort id as salt and a label per use, so the share-encryption key and the pairwise mask
/// seed of one pair differ, and neither repeats across cohorts.
package enum MemberKeys {
    static let shareLabel = Array("sextant secure aggregation: share encryption".utf8)
    static let maskLabel = Array("sextant secure aggregation: pairwise mask".utf8)

    package static func publicKey(_ bytes: [UInt8]) throws(SecureAggregationError) -> Curve25519.KeyAgreement.PublicKey
    {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) else {
            throw SecureAggregationError(.malformedMessage, "a public key of \(bytes.count) bytes is not an X25519 key")
        }
        return key
    }

    package static func privateKey(_ bytes: [UInt8]) throws(SecureAggregationError)
        -> Curve25519.KeyAgreement.PrivateKey
    {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes) else {
            throw SecureAggregationError(
                .cryptographicFailure, "a private key of \(bytes.count) bytes is not an X25519 key")
        }
        return key
    }

    /// A fresh private key from `generator` (the system's secure generator outside tests).
    package static func makePrivateKey(
        using generator: inout some RandomNumberGenerator
    ) -> Curve25519.KeyAgreement.PrivateKey {
        // Any 32 bytes are a valid X25519 private key (clamped when used): the loop runs once.
        while true {
            if let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32, using: &generator))
            {
                return key
            }
        }
    }

    package static func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
        return Array(bytes.prefix(count))
    }

    /// The AES-GCM key that encrypts shares between two members.
    package static func shareKey(
        _ own: Curve25519.KeyAgreement.PrivateKey, _ peer: Curve25519.KeyAgreement.PublicKey, cohort: UInt64
    ) throws(SecureAggregationError) -> SymmetricKey {
        try derive(own, peer, cohort: cohort, label: shareLabel)
    }

    /// The seed of the pairwise mask between two members.
    package static func maskSeed(
        _ own: Curve25519.KeyAgreement.PrivateKey, _ peer: Curve25519.KeyAgreement.PublicKey, cohort: UInt64
    ) throws(SecureAggregationError) -> SymmetricKey {
        try derive(own, peer, cohort: cohort, label: maskLabel)
    }

    private static func derive(
        _ own: Curve25519.KeyAgreement.PrivateKey, _ peer: Curve25519.KeyAgreement.PublicKey, cohort: UInt64,
        label: [UInt8]
    ) throws(SecureAggregationError) -> SymmetricKey {
        do {
            let secret = try own.sharedSecretFromKeyAgreement(with: peer)
            var salt: [UInt8] = []
            ByteWriter.append(cohort, to: &salt)
            return secret.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: salt, sharedInfo: label, outputByteCount: 32)
        } catch {
            throw SecureAggregationError(.cryptographicFailure, "key agreement failed (a low-order public key?)")
        }
    }

    /// Seals the two shares `sender` gives `recipient`; sender and recipient are inside the
    /// ciphertext and its associated data, so the server cannot redirect it.
    package static func seal(
        maskKeyShare: ShamirSecretSharing.Share, selfMaskShare: ShamirSecretSharing.Share, sender: UInt32,
        recipient: UInt32, key: SymmetricKey, using generator: inout some RandomNumberGenerator
    ) throws(SecureAggregationError) -> [UInt8] {
        var plaintext: [UInt8] = []
        ByteWriter.append(sender, to: &plaintext)
        ByteWriter.append(recipient, to: &plaintext)
        maskKeyShare.encoded(into: &plaintext)
        selfMaskShare.encoded(into: &plaintext)
        do {
            let nonce = try AES.GCM.Nonce(data: randomBytes(12, using: &generator))
            let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: plaintext.prefix(8))
            return Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw SecureAggregationError(.cryptographicFailure, "sealing shares failed: \(error)")
        }
    }

    /// Opens a ciphertext from `sender` to `recipient`; the shares inside must name them both.
    package static func open(
        _ ciphertext: [UInt8], sender: UInt32, recipient: UInt32, key: SymmetricKey
    ) throws(SecureAggregationError) -> (maskKey: ShamirSecretSharing.Share, selfMask: ShamirSecretSharing.Share) {
        guard ciphertext.count == SecureAggregationMessage.ciphertextBytes else {
            throw SecureAggregationError(
                .malformedMessage, "a ciphertext of \(ciphertext.count) bytes from member \(sender)")
        }
        var header: [UInt8] = []
        ByteWriter.append(sender, to: &header)
        ByteWriter.append(recipient, to: &header)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: ciphertext[0..<12]), ciphertext: ciphertext[12..<(ciphertext.count - 16)],
                tag: ciphertext[(ciphertext.count - 16)...])
            plaintext = try AES.GCM.open(box, using: key, authenticating: header)
        } catch {
            throw SecureAggregationError(
                .cryptographicFailure, "the shares from member \(sender) to \(recipient) do not decrypt")
        }
        var reader = ByteReader(Array(plaintext))
        guard try reader.readBytes(8) == header else {
            throw SecureAggregationError(.cryptographicFailure, "the shares from member \(sender) name other members")
        }
        let maskKey = try ShamirSecretSharing.Share(reading: &reader)
        let selfMask = try ShamirSecretSharing.Share(reading: &reader)
        try reader.expectEnd()
        let x = ShamirSecretSharing.coordinate(of: recipient)
        guard maskKey.x == x, selfMask.x == x else {
            throw SecureAggregationError(
                .cryptographicFailure, "the shares from member \(sender) are not for \(recipient)")
        }
        return (maskKey, selfMask)
    }
}
