import Foundation
import SextantRuntime
import SextantTestSupport
import Testing

@testable import SextantLauncher

/// `sextant launch` with stand-in executables (shell scripts named sextant-server and
/// sextant-client): what it reports when a process fails, and what its children inherit.
@Suite("Launcher", .timeLimit(.minutes(1)))
struct LauncherTests {
    static let serverScript = """
        #!/bin/sh
        echo "2026-11-29T08:00:00+0000 info sextant.server: [SextantRuntime] starting"
        echo "2026-11-29T08:00:01+0000 error sextant.server: [SextantRuntime] the database is locked"
        echo "Error: could not bind server.bind tcp://127.0.0.1:7070: the address is in use" >&2
        exit 1
        """
    static let clientScript = """
        #!/bin/sh
        echo "SWIFT_BACKTRACE=$SWIFT_BACKTRACE"
        echo "2026-11-29T08:00:02+0000 error sextant.client: [SextantRuntime] no data for client $4"
        exit 3
        """

    static func install(_ script: String, as name: String, in directory: TemporaryDirectory) throws {
        try directory.writeExecutable(script, to: name)
    }

    @Test("a missing executable is named, with the step that makes it")
    func missingExecutableIsNamed() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
        let error = #expect(throws: RuntimeError.self) {
            _ = try RuntimeError.executable("no-such-sextant-binary", in: directory)
        }
        #expect(
            error?.message.hasSuffix(
                "no-such-sextant-binary not found: build the package first (swift build -c release)") == true)
        #expect(try RuntimeError.executable("sh", in: URL(fileURLWithPath: "/bin")).path == "/bin/sh")
    }

    @Test("a failed process is reported with its error line and status, not only 'see logs'")
    func failedProcessesAreNamedWithTheirErrorLine() async throws {
        let bin = try TemporaryDirectory(prefix: "sextant-launcher-bin")
        let logs = try TemporaryDirectory(prefix: "sextant-launcher-logs")
        try Self.install(Self.serverScript, as: "sextant-server", in: bin)
        try Self.install(Self.clientScript, as: "sextant-client", in: bin)
        let launcher = Launcher(
            plan: Launcher.Plan(
                configPath: "federation.yaml", binDirectory: bin.url, logDirectory: logs.url, remoteServer: nil,
                clientCount: 1))
        let outcome = try await launcher.run(isTerminal: false)
        #expect(outcome.failed == ["client-0", "server"])
        #expect(
            outcome.failureReport == [
                "client-0 failed (exit status 3): no data for client 0",
                "server failed (exit status 1): Error: could not bind server.bind tcp://127.0.0.1:7070: the address is in use",
            ])
    }

    @Test("every line a child writes comes before its exit, the last one included")
    func lastLinesArriveBeforeTheExit() async throws {
        let chatty = """
            #!/bin/sh
            i=0
            while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done
            echo "2026-11-29T08:00:02+0000 error sextant.client: [SextantRuntime] no data for client $4"
            exit 3
            """
        for _ in 0..<5 {
            let bin = try TemporaryDirectory(prefix: "sextant-launcher-bin")
            let logs = try TemporaryDirectory(prefix: "sextant-launcher-logs")
            try Self.install(Self.serverScript, as: "sextant-server", in: bin)
            try Self.install(chatty, as: "sextant-client", in: bin)
            let launcher = Launcher(
                plan: Launcher.Plan(
                    configPath: "federation.yaml", binDirectory: bin.url, logDirectory: logs.url, remoteServer: nil,
                    clientCount: 1))
            let outcome = try await launcher.run(isTerminal: false)
            #expect(outcome.failureReport.first == "client-0 failed (exit status 3): no data for client 0")
            let log = try String(contentsOf: logs.url(for: "client-0.log"), encoding: .utf8)
            #expect(log.split(separator: "\n").count == 3001)
        }
    }

    @Test("children crash without Swift's backtracer, which could hold them and their ports")
    func childrenCrashPromptly() async throws {
        let bin = try TemporaryDirectory(prefix: "sextant-launcher-bin")
        let logs = try TemporaryDirectory(prefix: "sextant-launcher-logs")
        try Self.install(Self.serverScript, as: "sextant-server", in: bin)
        try Self.install(Self.clientScript, as: "sextant-client", in: bin)
        let launcher = Launcher(
            plan: Launcher.Plan(
                configPath: "federation.yaml", binDirectory: bin.url, logDirectory: logs.url, remoteServer: nil,
                clientCount: 1))
        _ = try await launcher.run(isTerminal: false)
        let log = try String(contentsOf: logs.url(for: "client-0.log"), encoding: .utf8)
        #expect(log.contains("SWIFT_BACKTRACE=\(Launcher.backtraceSettings)\n"), "\(log)")
        #expect(Launcher.backtraceSettings == "enable=no")
    }

    @Test("the failure line: last words first, then the last error-level log line, then the last line")
    func failureLines() {
        var lines = FailureLines()
        lines.ingest(source: "a", line: "2026-11-29T08:00:01+0000 error sextant.server: [SextantRuntime] first")
        lines.ingest(source: "a", line: "2026-11-29T08:00:02+0000 info sextant.server: [SextantRuntime] later")
        #expect(lines.reason(for: "a") == "first")
        lines.ingest(source: "a", line: "Swift/Array.swift:1: Fatal error: Index out of range")
        lines.ingest(source: "a", line: "0  libswiftCore.so  0x0000 swift_reportError + 33")
        #expect(lines.reason(for: "a") == "Swift/Array.swift:1: Fatal error: Index out of range")
        lines.ingest(source: "b", line: "Assertion failed: !_io_error (stream_engine_base.cpp:331)")
        #expect(lines.reason(for: "b") == "Assertion failed: !_io_error (stream_engine_base.cpp:331)")
        lines.ingest(source: "c", line: "killed")
        #expect(lines.reason(for: "c") == "killed")
        #expect(lines.reason(for: "d") == nil)
    }
}
