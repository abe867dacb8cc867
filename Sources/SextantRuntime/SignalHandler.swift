import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a callback, so that services stop cleanly (commit,
/// say goodbye) instead of dying mid-write.
package final class SignalHandler {
    private let sources: [any DispatchSourceSignal]

    package init(signals: [Int32] = [SIGINT, SIGTERM], _ handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
    }
}
