import Foundation

/// A small inline-SVG chart: axes (linear or log10), polylines and bars, a legend.
/// Builds text only; no scripts, fonts or external references.
struct SVGPlot {
    enum Scale {
        case linear
        case log
    }

    struct Axis {
        var label: String
        var range: ClosedRange<Double>
        var scale: Scale = .linear
    }

    var title: String
    var x: Axis
    var y: Axis
    var width = 460.0
    var height = 320.0
    private let margin = (left: 58.0, right: 16.0, top: 30.0, bottom: 46.0)
    private var body: [String] = []
    private var legend: [(label: String, color: String)] = []

    init(title: String, x: Axis, y: Axis) {
        self.title = title
        self.x = x
        self.y = y
    }

    private func position(_ value: Double, on axis: Axis, from start: Double, length: Double) -> Double {
        let (low, high, v): (Double, Double, Double)
        switch axis.scale {
        case .linear: (low, high, v) = (axis.range.lowerBound, axis.range.upperBound, value)
        case .log:
            (low, high, v) = (
                log10(axis.range.lowerBound), log10(axis.range.upperBound),
                log10(max(value, axis.range.lowerBound))
            )
        }
        let fraction = high > low ? (min(max(v, low), high) - low) / (high - low) : 0.5
        return start + fraction * length
    }

    private var plotWidth: Double { width - margin.left - margin.right }
    private var plotHeight: Double { height - margin.top - margin.bottom }

    func px(_ value: Double) -> Double { position(value, on: x, from: margin.left, length: plotWidth) }
    func py(_ value: Double) -> Double {
        margin.top + plotHeight - position(value, on: y, from: 0, length: plotHeight)
    }

    /// A line through `points` (data coordinates).
    mutating func line(
        _ points: [(Double, Double)], color: String, label: String? = nil, width: Double = 1.5, dashed: Bool = false,
        opacity: Double = 1
    ) {
        guard !points.isEmpty else { return }
        let coordinates = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        body.append(
            "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(f(width))\" stroke-opacity=\"\(f(opacity))\"\(dashed ? " stroke-dasharray=\"4 3\"" : "") points=\"\(coordinates)\"/>"
        )
        if let label { legend.append((label, color)) }
    }

    /// A bar from (x0, 0) to (x1, height).
    mutating func bar(from x0: Double, to x1: Double, height value: Double, color: String, opacity: Double = 0.5) {
        let (left, right) = (px(x0), px(x1))
        let (top, bottom) = (py(value), py(y.range.lowerBound))
        body.append(
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(max(right - left, 0.5)))\" height=\"\(f(max(bottom - top, 0)))\" fill=\"\(color)\" fill-opacity=\"\(f(opacity))\"/>"
        )
    }

    mutating func addLegend(_ label: String, color: String) {
        legend.append((label, color))
    }

    private func ticks(_ axis: Axis) -> [Double] {
        switch axis.scale {
        case .log:
            let low = Int(log10(axis.range.lowerBound).rounded(.up))
            let high = Int(log10(axis.range.upperBound).rounded(.down))
            return low <= high ? (low...high).map { pow(10, Double($0)) } : []
        case .linear:
            let span = axis.range.upperBound - axis.range.lowerBound
            guard span > 0 else { return [axis.range.lowerBound] }
            let raw = span / 5
            let magnitude = pow(10, log10(raw).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var tick = (axis.range.lowerBound / step).rounded(.up) * step
            var result: [Double] = []
            while tick <= axis.range.upperBound + step * 1e-9 {
                result.append(tick)
                tick += step
            }
            return result
        }
    }

    private func tickLabel(_ value: Double, _ axis: Axis) -> String {
        if axis.scale == .log {
            return value >= 1 ? "1" : String(format: "%g", value)
        }
        return abs(value) < 1e-12 ? "0" : String(format: "%g", (value * 1e6).rounded() / 1e6)
    }

    /// The `<svg>` element.
    func render() -> String {
        var parts: [String] = []
        parts.append(
            "<svg class=\"plot\" font-family=\"sans-serif\" font-size=\"11\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\">"
        )
        parts.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>")
        parts.append("<title>\(escapeHTML(title))</title>")
        parts.append(
            "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" class=\"plot-title\">\(escapeHTML(title))</text>"
        )
        let (left, right) = (margin.left, margin.left + plotWidth)
        let (top, bottom) = (margin.top, margin.top + plotHeight)
        for tick in ticks(x) {
            let p = px(tick)
            parts.append(
                "<line x1=\"\(f(p))\" y1=\"\(f(top))\" x2=\"\(f(p))\" y2=\"\(f(bottom))\" stroke=\"#e6e6e6\"/>")
            parts.append(
                "<text x=\"\(f(p))\" y=\"\(f(bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(tickLabel(tick, x))</text>"
            )
        }
        for tick in ticks(y) {
            let p = py(tick)
            parts.append(
                "<line x1=\"\(f(left))\" y1=\"\(f(p))\" x2=\"\(f(right))\" y2=\"\(f(p))\" stroke=\"#e6e6e6\"/>")
            parts.append(
                "<text x=\"\(f(left - 5))\" y=\"\(f(p + 4))\" text-anchor=\"end\" class=\"tick\">\(tickLabel(tick, y))</text>"
            )
        }
        parts.append(
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999999\"/>"
        )
        parts.append(contentsOf: body)
        parts.append(
            "<text x=\"\(f((left + right) / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis\">\(escapeHTML(x.label))</text>"
        )
        parts.append(
            "<text x=\"14\" y=\"\(f((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f((top + bottom) / 2)))\" class=\"axis\">\(escapeHTML(y.label))</text>"
        )
        for (index, entry) in legend.enumerated() {
            let ly = top + 12 + Double(index) * 15
            parts.append(
                "<rect x=\"\(f(left + 8))\" y=\"\(f(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(entry.color)\"/>")
            parts.append(
                "<text x=\"\(f(left + 22))\" y=\"\(f(ly + 1))\" class=\"legend\">\(escapeHTML(entry.label))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// Escapes text for HTML element content and attribute values.
func escapeHTML(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        default: result.append(character)
        }
    }
    return result
}
