import SextantWire
import Testing

@Suite("ZMQContext.terminate", .timeLimit(.minutes(1)))
struct ContextTerminationTests {
    /// A process that closes a socket and exits at once loses what libzmq had not sent yet;
    /// terminating the context first waits for it.
    @Test("terminating waits until a closed socket's last message has left")
    func lastMessageLeaves() async throws {
        let receiving = try ZMQContext()
        let router = try ZMQSocket(context: receiving, type: .router)
        try router.setOption(.linger(milliseconds: 0))
        try router.bind(to: "tcp://127.0.0.1:*")
        let endpoint = try #require(router.lastEndpoint)

        let sending = try ZMQContext()
        let dealer = try ZMQSocket(context: sending, type: .dealer)
        try dealer.setOptions([.linger(milliseconds: 5000), .routingID(Array("last".utf8))])
        try dealer.connect(to: endpoint)
        try dealer.send([.bytes(Array("goodbye".utf8))])
        dealer.close()
        #expect(await sending.terminate(timeout: .seconds(10)))

        let ready = try ZMQPoller.poll([(router, .readable)], timeoutMilliseconds: 5000)
        #expect(ready == [.readable])
        let frames = try router.receiveMessage()
        #expect(frames.map(\.bytes) == [Array("last".utf8), Array("goodbye".utf8)])
        router.close()
    }

    @Test("terminating gives up after the timeout while a socket is open")
    func openSocketTimesOut() async throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        try socket.setOption(.linger(milliseconds: 0))
        #expect(await context.terminate(timeout: .milliseconds(200)) == false)
        // Closing the socket lets the waiting termination finish on its thread.
        socket.close()
    }
}
