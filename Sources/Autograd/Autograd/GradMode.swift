#if canImport(Runtime)
import Runtime
#endif
import Synchronization

/// Whether operations record the tape (PyTorch's grad mode).
///
/// The setting is scoped, never global: `withNoGrad`, `withGrad` and `withInferenceMode` set
/// it for the duration of their body on the current thread, and for the current task and the
/// child tasks it creates (`async let`, task groups, `Task { }`), because it is held in
/// task-local values. A new `Thread`, a `Task.detached` or a Dispatch work item starts with
/// grad mode on, as a new Python thread does.
public enum GradMode {
    @TaskLocal static var enabled = true
    @TaskLocal static var inference = false

    /// Set (never cleared) the first time any inference-mode scope is entered. Until then the
    /// task-local `inference` cannot be true anywhere, so every op skips reading it (a
    /// task-local read costs about as much as a small kernel).
    static let inferenceEverEntered = Atomic<Bool>(false)

    /// Whether operations started now are recorded for autograd.
    public static var isEnabled: Bool { enabled && !isInferenceMode }

    /// Whether inference mode is active.
    public static var isInferenceMode: Bool {
        inferenceEverEntered.load(ordering: .relaxed) && inference
    }
}

/// Runs `body` with gradient recording disabled (PyTorch's `torch.no_grad()`).
///
/// Results computed inside do not require grad; this is how parameter updates are written:
/// ```swift
/// withNoGrad { w.subInPlace(w.grad! * learningRate) }
/// ```
/// - Returns: `body`'s result.
@discardableResult
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

/// Runs an async `body` with gradient recording disabled; child tasks inherit the setting.
@discardableResult
public func withNoGrad<R>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R) async rethrows -> R {
    try await GradMode.$enabled.withValue(false, operation: body, isolation: isolation)
}

/// Runs `body` with gradient recording enabled, also inside `withNoGrad` (PyTorch's
/// `torch.enable_grad()`). Inference mode still records nothing.
/// - Returns: `body`'s result.
@discardableResult
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(true, operation: body)
}

/// Runs an async `body` with gradient recording enabled; child tasks inherit the setting.
@discardableResult
public func withGrad<R>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R) async rethrows -> R {
    try await GradMode.$enabled.withValue(true, operation: body, isolation: isolation)
}

/// Runs `body` with recording on or off (PyTorch's `torch.set_grad_enabled(mode)` as a
/// context manager).
/// - Returns: `body`'s result.
@discardableResult
public func withGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(enabled, operation: body)
}

/// Runs `body` in inference mode (PyTorch's `torch.inference_mode()`), or outside it with
/// `enabled: false`: nothing is recorded, even inside `withGrad`, and tensors allocated inside
/// are inference tensors (`isInference`): they cannot be saved for backward later
/// ("Inference tensors cannot be saved for backward…"), nor written in place or made to
/// require grad outside inference mode.
/// - Returns: `body`'s result.
@discardableResult
public func withInferenceMode<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
    GradMode.inferenceEverEntered.store(true, ordering: .relaxed)
    return try GradMode.$inference.withValue(enabled, operation: body)
}

/// Runs an async `body` in inference mode; child tasks inherit the setting.
@discardableResult
public func withInferenceMode<R>(_ enabled: Bool = true, isolation: isolated (any Actor)? = #isolation,
                                 _ body: () async throws -> R) async rethrows -> R {
    GradMode.inferenceEverEntered.store(true, ordering: .relaxed)
    return try await GradMode.$inference.withValue(enabled, operation: body, isolation: isolation)
}

// MARK: - Anomaly detection

/// Anomaly detection: when enabled, backward checks every node's results for NaN/Inf and
/// nodes remember where they were created.
public enum AnomalyMode {
    @TaskLocal static var enabled = false

    /// Set (never cleared) the first time an anomaly-detection scope is entered; until then
    /// the task-local is not read (every node creation asks).
    static let everEntered = Atomic<Bool>(false)

    /// Whether anomaly detection is active in this task or thread.
    public static var isEnabled: Bool { everEntered.load(ordering: .relaxed) && enabled }
}

/// Runs `body` with anomaly detection on or off (PyTorch's `torch.autograd.detect_anomaly()`):
/// nodes recorded inside remember the source location of the call that created them, and a
/// backward run inside throws `AutogradError.anomaly` naming the first node whose result holds
/// a NaN or an infinity, and where that node was created. Slow: use it to debug.
@discardableResult
public func withAnomalyDetection<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
    AnomalyMode.everEntered.store(true, ordering: .relaxed)
    return try AnomalyMode.$enabled.withValue(enabled, operation: body)
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
                    if location.line == 0 || location.path.hasPrefix(CreationTrace.librarySources)
                        || location.path.contains("<compiler-generated>") { continue }
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
