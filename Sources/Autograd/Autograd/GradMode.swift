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
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

/// Runs `body` with gradient recording enabled, also inside `withNoGrad` (PyTorch's `torch.enable_grad()`).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(true, operation: body)
}

/// Runs `body` in inference mode (PyTorch's `torch.inference_mode()`): nothing is recorded,
/// even inside `withGrad`.
public func withInferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$inference.withValue(true, operation: body)
}

/// Anomaly detection: when enabled, backward checks every node's results for NaN/Inf and
/// nodes remember where they were created.
public enum AnomalyMode {
    @TaskLocal static var enabled = false
    @TaskLocal static var context: String? = nil

    /// Whether anomaly detection is active in this task or thread.
    public static var isEnabled: Bool { enabled }

    static func currentContext() -> String? { context }
}

/// Runs `body` with anomaly detection on (PyTorch's `torch.autograd.detect_anomaly()`).
public func withAnomalyDetection<R>(_ body: () throws -> R) rethrows -> R {
    try AnomalyMode.$enabled.withValue(true, operation: body)
}
