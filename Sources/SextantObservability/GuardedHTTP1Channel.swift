import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// Hummingbird's HTTP/1 child channel with ``HTTPLimits`` enforced around it: a connection
/// count checked at accept, ``HeadLimitHandler`` in front of the HTTP decoder (head size
/// and head deadline, on raw bytes) and ``RequestLimitHandler`` behind it (body size,
/// decoder errors). Everything here runs on the endpoint's own event loop; see
/// docs/design.md.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    private let inner: HTTP1Channel
    private let limits: HTTPLimits
    private let connections: ConnectionCount

    init(responder: @escaping HTTPChannelHandler.Responder, limits: HTTPLimits, connections: ConnectionCount) {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeadBytes, maxHeaderListSize: limits.maxHeadBytes,
            maxHeaderFieldCount: limits.maxHeaderCount)
        // An autoclosure: evaluated once per connection, so each has handlers of its own.
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestLimitHandler(maxBodyBytes: limits.maxBodyBytes)],
            idleTimeout: TimeAmount(limits.idleTimeout), httpDecoderConfiguration: decoder)
        inner = HTTP1Channel(responder: responder, configuration: configuration)
        self.limits = limits
        self.connections = connections
    }

    /// The builder that ``ObservabilityServer`` hands to Hummingbird.
    static func builder(limits: HTTPLimits, connections: ConnectionCount) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedHTTP1Channel(responder: responder, limits: limits, connections: connections)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connections = connections
        let admitted = connections.admit(limit: limits.maxConnections)
        channel.closeFuture.whenComplete { _ in connections.release() }
        let limits = limits
        let inner = inner
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                HeadLimitHandler(maxHeadBytes: limits.maxHeadBytes, headTimeout: TimeAmount(limits.headTimeout)),
                position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }.map { value in
            // Closed only once set up: a failed setup would be reported on the listening
            // channel, which would then stop accepting.
            if !admitted {
                logger.debug(
                    "closing a connection past the limit", metadata: ["limit": "\(limits.maxConnections)"])
                channel.close(promise: nil)
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// The endpoint's open connections, counted across its channels.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)

    /// Counts one more connection; whether it is within `limit`.
    func admit(limit: Int) -> Bool {
        open.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// What ``RequestLimitHandler`` (behind the decoder) tells ``HeadLimitHandler`` (in front
/// of it), as outbound user events that travel toward the socket.
enum RequestLimitEvent {
    /// A request head arrived complete and was passed on.
    case headReceived
    /// Bytes of a request body were decoded (they are not head bytes).
    case bodyBytes(Int)
    /// A response was written to its end.
    case responseEnded
    /// The request breaks a limit: answer with this status when nothing else is in flight,
    /// then close.
    case refuse(HTTPResponseStatus)
}

/// First in the pipeline, on raw bytes: the head-size limit (which NIO's decoder does not
/// apply to the request line) and the head deadline.
///
/// The decoder is fed at most ``sliceBytes`` at a time, so a head is refused after at
/// most that many bytes past the limit. The count of a head's bytes is an upper bound:
/// bytes that follow a completed head in the same slice count toward the next one.
final class HeadLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let sliceBytes = 1024

    private let maxHeadBytes: Int
    private let headTimeout: TimeAmount
    /// Bytes received that may belong to the head not yet complete.
    private var headBytes = 0
    /// Heads passed on whose responses have not ended.
    private var requestsInFlight = 0
    private var deadline: Scheduled<Void>?
    private var refused = false
    /// Within one slice's trip through the decoder.
    private var headCompletedInSlice = false
    private var bodyBytesInSlice = 0

    init(maxHeadBytes: Int, headTimeout: TimeAmount) {
        self.maxHeadBytes = maxHeadBytes
        self.headTimeout = headTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while !refused, let slice = buffer.readSlice(length: min(buffer.readableBytes, Self.sliceBytes)),
            slice.readableBytes > 0
        {
            headCompletedInSlice = false
            bodyBytesInSlice = 0
            let count = slice.readableBytes
            context.fireChannelRead(wrapInboundOut(slice))
            if refused { return }
            headBytes = max(0, (headCompletedInSlice ? count : headBytes + count) - bodyBytesInSlice)
            if headBytes > maxHeadBytes {
                refuse(.requestHeaderFieldsTooLarge, context: context)
            }
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestLimitEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived:
            requestsInFlight += 1
            headCompletedInSlice = true
            headBytes = 0
            deadline?.cancel()
            deadline = nil
        case .bodyBytes(let count):
            bodyBytesInSlice += count
        case .responseEnded:
            requestsInFlight = max(0, requestsInFlight - 1)
            if requestsInFlight == 0 { armDeadline(context: context) }
        case .refuse(let status):
            refuse(status, context: context)
        }
        promise?.succeed()
    }

    private func armDeadline(context: ChannelHandlerContext) {
        guard !refused else { return }
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headTimeout) {
            self.deadline = nil
            self.refuse(.requestTimeout, context: context)
        }
    }

    /// Answers `status` straight on the socket (unless a response is in flight, which it
    /// would interleave with), then closes; what arrives after that is dropped.
    private func refuse(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        deadline?.cancel()
        deadline = nil
        guard requestsInFlight == 0 else {
            context.close(promise: nil)
            return
        }
        let text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Behind the HTTP decoder: the body limit, and decoder errors (too many or too large
/// headers) turned into a refusal by ``HeadLimitHandler`` instead of Hummingbird's 400.
final class RequestLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let maxBodyBytes: Int
    private var bodyBytes = 0
    private var refused = false

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
                refuse(.payloadTooLarge, context: context)
                return
            }
            bodyBytes = 0
            context.triggerUserOutboundEvent(RequestLimitEvent.headReceived, promise: nil)
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            context.triggerUserOutboundEvent(RequestLimitEvent.bodyBytes(buffer.readableBytes), promise: nil)
            if bodyBytes > maxBodyBytes {
                refuse(.payloadTooLarge, context: context)
                return
            }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if ended { context.triggerUserOutboundEvent(RequestLimitEvent.responseEnded, promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        refuse(parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest, context: context)
    }

    private func refuse(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        context.triggerUserOutboundEvent(RequestLimitEvent.refuse(status), promise: nil)
    }
}
