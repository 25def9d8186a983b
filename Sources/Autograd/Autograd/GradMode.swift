#if canImport(Runtime)
import Runtime
#endif

/// Whether operations record the tape; scoped to the current task or thread.
public enum GradMode {
    @TaskLocal static var enabled = true
    @TaskLocal static var inference = false

    /// Whether operations started now are recorded for autograd.
    public static var isEnabled: Bool { enabled && !inference }

    /// Whether inference mode is active (no recording, no version checks needed).
    public static var isInferenceMode: Bool { inference }
}

/// Runs `body` with gradient recording disabled (PyTorch's `torch.no_grad()`).
///
/// Results computed inside do not require grad; this is how parameter updates are written.
/// The setting is scoped to the current task or thread.
@discardableResult
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

/// Runs `body` with gradient recording enabled, also inside `withNoGrad` (PyTorch's `torch.enable_grad()`).
@discardableResult
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(true, operation: body)
}

/// Runs `body` in inference mode (PyTorch's `torch.inference_mode()`): nothing is recorded,
/// even inside `withGrad`.
@discardableResult
public func withInferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$inference.withValue(true, operation: body)
}

// MARK: - Anomaly detection

/// Anomaly detection: when enabled, backward checks every node's results for NaN/Inf and
/// nodes remember where they were created.
public enum AnomalyMode {
    @TaskLocal static var enabled = false

    /// Whether anomaly detection is active in this task or thread.
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` with anomaly detection on or off (PyTorch's `torch.autograd.detect_anomaly()`):
/// nodes recorded inside remember the source location of the call that created them, and a
/// backward run inside throws `AutogradError.anomaly` naming the first node whose result holds
/// a NaN or an infinity, and where that node was created. Slow: use it to debug.
@discardableResult
public func withAnomalyDetection<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
    try AnomalyMode.$enabled.withValue(enabled, operation: body)
}

/// Where a node was created: a backtrace captured in anomaly mode, symbolicated only when an
/// anomaly is reported.
struct CreationTrace: @unchecked Sendable {
    // @unchecked Sendable: `backtrace` holds an immutable `Backtrace` value (stored as `Any`
    // because the type's availability may be newer than the deployment target).
    private let backtrace: Any?

    /// The directory of this library's sources, whose frames are skipped.
    private static let librarySources: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/"
    }()

    static func capture() -> CreationTrace {
        #if canImport(Runtime)
        if #available(macOS 26.0, iOS 26.0, *) {
            return CreationTrace(backtrace: try? Backtrace.capture())
        }
        #endif
        return CreationTrace(backtrace: nil)
    }

    /// The first frame outside this library that has a source location (`file:line in
    /// function`), else the first few frames' symbols; `nil` when nothing could be captured.
    var description: String? {
        #if canImport(Runtime)
        if #available(macOS 26.0, iOS 26.0, *), let trace = backtrace as? Backtrace,
           let symbolicated = trace.symbolicated() {
            var fallback: [String] = []
            for frame in symbolicated.frames {
                guard let symbol = frame.symbol else { continue }
                if let location = symbol.sourceLocation {
                    if location.path.hasPrefix(CreationTrace.librarySources) { continue }
                    return "\(location.path):\(location.line) in \(symbol.name)"
                }
                if fallback.count < 8 { fallback.append(symbol.name) }
            }
            return fallback.isEmpty ? nil : fallback.joined(separator: " <- ")
        }
        #endif
        return nil
    }
}
