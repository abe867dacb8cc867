extension SocketThread {
    /// The received messages of a `SocketThread`. Taking a message tells the thread it
    /// may read more (see `Configuration.receiveBufferLimit`).
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = [ZMQFrame]
        public typealias Failure = Never

        let stream: AsyncStream<[ZMQFrame]>
        let core: SocketThreadCore

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), core: core)
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncStream<[ZMQFrame]>.AsyncIterator
            let core: SocketThreadCore

            public mutating func next() async -> [ZMQFrame]? {
                let frames = await base.next()
                if frames != nil { core.didConsume() }
                return frames
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async -> [ZMQFrame]? {
                let frames = await base.next(isolation: actor)
                if frames != nil { core.didConsume() }
                return frames
            }
        }
    }
}
