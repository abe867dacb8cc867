import Foundation

/// Decimal numbers (`-12`, `3.25`, `.5`, `1e-3`) read straight from a file's bytes.
///
/// Numbers of at most 19 significant digits whose value is an exact `Double` times a power of
/// ten up to 22 take the exact fast path (one multiplication or division of two exact
/// doubles rounds correctly); any other decimal goes to `strtod`, so every result is the
/// correctly rounded `Double`. Anything but an optional sign, digits, one point and an
/// exponent is not a number (no hex, `inf` or `nan`).
enum DecimalParser {
    private static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    static func parse(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Double? {
        var i = start
        var negative = false
        if b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var digits = 0
        var exact = true
        while i < end, b[i] &- 48 < 10 {
            accumulate(b[i] &- 48, into: &mantissa, significant: &significant, exponent: &exponent, exact: &exact)
            digits += 1
            i += 1
        }
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < end, b[i] &- 48 < 10 {
                accumulate(b[i] &- 48, into: &mantissa, significant: &significant, exponent: &exponent, exact: &exact)
                exponent -= 1
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < end, b[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var exponentNegative = false
            if i < end, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
                exponentNegative = b[i] == UInt8(ascii: "-")
                i += 1
            }
            var written = 0
            var exponentDigits = 0
            while i < end, b[i] &- 48 < 10 {
                if written < 100_000 { written = written * 10 + Int(b[i] &- 48) }
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard i == end else { return nil }
        if exact, mantissa <= 1 << 53, abs(exponent) <= 22 {
            let value =
                exponent >= 0 ? Double(mantissa) * powersOfTen[exponent] : Double(mantissa) / powersOfTen[-exponent]
            return negative ? -value : value
        }
        return slowParse(b, from: start, to: end)
    }

    /// Appends a digit, or notes that digits past the 19th make the fast path inexact.
    @inline(__always)
    private static func accumulate(
        _ digit: UInt8, into mantissa: inout UInt64, significant: inout Int, exponent: inout Int, exact: inout Bool
    ) {
        if mantissa == 0 && digit == 0 { return }
        if significant < 19 {
            mantissa = mantissa * 10 + UInt64(digit)
            significant += 1
        } else {
            exact = false
        }
    }

    private static func slowParse(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Double? {
        var text = [CChar](repeating: 0, count: end - start + 1)
        for k in start..<end { text[k - start] = CChar(bitPattern: b[k]) }
        return text.withUnsafeBufferPointer { pointer -> Double? in
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(pointer.baseAddress!, &stop)
            return stop == UnsafeMutablePointer(mutating: pointer.baseAddress! + (end - start)) ? value : nil
        }
    }

    /// `NA`, `N/A`, `NaN` or `null`, in any case: how pandas and NumPy write a missing value.
    static func isMissingMarker(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        let length = end - start
        guard length >= 2, length <= 4 else { return false }
        var word = ""
        for k in start..<end { word.append(Character(Unicode.Scalar(b[k] | 0x20))) }
        return ["na", "n/a", "nan", "null"].contains(word)
    }
}
