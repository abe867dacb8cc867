import ArgumentParser
import Foundation
import SextantWire

/// `sextant keygen`: CURVE key pairs for the server and the clients.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make CURVE key pairs: NAME.key (secret, mode 0600) and NAME.pub (one allow-list line) per name.",
        discussion: """
            Typical use, on the server's host:
              sextant keygen --out keys server
            and on each client's host (or once for all clients of one host):
              sextant keygen --out keys client-0 client-1
            then give the server every client's .pub file (cat keys/client-*.pub > keys/allowed_clients)
            and every client the server's server.pub. Secret .key files never leave their host.
            """)

    @Option(help: "Directory to write the key files to (created if missing).") var out = "keys"
    @Option(help: "Also append the public keys made now to this allow-list file.") var allowList: String?
    @Argument(help: "Names of the key pairs, e.g. server client-0 client-1 (the client's identity on the allow-list).")
    var names: [String]

    func validate() throws {
        guard !names.isEmpty else {
            throw ValidationError("give at least one name, e.g. sextant keygen --out keys server")
        }
        guard Set(names).count == names.count else { throw ValidationError("each name once, please") }
    }

    func run() throws {
        guard CurveKeyPair.isAvailable else {
            throw ValidationError("this libzmq was built without CURVE (libsodium); install Debian's libzmq3-dev")
        }
        let directory = URL(fileURLWithPath: out)
        var lines = ""
        for name in names {
            let pair = try CurveKeyPair.generate()
            let files = try CurveKeyFile.write(pair, name: name, directory: directory)
            lines += "\(pair.publicKey.z85) \(name)\n"
            print(
                "\(name): \(files.secret.path) (secret, 0600), \(files.public.path) (public key \(pair.publicKey.z85))"
            )
        }
        if let allowList {
            let handle: FileHandle
            if FileManager.default.fileExists(atPath: allowList) {
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: allowList))
                try handle.seekToEnd()
            } else {
                guard FileManager.default.createFile(atPath: allowList, contents: nil) else {
                    throw ValidationError("cannot create \(allowList)")
                }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: allowList))
            }
            try handle.write(contentsOf: Data(lines.utf8))
            try handle.close()
            // Read back so a malformed result is reported now, not when the server starts.
            let list = try AllowList(contentsOf: allowList)
            print("\(allowList): \(list.count) allowed clients")
        }
    }
}
