extension SocketThread {
    /// What socket to make and how. Defaults are the safe ones from docs/design.md 4.
    public struct Configuration: Sendable {
        public var type: ZMQSocketType
        /// Applied in order before binding or connecting.
        public var options: [ZMQSocketOption]
        public var bindEndpoints: [String]
        public var connectEndpoints: [String]
        /// How long unsent messages survive `shutdown()`. Default 1000 ms (libzmq's -1
        /// would block the thread's exit forever on a dead peer).
        public var lingerMilliseconds: Int32
        /// Received messages not yet taken from `messages` before the thread stops
        /// reading, so a slow consumer pushes back on peers instead of growing memory.
        /// Default 16.
        public var receiveBufferLimit: Int
        /// How long a send may wait for room (full high-water mark, peer not connected)
        /// before it fails with `wouldBlock`. Default 10 s. Not for ROUTER sockets: there a
        /// send to a peer whose queue is full fails at once, so that one slow client cannot
        /// hold up the messages to all the others (updates are acked and retried anyway).
        public var sendTimeout: Duration
        /// Names the OS thread, for debuggers and logs.
        public var name: String
        /// Logs each connection that fails its security handshake (no CURVE, a wrong
        /// server key) with the peer's address. Refusals by the ZAP handler are logged there.
        public var logsRefusedHandshakes = false

        public init(
            type: ZMQSocketType, options: [ZMQSocketOption] = [], bindEndpoints: [String] = [],
            connectEndpoints: [String] = [], lingerMilliseconds: Int32 = 1000,
            receiveBufferLimit: Int = 16, sendTimeout: Duration = .seconds(10), name: String = "sextant-zmq"
        ) {
            self.type = type
            self.options = options
            self.bindEndpoints = bindEndpoints
            self.connectEndpoints = connectEndpoints
            self.lingerMilliseconds = lingerMilliseconds
            self.receiveBufferLimit = receiveBufferLimit
            self.sendTimeout = sendTimeout
            self.name = name
        }
    }
}
