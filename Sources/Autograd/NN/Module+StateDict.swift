/// Why a module's or optimizer's state could not be loaded (file errors are `TensorIOError`s).
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    /// `loadStateDict` found missing or unexpected keys or mismatched shapes; the message
    /// lists them all, as PyTorch's does.
    case stateDictMismatch(String)

    /// The message.
    public var description: String {
        switch self {
        case .stateDictMismatch(let message): return message
        }
    }
}

extension Module {
    /// The module's state: every parameter and persistent buffer by dotted name, detached and
    /// sharing storage with the module (PyTorch's `state_dict()`).
    ///
    /// ```swift
    /// Linear(3, 2).stateDict().keys.sorted()   // ["bias", "weight"]
    /// ```
    public func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, p) in namedParameters() { result[name] = p.value.detach() }
        for (name, b) in namedBuffers() where b.isPersistent { result[name] = b.value.detach() }
        return result
    }

    /// Copies `state`'s tensors into the module's parameters and buffers in place (converted
    /// to their dtype and device), so optimizers keep training the same tensors
    /// (PyTorch's `load_state_dict`).
    /// - Parameters:
    ///   - strict: when true (the default), keys must match exactly.
    /// - Throws: `ModuleError.stateDictMismatch` listing missing and unexpected keys (when
    ///   strict) and shape mismatches; nothing is copied then.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        var targets: [(String, Tensor)] = namedParameters().map { ($0.name, $0.parameter.value) }
        targets += namedBuffers().filter { $0.buffer.isPersistent }.map { ($0.name, $0.buffer.value) }
        var problems: [String] = []
        let expected = Set(targets.map(\.0))
        let missing = targets.map(\.0).filter { state[$0] == nil }
        let unexpected = state.keys.filter { !expected.contains($0) }.sorted()
        if strict && !missing.isEmpty {
            problems.append("Missing key(s) in state_dict: " + missing.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
        }
        if strict && !unexpected.isEmpty {
            problems.append("Unexpected key(s) in state_dict: " + unexpected.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
        }
        for (name, target) in targets {
            guard let source = state[name], source.shape != target.shape else { continue }
            problems.append("size mismatch for \(name): copying a param with shape \(Shape.describe(source.shape)) from checkpoint, the shape in current model is \(Shape.describe(target.shape)).")
        }
        guard problems.isEmpty else {
            throw ModuleError.stateDictMismatch("Error(s) in loading state_dict for \(typeName):\n\t" + problems.joined(separator: "\n\t"))
        }
        withNoGrad {
            for (name, target) in targets {
                guard let source = state[name] else { continue }
                target.copyFrom(source.detached())
            }
        }
    }

    /// Writes `stateDict()` to a safetensors file (with `__metadata__` `{"format": "pt"}`, as
    /// PyTorch's `safetensors.torch.save_file` does), readable by `load(from:)` and by PyTorch.
    /// - Throws: `TensorIOError` when the file cannot be written.
    public func save(to path: String) throws {
        try SafeTensors.write(stateDict(), to: path, metadata: ["format": "pt"])
    }

    /// Reads a safetensors file written by `save(to:)` (or by PyTorch's `safetensors.torch.save_file`)
    /// and loads it with `loadStateDict`.
    /// - Throws: `TensorIOError` for an unreadable or malformed file, else as `loadStateDict`.
    public func load(from path: String, strict: Bool = true) throws {
        try loadStateDict(try SafeTensors.read(path), strict: strict)
    }
}
