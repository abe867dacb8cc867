import Foundation
import SextantRuntime

/// A line chart as a self-contained SVG document: axes with ticks, one polyline per
/// series, a legend and an optional dashed horizontal reference line. No scripts, fonts or
/// links to anything outside the file. `Sendable`: plain values.
package struct SVGPlot: Sendable {
    package struct Series: Sendable {
        package var name: String
        package var points: [(x: Double, y: Double)]
    }

    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var width = 860.0
    package var height = 520.0
    package private(set) var series: [Series] = []
    /// A dashed line at this y with a label (the target accuracy).
    package var referenceLine: (y: Double, label: String)?

    /// Colour-blind-safe colours (Okabe-Ito), cycled.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    package init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    package mutating func addSeries(_ name: String, points: [(Double, Double)]) {
        series.append(Series(name: name, points: points.map { (x: $0.0, y: $0.1) }))
    }

    package func render() -> String {
        let left = 70.0, right = 170.0, top = 44.0, bottom = 56.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xTicks = Self.ticks(from: 0, to: max(all.map(\.x).max() ?? 1, 1e-9))
        var yValues = all.map(\.y)
        if let referenceLine { yValues.append(referenceLine.y) }
        let yTicks = Self.ticks(from: max(0, (yValues.min() ?? 0) - 0.02), to: min(1, (yValues.max() ?? 1) + 0.02))
        let (x0, x1) = (xTicks.first!, xTicks.last!)
        let (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotHeight }
        func f(_ value: Double) -> String { SimulationReport.format(value, digits: 1) }

        var svg = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>",
            "<text x=\"\(f(left + plotWidth / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>",
        ]
        // Grid and ticks.
        for tick in xTicks {
            let x = px(tick)
            svg.append(
                "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#e6e6e6\"/>"
            )
            svg.append(
                "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(Self.label(tick))</text>"
            )
        }
        for tick in yTicks {
            let y = py(tick)
            svg.append(
                "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#e6e6e6\"/>"
            )
            svg.append("<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.label(tick))</text>")
        }
        // Axes and their labels.
        svg.append(
            "<polyline fill=\"none\" stroke=\"#333333\" points=\"\(f(left)),\(f(top)) \(f(left)),\(f(top + plotHeight)) \(f(left + plotWidth)),\(f(top + plotHeight))\"/>"
        )
        svg.append(
            "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>"
        )
        svg.append(
            "<text x=\"18\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotHeight / 2)))\">\(Self.escape(yLabel))</text>"
        )
        if let referenceLine, referenceLine.y >= y0, referenceLine.y <= y1 {
            let y = py(referenceLine.y)
            svg.append(
                "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#777777\" stroke-dasharray=\"6 4\"/>"
            )
            svg.append(
                "<text x=\"\(f(left + plotWidth - 4))\" y=\"\(f(y - 5))\" text-anchor=\"end\" fill=\"#555555\">\(Self.escape(referenceLine.label))</text>"
            )
        }
        // One polyline per series, then the legend.
        for (index, line) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            svg.append(
                "<polyline class=\"series\" data-name=\"\(Self.escape(line.name))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"\(points.joined(separator: " "))\"/>"
            )
        }
        for (index, line) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let x = left + plotWidth + 16, y = top + 10 + Double(index) * 20
            svg.append(
                "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 24))\" y2=\"\(f(y))\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
            )
            svg.append("<text x=\"\(f(x + 30))\" y=\"\(f(y + 4))\">\(Self.escape(line.name))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Round tick positions covering [low, high]: 1, 2 or 5 times a power of ten apart.
    static func ticks(from low: Double, to high: Double, count: Int = 6) -> [Double] {
        let span = max(high - low, 1e-9)
        let raw = span / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(low / step) * step
        let last = ceil(high / step) * step
        var ticks: [Double] = []
        var tick = first
        while tick <= last + step / 2 {
            ticks.append(tick)
            tick += step
        }
        return ticks.count >= 2 ? ticks : [first, first + step]
    }

    static func label(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded()
            ? String(Int(rounded)) : SimulationReport.format(rounded, digits: abs(rounded) < 1 ? 2 : 1)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
