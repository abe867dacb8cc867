import Foundation
import SextantWire

/// `security:` — CURVE encryption and client authentication (keys from `sextant keygen`).
/// The server uses CURVE when `server_secret_key` is set, a client when `server_public_key`
/// is; a file shared by both sides may set all four.
package struct SecuritySection: Sendable, Codable {
    /// Server: its key pair file (NAME.key).
    package var serverSecretKey: String?
    /// Server: the allow-list, one `<public key> NAME` line per client; reloaded on SIGHUP.
    package var allowedClients: String?
    /// Client: the server's public key (server.pub, or the key pair file).
    package var serverPublicKey: String?
    /// Client: its key pair file; `{index}` and `{name}` are replaced, e.g. keys/{name}.key.
    package var clientKey: String?

    static let keys = KeySchema.map([
        "server_secret_key": .value, "allowed_clients": .value, "server_public_key": .value, "client_key": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case serverSecretKey = "server_secret_key", allowedClients = "allowed_clients"
        case serverPublicKey = "server_public_key", clientKey = "client_key"
    }

    package init() {}

    package var serverUsesCurve: Bool { serverSecretKey != nil }
    package var clientsUseCurve: Bool { serverPublicKey != nil }

    func validate() throws {
        for (key, value) in [
            ("server_secret_key", serverSecretKey), ("allowed_clients", allowedClients),
            ("server_public_key", serverPublicKey), ("client_key", clientKey),
        ] where value?.isEmpty == true {
            throw invalid("security.\(key)", "''", "give a file path or leave the key out")
        }
        if serverSecretKey != nil, allowedClients == nil {
            throw invalid(
                "security.allowed_clients", "nothing",
                "a CURVE server needs an allow-list of client keys (cat keys/client-*.pub > keys/allowed_clients)")
        }
        if allowedClients != nil, serverSecretKey == nil {
            throw invalid(
                "security.server_secret_key", "nothing", "an allow-list needs the server's key pair (sextant keygen)")
        }
    }

    /// The server's key pair and allow-list, read and checked now so a bad file stops the
    /// server at start.
    package func loadServerKeys() throws -> (pair: CurveKeyPair, allowList: AllowList)? {
        guard let serverSecretKey, let allowedClients else { return nil }
        try requireCurve()
        do throws(WireError) {
            return (try CurveKeyFile.readPair(at: serverSecretKey), try AllowList(contentsOf: allowedClients))
        } catch {
            throw RuntimeError(.invalidConfiguration, "security: \(error.message)")
        }
    }

    /// A client's CURVE settings; `keyOverride` (the --key option) replaces `client_key`.
    package func loadClientKeys(index: Int, name: String, keyOverride: String? = nil) throws -> ClientCurve? {
        guard let serverPublicKey else {
            if keyOverride != nil {
                throw invalid(
                    "security.server_public_key", "nothing",
                    "--key needs the server's public key to connect with CURVE")
            }
            return nil
        }
        try requireCurve()
        guard let template = keyOverride ?? clientKey else {
            throw invalid("security.client_key", "nothing", "a CURVE client needs its key pair: set it or pass --key")
        }
        let path = template.replacingOccurrences(of: "{index}", with: "\(index)").replacingOccurrences(
            of: "{name}", with: name)
        do throws(WireError) {
            let serverKey = try CurveKeyFile.readPublicKey(at: serverPublicKey)
            return ClientCurve(serverKey: serverKey, pair: try CurveKeyFile.readPair(at: path))
        } catch {
            throw RuntimeError(.invalidConfiguration, "security: \(error.message)")
        }
    }

    private func requireCurve() throws {
        guard CurveKeyPair.isAvailable else {
            throw RuntimeError(.invalidConfiguration, "security: this libzmq was built without CURVE (libsodium)")
        }
    }
}

/// What a client needs to connect with CURVE.
package struct ClientCurve: Sendable {
    package var serverKey: CurveKey
    package var pair: CurveKeyPair
}
