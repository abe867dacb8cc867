extension FeaturePipeline {
    /// Turns the raw rows of a table file into model inputs with the pipeline, the one step
    /// between a file's fields and a network's input vector (used by `sextant predict`).
    ///
    /// Columns are found by name in the header; others (the label, identifiers) are
    /// ignored. For array data stored as a table (one column per value, as a flattened image)
    /// every column but the target's and the ignored ones is read, in order.
    package struct RowEncoder: Sendable {
        package let pipeline: FeaturePipeline
        /// The header position of each pipeline column (tables) or of each value (arrays).
        let positions: [Int]
        let file: String

        package init(pipeline: FeaturePipeline, header: [String], file: String) throws {
            self.pipeline = pipeline
            self.file = file
            if pipeline.arrayShape == nil {
                positions = try pipeline.columns.map { column in
                    guard let position = header.firstIndex(of: column.name) else {
                        throw SextantMLError(
                            code: .invalidArgument,
                            "\(file): no column '\(column.name)' in the header; the model reads \(pipeline.columns.map(\.name).joined(separator: ", "))"
                        )
                    }
                    return position
                }
            } else {
                let skipped = Set(pipeline.ignored + [pipeline.target.name])
                positions = header.indices.filter { !skipped.contains(header[$0]) }
                guard positions.count == pipeline.inputWidth else {
                    throw SextantMLError(
                        code: .invalidArgument,
                        "\(file): \(positions.count) feature columns, the model reads \(pipeline.inputWidth) values (\(pipeline.inputShape))"
                    )
                }
            }
        }

        /// Whether a cell counts as missing: empty, `NA` or `NaN`.
        package static func isMissing(_ cell: Substring) -> Bool {
            cell.isEmpty || cell.equalsIgnoringCase("na") || cell.equalsIgnoringCase("nan")
        }

        /// Appends the model input of one row (`row` counts data rows from 1, for errors).
        package func encode(_ fields: [Substring], row: Int, into features: inout [Float]) throws {
            func fail(_ position: Int, _ problem: String) -> SextantMLError {
                SextantMLError(code: .corruptData, "\(file) row \(row) column \(position + 1): \(problem)")
            }
            func number(_ position: Int, name: String) throws -> Float? {
                guard position < fields.count else { throw fail(position, "the row has only \(fields.count) fields") }
                let cell = fields[position].trimmingWhitespace()
                if Self.isMissing(cell) { return nil }
                guard let value = Float(cell), value.isFinite else {
                    throw fail(position, "'\(name)' is not a finite number: '\(cell)'")
                }
                return value
            }
            guard pipeline.arrayShape == nil else {
                let plane = pipeline.inputShape.height * pipeline.inputShape.width
                for (index, position) in positions.enumerated() {
                    guard let value = try number(position, name: "value \(index)") else {
                        throw fail(position, "missing value (array data cannot be imputed)")
                    }
                    let scaling = pipeline.arrayScaling
                    features.append(
                        scaling.isEmpty ? value : scaling[min(index / plane, scaling.count - 1)].apply(value))
                }
                return
            }
            for (column, position) in zip(pipeline.columns, positions) {
                switch column.kind {
                case .numeric(let numeric):
                    guard let value = try number(position, name: column.name) ?? numeric.imputation else {
                        throw fail(position, "'\(column.name)' is missing and the federation agreed no imputation")
                    }
                    features.append(numeric.transform.apply(value))
                case .categorical(let categorical):
                    guard position < fields.count else {
                        throw fail(position, "the row has only \(fields.count) fields")
                    }
                    let cell = fields[position].trimmingWhitespace()
                    let index = categorical.vocabulary.firstIndex { $0[...] == cell }
                    if index == nil && !categorical.allowsUnknown {
                        throw fail(
                            position,
                            Self.isMissing(cell)
                                ? "'\(column.name)' is missing"
                                : "'\(column.name)' has category '\(cell)' outside the agreed \(categorical.vocabulary)"
                        )
                    }
                    for candidate in categorical.vocabulary.indices { features.append(candidate == index ? 1 : 0) }
                }
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var slice = self
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return slice
    }

    fileprivate func equalsIgnoringCase(_ word: String) -> Bool {
        count == word.count && lowercased() == word
    }
}
