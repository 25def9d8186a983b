import Foundation

/// PyTorch's print options: 4 digits of precision, summarization beyond 1000 elements with 3
/// edge items, lines of 80 characters.
enum PrintOptions {
    static let precision = 4
    static let threshold = 1000
    static let edgeItems = 3
    static let lineWidth = 80
}

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The tensor printed as PyTorch prints it, with Swift spellings of the trailers:
    ///
    /// ```
    /// tensor([[1, 2],
    ///         [3, 4]])
    /// tensor(89., gradFn=<SubBackward0>)
    /// tensor([0.5000, 1.0000], device=cuda:0, dtype=float64, requiresGrad=true)
    /// ```
    public var description: String { TensorFormatter.describe(self) }

    /// Same as `description`.
    public var debugDescription: String { description }
}

/// Formats tensors following `torch/_tensor_str.py`.
enum TensorFormatter {
    static func describe(_ tensor: Tensor) -> String {
        let prefix = "tensor("
        let indent = prefix.count
        var suffixes: [String] = []
        let t = withNoGrad { tensor.detached().cpu() }
        let summarize = t.count > PrintOptions.threshold
        var body: String
        if t.count == 0 && t.rank != 1 {
            body = "[]"
            suffixes.append("size=\(Shape.describe(t.shape))")
        } else if t.count == 0 {
            body = "[]"
        } else {
            let values = t.to(.float64).scalars(as: Double.self)
            let formatter = Formatter(values: summarize ? summarizedValues(t) : values, dtype: t.dtype)
            body = formatTensor(values: values, shape: t.shape, indent: indent, summarize: summarize, formatter: formatter)
        }
        if tensor.device != .cpu { suffixes.append("device=\(tensor.device)") }
        let defaultDType: Set<DType> = [.float32, .int64, .bool]
        if !defaultDType.contains(tensor.dtype) || (tensor.count == 0 && tensor.dtype != .float32) {
            if !(tensor.count == 0 && tensor.dtype == .float32) { suffixes.append("dtype=\(tensor.dtype)") }
        }
        if let fn = tensor.gradFn {
            suffixes.append("gradFn=<\(fn.name)>")
        } else if tensor.requiresGrad {
            suffixes.append("requiresGrad=true")
        }
        var result = prefix + body
        var lastLineLength = body.count - (body.lastIndex(of: "\n").map { body.distance(from: body.startIndex, to: $0) } ?? -1) + 1 + prefix.count
        if body.contains("\n") {
            let lastLine = body[body.index(after: body.lastIndex(of: "\n")!)...]
            lastLineLength = lastLine.count + 1
        }
        for suffix in suffixes {
            if lastLineLength + suffix.count + 2 > PrintOptions.lineWidth {
                result += ",\n" + String(repeating: " ", count: indent) + suffix
                lastLineLength = indent + suffix.count
            } else {
                result += ", " + suffix
                lastLineLength += suffix.count + 2
            }
        }
        return result + ")"
    }

    /// The elements a summarized print shows (edge items of every dim), for sizing the columns.
    static func summarizedValues(_ t: Tensor) -> [Double] {
        let values = t.to(.float64).scalars(as: Double.self)
        var result: [Double] = []
        func walk(_ base: Int, _ dim: Int) {
            if dim == t.rank {
                result.append(values[base])
                return
            }
            let n = t.shape[dim]
            let stride = Shape.contiguousStrides(t.shape)[dim]
            let indices: [Int] = n > 2 * PrintOptions.edgeItems
                ? Array(0..<PrintOptions.edgeItems) + Array((n - PrintOptions.edgeItems)..<n) : Array(0..<n)
            for i in indices { walk(base + i * stride, dim + 1) }
        }
        walk(0, 0)
        return result
    }

