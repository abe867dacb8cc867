import ArgumentParser
import Foundation
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantRuntime
import SextantSimulation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `sextant status`: what a running server reports at `/status` (its `server.metrics_bind`).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running server's status (its /status endpoint, server.metrics_bind).")

    @Option(help: "The server's HTTP endpoint (server.metrics_bind).") var server = "http://127.0.0.1:9464"
    @Flag(help: "Print the JSON as the server sent it.") var json = false
    @Flag(help: "Refresh until interrupted.") var watch = false
    @Option(help: "Seconds between refreshes with --watch.") var interval = 2.0

    func validate() throws {
        guard interval > 0, interval.isFinite else {
            throw ValidationError("--interval must be a positive number of seconds")
        }
        guard let url = URL(string: server), url.scheme == "http", url.host != nil else {
            throw ValidationError("--server must be an http://HOST:PORT address, got '\(server)'")
        }
    }

    func run() async throws {
        let client = StatusClient(base: URL(string: server)!)
        guard watch else {
            print(try await render(client.fetch()), terminator: "")
            return
        }
        let clearsScreen = isatty(STDOUT_FILENO) == 1 && !json
        while true {
            // A server that is restarting comes back: show the error and keep asking.
            let text: String
            do {
                text = render(try await client.fetch())
            } catch {
                text = "\(error)\n"
            }
            if clearsScreen { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(text, terminator: "")
            fflush(nil)  // all streams: naming `stdout` is not concurrency-safe in Swift 6
            try await Task.sleep(for: .seconds(interval))
        }
    }

    private func render(_ fetched: StatusClient.Response) -> String {
        if json {
            let body = String(decoding: fetched.body, as: UTF8.self)
            return body.hasSuffix("\n") ? body : body + "\n"
        }
        return StatusText.render(fetched.status)
    }
}

/// One GET of `/status` through URLSession (FoundationNetworking's, over libcurl, on Linux).
struct StatusClient {
    struct Response {
        var status: ServerStatus
        var body: Data
    }

    let base: URL
    private let session: URLSession

    init(base: URL) {
        self.base = base
        let configuration = URLSessionConfiguration.ephemeral
        // A live server answers in milliseconds; don't hang a terminal on a dead one.
        configuration.timeoutIntervalForRequest = 5
        session = URLSession(configuration: configuration)
    }

    func fetch() async throws -> Response {
        let url = base.appendingPathComponent("status")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(from: url)
        } catch let error as URLError {
            throw StatusError(
                "nothing answers at \(base.absoluteString) (\(error.localizedDescription)); is sextant-server running with server.metrics_bind set to that address?"
            )
        }
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        if code == 503 { throw StatusError("the server at \(base.absoluteString) is still starting") }
        guard code == 200 else {
            throw StatusError("\(url.absoluteString) answered HTTP \(code), not a Sextant status")
        }
        do {
            return Response(status: try ServerStatus.makeDecoder().decode(ServerStatus.self, from: data), body: data)
        } catch {
            throw StatusError("\(url.absoluteString) did not answer with a Sextant status: \(error)")
        }
    }
}

/// A message for the operator; ArgumentParser prints it and exits 1.
struct StatusError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
