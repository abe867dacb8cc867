import Logging

/// What the text and JSON log handlers share: one line per event, with the handler's
/// metadata, the provider's and the event's merged (the event's win).
package protocol LineLogHandler: LogHandler {}

extension LineLogHandler {
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The metadata an event is written with.
    func metadata(for event: LogEvent) -> Logger.Metadata {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        return fields
    }
}
