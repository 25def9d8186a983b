/// Why `gradcheck` or `gradgradcheck` failed.
public struct GradcheckError: Error, CustomStringConvertible {
    /// What differed: the input, the Jacobian entry, and both values.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// Checks the analytic gradients of `function` against central finite differences
/// (PyTorch's `torch.autograd.gradcheck`).
///
/// Every Jacobian entry is compared: the analytic rows come from one backward pass per output
/// element, the numeric columns from `(f(x + eps) - f(x - eps)) / 2eps` per input element.
/// Inputs should be float64 and away from kinks.
/// - Parameters:
///   - function: the function of the inputs to check; its result may have any shape.
///   - inputs: the points; those with `requiresGrad` are differentiated.
///   - eps: the finite-difference step.
///   - atol, rtol: an entry passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
/// - Returns: `true` when every entry passes.
/// - Throws: `GradcheckError` naming the first failing entry; `AutogradError` from backward.
@discardableResult
public func gradcheck(_ function: ([Tensor]) throws -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                      atol: Double = 1e-5, rtol: Double = 1e-3) throws -> Bool {
    let differentiable = inputs.indices.filter { inputs[$0].requiresGrad }
    // Leaves holding the evaluation points, so perturbing them is independent of the caller's graph.
    let points = inputs.map { $0.requiresGrad ? $0.detached().clone().requiringGrad() : $0 }
    let output = try function(points)
    let outputCount = output.count
    // Analytic Jacobian, one row per output element.
    var analytic = [[Double]](repeating: [], count: differentiable.count)
    for (k, i) in differentiable.enumerated() {
        analytic[k] = [Double](repeating: 0, count: outputCount * points[i].count)
    }
    if output.requiresGrad {
        for row in 0..<outputCount {
            var onehot = [Double](repeating: 0, count: outputCount)
            onehot[row] = 1
            let v = Tensor(shape: output.shape, scalars: onehot).to(output.dtype)
            let grads = try grad(of: [output], wrt: differentiable.map { points[$0] }, gradOutputs: [v],
                                 retainGraph: true, allowUnused: true)
            for (k, g) in grads.enumerated() {
                guard let g else { continue }
                let values = g.to(.float64).scalars(as: Double.self)
                let n = points[differentiable[k]].count
                for j in 0..<n { analytic[k][row * n + j] = values[j] }
            }
        }
    }
    // Numeric Jacobian, one column per input element.
    for (k, i) in differentiable.enumerated() {
        let base = points[i].to(.float64).scalars(as: Double.self)
        let n = base.count
        for j in 0..<n {
            func evaluate(_ delta: Double) throws -> [Double] {
                var shifted = base
                shifted[j] += delta
                // Differentiable inputs stay leaves that require grad, so functions that differentiate
                // internally (gradgradcheck) can run; the result itself is only read.
                var args = points.map { $0.requiresGrad ? $0.detached().requiringGrad() : $0 }
                args[i] = Tensor(shape: points[i].shape, scalars: shifted).to(points[i].dtype).requiringGrad()
                return try function(args).detached().to(.float64).scalars(as: Double.self)
            }
            let plus = try evaluate(eps), minus = try evaluate(-eps)
            for row in 0..<outputCount {
                let numeric = (plus[row] - minus[row]) / (2 * eps)
                let a = analytic[k][row * n + j]
                if !(Swift.abs(a - numeric) <= atol + rtol * Swift.abs(numeric)) {
                    throw GradcheckError(message: "Jacobian mismatch for output 0 with respect to input \(i),\nnumerical:\(numeric)\nanalytical:\(a)\nat output element \(row), input element \(j)")
                }
            }
        }
    }
    return true
}

/// Checks second derivatives: the gradients of `function`'s vector-Jacobian product (with a
/// fixed random cotangent) against finite differences (PyTorch's `gradgradcheck`).
/// - Throws: `GradcheckError` naming the first failing entry.
@discardableResult
public func gradgradcheck(_ function: ([Tensor]) throws -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                          atol: Double = 1e-5, rtol: Double = 1e-3, seed: UInt64 = 0) throws -> Bool {
    let differentiable = inputs.indices.filter { inputs[$0].requiresGrad }
    let probe = try withNoGrad { try function(inputs.map { $0.detached() }) }
    let cotangent = Tensor.randn(probe.shape, dtype: .float64, seed: seed).to(probe.dtype)
    return try gradcheck({ args in
        let out = try function(args)
        let grads = try grad(of: [out], wrt: differentiable.map { args[$0] }, gradOutputs: [cotangent],
                             createGraph: true, allowUnused: true)
        var total: Tensor? = nil
        for (k, g) in grads.enumerated() {
            guard let g else { continue }
            // Weight each gradient differently so every entry influences the checked scalar.
            let term = (g * Tensor.randn(g.shape, dtype: .float64, seed: seed &+ UInt64(k) &+ 1).to(g.dtype)).sum()
            total = total.map { $0 + term } ?? term
        }
        return total ?? Tensor.zeros([], dtype: .float64)
    }, inputs: inputs, eps: eps, atol: atol, rtol: rtol)
}

extension Tensor {
    /// This leaf with `requiresGrad` set, for chaining.
    func requiringGrad() -> Tensor {
        requiresGrad = true
        return self
    }
}
