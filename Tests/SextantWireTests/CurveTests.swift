import Foundation
import Logging
import SextantTestSupport
import Synchronization
import Testing

@testable import SextantWire

@Suite("CURVE keys, allow-lists and the ZAP handler", .timeLimit(.minutes(1)))
struct CurveTests {
    private let logger = Logger(label: "sextant.wire.tests")

    @Test("a key survives Z85 and back; bad text names the problem")
    func z85RoundTrip() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.z85.count == 40)
        #expect(try CurveKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair, "the public key is derived from the secret one")
        #expect(pair.secretKey.description.count < 12, "descriptions never print a whole key")
        #expect(throws: WireError.self) { try CurveKey(z85: "too short") }
        #expect(throws: WireError.self) { try CurveKey(z85: String(repeating: "~", count: 40)) }
        #expect(throws: WireError.self) { try CurveKey(bytes: [1, 2, 3]) }
    }

    @Test("key files: the pair is 0600, never overwritten, and a mismatched pair is refused")
    func keyFiles() throws {
        try TemporaryDirectory.with { directory in
            let pair = try CurveKeyPair.generate()
            let files = try CurveKeyFile.write(pair, name: "client-7", directory: directory)
            let mode = try FileManager.default.attributesOfItem(atPath: files.secret.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(!CurveKeyFile.isReadableByOthers(files.secret.path))
            #expect(try CurveKeyFile.readPair(at: files.secret.path) == pair)
            #expect(try CurveKeyFile.readPublicKey(at: files.public.path) == pair.publicKey)
            #expect(try CurveKeyFile.readPublicKey(at: files.secret.path) == pair.publicKey)
            #expect(try AllowList(contentsOf: files.public.path).name(of: pair.publicKey) == "client-7")
            #expect(throws: WireError.self) { try CurveKeyFile.write(pair, name: "client-7", directory: directory) }

            let other = try CurveKeyPair.generate()
            let forged = directory.appendingPathComponent("forged.key")
            try "public-key = \(other.publicKey.z85)\nsecret-key = \(pair.secretKey.z85)\n".write(
                to: forged, atomically: true, encoding: .utf8)
            let error = #expect(throws: WireError.self) { try CurveKeyFile.readPair(at: forged.path) }
            #expect(error?.message.contains("does not belong") == true)
            let missing = #expect(throws: WireError.self) { try CurveKeyFile.readPair(at: files.public.path) }
            #expect(missing?.message.contains("not the .pub") == true)
        }
    }

    @Test("allow-lists: comments and blank lines are fine; bad, duplicate or unnamed lines name their line")
    func allowListParsing() throws {
        let a = try CurveKeyPair.generate().publicKey
        let b = try CurveKeyPair.generate().publicKey
        let list = try AllowList(text: "# the consortium\n\n\(a.z85) hospital-a  # since May\n\(b.z85) lab.b_2\n")
        #expect(list.count == 2)
        #expect(list.name(of: a) == "hospital-a")
        #expect(list.contains(name: "lab.b_2") && !list.contains(name: "hospital-b"))
        // '#' is a Z85 character: a key that contains it is a key, not a comment.
        let hashKey = try CurveKey(z85: String(a.z85.prefix(9)) + "#" + String(a.z85.dropFirst(10)))
        let hashed = try AllowList(text: "\(hashKey.z85) first # a comment\n# \(b.z85) commented-out\n")
        #expect(hashed.count == 1 && hashed.name(of: hashKey) == "first")

        let cases: [(String, String)] = [
            ("\(a.z85)\n", "line 1"),
            ("\n\(a.z85) x\n\(a.z85) y\n", "line 3: the same key is on line 2"),
            ("\(a.z85) x\n\(b.z85) x\n", "the name 'x' is on line 1"),
            ("\(a.z85) bad/name\n", "not a valid client name"),
            ("not-a-key name\n", "line 1"),
        ]
        for (text, expected) in cases {
            let error = #expect(throws: WireError.self) { try AllowList(text: text) }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "") should contain \(expected)")
        }
    }

    @Test("the allow-list fuzzer's corpus: every input parses or is refused naming a line")
    func allowListCorpus() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../FuzzTesting/AllowListCorpus").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count > 100, "the corpus is missing")
        for file in files {
            let text = String(decoding: try Data(contentsOf: directory.appendingPathComponent(file)), as: UTF8.self)
            do {
                _ = try AllowList(text: text)
            } catch {
                #expect(error.message.contains("line"), "\(file): \(error.message)")
            }
        }
        let seed = try AllowList(contentsOf: directory.appendingPathComponent("two-clients").path)
        #expect(seed.count == 2 && seed.contains(name: "a") && seed.contains(name: "b"))
    }

    @Test("the ZAP handler admits listed keys under their names and refuses the rest")
    func zapDecisions() throws {
        let known = try CurveKeyPair.generate().publicKey
        let unknown = try CurveKeyPair.generate().publicKey
        let shared = ZAPHandler.Shared(.init(allowList: try AllowList(text: "\(known.z85) silo-1\n")))
        func request(mechanism: String, credentials: [UInt8]?) -> [[UInt8]] {
            [
                Array("1.0".utf8), Array("7".utf8), Array("sextant".utf8), Array("10.0.0.9".utf8), [],
                Array(mechanism.utf8),
            ]
                + (credentials.map { [$0] } ?? [])
        }
        let admitted = ZAPHandler.decide(
            request(mechanism: "CURVE", credentials: known.bytes), shared: shared, logger: logger)
        #expect(admitted[1] == Array("7".utf8), "the reply carries the request id")
        #expect(admitted[2] == Array("200".utf8))
        #expect(admitted[4] == Array("silo-1".utf8), "the user id is the allow-list's name")
        let refused = ZAPHandler.decide(
            request(mechanism: "CURVE", credentials: unknown.bytes), shared: shared, logger: logger)
        #expect(refused[2] == Array("400".utf8) && refused[4].isEmpty)
        let plain = ZAPHandler.decide(request(mechanism: "NULL", credentials: nil), shared: shared, logger: logger)
        #expect(plain[2] == Array("400".utf8))
        let malformed = ZAPHandler.decide([Array("2.0".utf8)], shared: shared, logger: logger)
        #expect(malformed[2] == Array("500".utf8))
        #expect(shared.state.withLock { ($0.admitted, $0.refused) } == (1, 2))
    }

    @Test("over TCP: an allowed key's messages carry its name; unknown keys and plain sockets get nothing through")
    func curveOverLoopback() async throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        let allowed = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        let zap = try await ZAPHandler(
            context: context, allowList: try AllowList(text: "\(allowed.publicKey.z85) silo-a\n"), logger: logger)
        defer { zap.stop() }
        var configuration = SocketThread.Configuration(
            type: .router, options: [.curveServer(true), .curveSecretKey(server.secretKey), .zapDomain("sextant")],
            bindEndpoints: ["tcp://127.0.0.1:*"], lingerMilliseconds: 0)
        configuration.logsRefusedHandshakes = true
        let router = try await SocketThread(context: context, configuration: configuration, logger: logger)
        var inbox = router.messages.makeAsyncIterator()

        func dealer(_ keys: CurveKeyPair?, id: String) async throws -> SocketThread {
            var options: [ZMQSocketOption] = [.routingID(Array(id.utf8))]
            if let keys {
                options += [
                    .curveServerKey(server.publicKey), .curvePublicKey(keys.publicKey), .curveSecretKey(keys.secretKey),
                ]
            }
            return try await SocketThread(
                context: try ZMQContext(),
                configuration: .init(
                    type: .dealer, options: options, connectEndpoints: router.boundEndpoints, lingerMilliseconds: 0),
                logger: logger)
        }
        // The refused ones first: if anything of theirs got through, it would arrive before silo-a's.
        let intruder = try await dealer(stranger, id: "silo-a")
        let plain = try await dealer(nil, id: "plain")
        intruder.post([.bytes(Array("from the stranger".utf8))])
        plain.post([.bytes(Array("from the plain socket".utf8))])
        try await Task.sleep(for: .milliseconds(300))
        let member = try await dealer(allowed, id: "chosen-by-the-client")
        member.post([.bytes(Array("hello".utf8))])

        let received = try #require(await inbox.next())
        #expect(received.last?.bytes == Array("hello".utf8))
        #expect(received[1].userID == "silo-a")
        #expect(zap.decisions.admitted == 1 && zap.decisions.refused >= 1)
        for socket in [intruder, plain, member, router] { await socket.shutdown() }
    }

    @Test("a failed handshake is reported with the peer accepted on that descriptor, at most every 10 s per host")
    func handshakeWatcher() {
        var watcher = HandshakeWatcher()
        let peers: [Int32: String] = [7: "10.0.0.5:4100", 8: "10.0.0.6:4200"]
        func event(_ kind: ZMQMonitor.Kind, _ value: UInt32) -> ZMQMonitor.Event {
            ZMQMonitor.Event(kind: kind, value: value, endpoint: "tcp://0.0.0.0:7070")
        }
        func feed(_ kind: ZMQMonitor.Kind, _ value: UInt32, at now: Double) -> HandshakeWatcher.Refusal? {
            watcher.observe(event(kind, value), now: now) { peers[$0] }
        }
        #expect(feed(.accepted, 7, at: 0) == nil)
        #expect(feed(.accepted, 8, at: 0) == nil)
        #expect(feed(.handshakeSucceeded, 0, at: 0) == nil)
        #expect(feed(.handshakeFailedProtocol, 0x1100_0002, at: 0.1) == nil)
        let refusal = feed(.disconnected, 7, at: 0.1)
        #expect(refusal?.peer == "10.0.0.5:4100")
        #expect(refusal?.reason.contains("does not use CURVE") == true)
        #expect(feed(.disconnected, 8, at: 1) == nil, "a client that had no failure left normally")

        // The same host retrying in a loop: one report per interval, with the count in between.
        for attempt in 0..<5 {
            #expect(feed(.accepted, 7, at: 2 + Double(attempt)) == nil)
            #expect(feed(.handshakeFailedProtocol, 0x1100_0001, at: 2 + Double(attempt)) == nil)
            #expect(feed(.disconnected, 7, at: 2 + Double(attempt)) == nil)
        }
        _ = feed(.accepted, 7, at: 11)
        _ = feed(.handshakeFailedProtocol, 0x1100_0001, at: 11)
        let later = feed(.disconnected, 7, at: 11)
        #expect(later?.suppressed == 5)
        #expect(later?.reason.contains("wrong server public key") == true)

        // ZAP refusals are logged by the handler, not again here.
        _ = feed(.accepted, 8, at: 30)
        #expect(feed(.handshakeFailedAuthentication, 400, at: 30) == nil)
        #expect(feed(.disconnected, 8, at: 30) == nil)
    }
}