    static func formatTensor(values: [Double], shape: [Int], indent: Int, summarize: Bool, formatter: Formatter) -> String {
        let strides = Shape.contiguousStrides(shape)
        func format(_ base: Int, _ dim: Int, _ indent: Int) -> String {
            if dim == shape.count { return formatter.format(values[base]) }
            let n = shape[dim]
            if dim == shape.count - 1 {
                var items: [String]
                if summarize && n > 2 * PrintOptions.edgeItems {
                    items = (0..<PrintOptions.edgeItems).map { formatter.format(values[base + $0 * strides[dim]]) }
                    items.append(" ...")
                    items += ((n - PrintOptions.edgeItems)..<n).map { formatter.format(values[base + $0 * strides[dim]]) }
                } else {
                    items = (0..<n).map { formatter.format(values[base + $0 * strides[dim]]) }
                }
                let elementLength = formatter.width + 2
                let perLine = Swift.max(1, (PrintOptions.lineWidth - indent) / elementLength)
                var lines: [String] = []
                var i = 0
                while i < items.count {
                    lines.append(items[i..<Swift.min(i + perLine, items.count)].joined(separator: ", "))
                    i += perLine
                }
                return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
            }
            var slices: [String]
            if summarize && n > 2 * PrintOptions.edgeItems {
                slices = (0..<PrintOptions.edgeItems).map { format(base + $0 * strides[dim], dim + 1, indent + 1) }
                slices.append("...")
                slices += ((n - PrintOptions.edgeItems)..<n).map { format(base + $0 * strides[dim], dim + 1, indent + 1) }
            } else {
                slices = (0..<n).map { format(base + $0 * strides[dim], dim + 1, indent + 1) }
            }
            let separator = "," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent + 1)
            return "[" + slices.joined(separator: separator) + "]"
        }
        return format(0, 0, indent)
    }

    /// PyTorch's `_Formatter`: integer mode, fixed or scientific notation, common width.
    struct Formatter {
        let floating: Bool
        let isBool: Bool
        var intMode = true
        var sciMode = false
        var width = 1

        init(values: [Double], dtype: DType) {
            floating = dtype.isFloatingPoint
            isBool = dtype == .bool
            if !floating {
                for v in values { width = Swift.max(width, integerString(v).count) }
                return
            }
            let finite = values.filter { $0.isFinite && $0 != 0 }
            if finite.isEmpty {
                // Only zeros and non-finite values: int mode, width 1 (PyTorch returns early).
                return
            }
            let absValues = finite.map { Swift.abs($0) }
            let minValue = absValues.min()!, maxValue = absValues.max()!
            for v in finite where v != v.rounded(.up) {
                intMode = false
                break
            }
            if intMode {
                if maxValue / minValue > 1000 || maxValue > 1e8 {
                    sciMode = true
                    for v in finite { width = Swift.max(width, sci(v).count) }
                } else {
                    for v in finite { width = Swift.max(width, String(format: "%.0f", v).count + 1) }
                }
            } else if maxValue / minValue > 1000 || maxValue > 1e8 || minValue < 1e-4 {
                sciMode = true
                for v in finite { width = Swift.max(width, sci(v).count) }
            } else {
                for v in finite { width = Swift.max(width, fixed(v).count) }
            }
        }

        func integerString(_ v: Double) -> String {
            if isBool { return v != 0 ? "True" : "False" }
            return String(Int64(v))
        }

        func nonFinite(_ v: Double) -> String { v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        func fixed(_ v: Double) -> String { String(format: "%.\(PrintOptions.precision)f", v) }
        func sci(_ v: Double) -> String { String(format: "%.\(PrintOptions.precision)e", v) }

        func format(_ v: Double) -> String {
            var s: String
            if !floating {
                s = integerString(v)
            } else if !v.isFinite {
                s = nonFinite(v)
            } else if sciMode {
                s = sci(v)
            } else if intMode {
                s = String(format: "%.0f", v) + "."
            } else {
                s = fixed(v)
            }
            if s.count < width { s = String(repeating: " ", count: width - s.count) + s }
            return s
        }
    }
}
