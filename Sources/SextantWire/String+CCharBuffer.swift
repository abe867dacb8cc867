extension String {
    /// The text of a C character buffer up to its first NUL (or all of it if there is none).
    init(cCharBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
