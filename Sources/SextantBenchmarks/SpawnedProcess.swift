import Foundation
import SextantRuntime

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with posix_spawn and reaped with wait4, which, unlike
/// Foundation's `Process`, hands back the child's own resource usage: its CPU time and
/// peak resident memory. Output goes to files. Not Sendable: one caller owns it.
final class SpawnedProcess {
    let name: String
    let pid: pid_t
    private(set) var usage: rusage?
    private(set) var status: Int32?
    /// The largest resident size seen by ``wait(timeout:)``'s sampling, in bytes.
    private(set) var sampledPeakResident = 0

    /// Starts `executable` with `arguments` and `environment`, standard output and error to the given files.
    init(
        name: String, executable: String, arguments: [String], environment: [String: String], output: String,
        error: String
    ) throws {
        self.name = name
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw RuntimeError(
                .invalidConfiguration, "could not start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    var isRunning: Bool { status == nil && !poll() }

    /// Reaps the child if it has ended; returns whether it has.
    @discardableResult
    func poll() -> Bool {
        guard status == nil else { return true }
        var raw: Int32 = 0
        var used = rusage()
        let reaped = wait4(pid, &raw, WNOHANG, &used)
        guard reaped == pid else { return false }
        usage = used
        status = raw
        return true
    }

    /// Waits until the child ends or `timeout` seconds pass; returns whether it ended.
    func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !poll() {
            guard Date() < deadline else { return false }
            sampledPeakResident = max(sampledPeakResident, residentBytes() ?? 0)
            usleep(20_000)
        }
        return true
    }

    /// The running child's resident memory now, from /proc (Linux); nil elsewhere.
    func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// Whether it exited with status 0.
    var succeeded: Bool {
        guard let status else { return false }
        return status & 0x7f == 0 && (status >> 8) & 0xff == 0
    }

    /// "exit status N" or "killed by signal N".
    var statusDescription: String {
        guard let status else { return "running" }
        return status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
    }

    /// User plus system CPU seconds of the ended child.
    var cpuSeconds: Double {
        guard let usage else { return 0 }
        return Self.seconds(usage.ru_utime) + Self.seconds(usage.ru_stime)
    }

    /// Peak resident memory of the ended child, in bytes (Linux reports KiB).
    var peakMemory: Int {
        usage.map { $0.ru_maxrss * 1024 } ?? 0
    }

    /// CPU seconds the running child has used so far, from /proc (Linux); nil elsewhere.
    func cpuSecondsSoFar() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000
    }
}
