/// The base class of neural-network layers and models (PyTorch's `nn.Module`).
///
/// Subclass it, store parameters (`Parameter`), buffers (`Buffer`) and sub-modules as
/// properties — optionals and arrays of them included — and override `forward(_:)`. The
/// parameters are found by reflection over the stored properties, so there is nothing to
/// register: `parameters()`, `namedParameters()` (with PyTorch's dotted names such as
/// `layers.0.weight`), `train()`/`eval()`, `zeroGrad()`, `to(_:)` and `stateDict()` see them.
///
/// ```swift
/// final class MLP: Module {
///     let hidden = Linear(64, 128)
///     let output = Linear(128, 10)
///     override func forward(_ x: Tensor) -> Tensor { output(hidden(x).relu()) }
/// }
/// let model = MLP()
/// model.namedParameters().map(\.name)   // ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
/// ```
///
/// Modules are classes and parameters are `Parameter` boxes (see its documentation), so a
/// module, a copy of a reference to it and the optimizer training it always agree on the
/// current weights.
open class Module {
    /// Whether the module is in training mode (PyTorch's `training`); set by `train()`/`eval()`.
    public private(set) var isTraining = true

    /// Creates a module in training mode.
    public init() {}

    /// Computes the module's output. Subclasses override it; `callAsFunction` calls it.
    /// - Precondition: overridden by the subclass.
    open func forward(_ input: Tensor) -> Tensor {
        preconditionFailure("Module [\(typeName)] is missing the required \"forward\" function")
    }

    /// Runs `forward(_:)`, so a module is called like a function: `model(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The class name, as PyTorch prints it.
    var typeName: String { String(describing: type(of: self)) }

    // MARK: - Discovery

    /// What reflection finds in a stored property.
    enum Member {
        case parameter(Parameter)
        case buffer(Buffer)
        case module(Module)
    }

    /// This module's own parameters, buffers and child modules, in declaration order
    /// (superclass properties first). Containers override it to name children themselves.
    func namedMembers() -> [(name: String, member: Member)] {
        var chain: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            chain.append(m)
            mirror = m.superclassMirror
        }
        var result: [(String, Member)] = []
        for m in chain.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                Module.collect(child.value, name: Module.propertyName(label), into: &result)
            }
        }
        return result
    }

    /// Strips the prefixes Swift gives property-wrapper and lazy storage.
    private static func propertyName(_ label: String) -> String {
        let lazyPrefix = "$__lazy_storage_$_"
        if label.hasPrefix(lazyPrefix) { return String(label.dropFirst(lazyPrefix.count)) }
        if label.hasPrefix("_") { return String(label.dropFirst()) }
        return label
    }

    private static func collect(_ value: Any, name: String, into result: inout [(String, Member)]) {
        switch value {
        case let p as Parameter: result.append((name, .parameter(p)))
        case let b as Buffer: result.append((name, .buffer(b)))
        case let m as Module: result.append((name, .module(m)))
        default:
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let wrapped = mirror.children.first { collect(wrapped.value, name: name, into: &result) }
            case .collection:
                for (i, element) in mirror.children.enumerated() { collect(element.value, name: "\(name).\(i)", into: &result) }
            default:
                break
            }
        }
    }

    /// The direct sub-modules with their names (PyTorch's `named_children()`).
    public func namedChildren() -> [(name: String, module: Module)] {
        namedMembers().compactMap { entry in
            if case .module(let m) = entry.member { return (entry.name, m) }
            return nil
        }
    }

    /// This module and every module below it, depth first, with dotted names; the root is named
    /// `""` (PyTorch's `named_modules()`). Each module appears once.
    public func namedModules() -> [(name: String, module: Module)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Module)] = []
        func visit(_ m: Module, _ prefix: String) {
            guard seen.insert(ObjectIdentifier(m)).inserted else { return }
            result.append((prefix, m))
            for (name, child) in m.namedChildren() { visit(child, prefix.isEmpty ? name : "\(prefix).\(name)") }
        }
        visit(self, "")
        return result
    }

    /// Every parameter with its dotted name, each once (PyTorch's `named_parameters()`).
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Parameter)] = []
        for (prefix, module) in namedModules() {
            for entry in module.namedMembers() {
                guard case .parameter(let p) = entry.member, seen.insert(ObjectIdentifier(p)).inserted else { continue }
                result.append((prefix.isEmpty ? entry.name : "\(prefix).\(entry.name)", p))
            }
        }
        return result
    }

    /// Every parameter, each once, in `namedParameters()` order (PyTorch's `parameters()`).
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Every buffer with its dotted name (PyTorch's `named_buffers()`).
    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Buffer)] = []
        for (prefix, module) in namedModules() {
            for entry in module.namedMembers() {
                guard case .buffer(let b) = entry.member, seen.insert(ObjectIdentifier(b)).inserted else { continue }
                result.append((prefix.isEmpty ? entry.name : "\(prefix).\(entry.name)", b))
            }
        }
        return result
    }

    // MARK: - Modes and gradients

    /// Sets training mode (`true`) or evaluation mode on this module and all below it
    /// (PyTorch's `train(mode)`); affects dropout and batch normalization.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for (_, m) in namedModules() { m.isTraining = mode }
        return self
    }

    /// Sets evaluation mode (PyTorch's `eval()`), the same as `train(false)`.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Clears the gradients of every parameter: sets them to `nil` (PyTorch's default), or
    /// fills them with zeros in place when `setToNone` is false.
    public func zeroGrad(setToNone: Bool = true) {
        for p in parameters() { clearGradient(of: p, setToNone: setToNone) }
    }

    // MARK: - Devices and dtypes

    /// Moves every parameter and buffer to `device` (PyTorch's `module.to(device)`); the
    /// `Parameter` and `Buffer` objects stay the same, so optimizers built earlier follow.
    /// - Throws: `CUDAError` when the device cannot be used.
    /// - Complexity: copies every parameter and buffer not already there.
    @discardableResult
    public func to(_ device: Device) throws -> Self {
        for p in parameters() where p.device != device {
            let moved = try p.value.detached().to(device)
            p.replace(with: moved, grad: try p.grad.map { try $0.detached().to(device) })
        }
        for (_, b) in namedBuffers() where b.value.device != device {
            b.value = try b.value.detached().to(device)
        }
        return self
    }

    /// Converts every floating parameter and buffer to `dtype` (PyTorch's `module.to(dtype)`),
    /// keeping the `Parameter` and `Buffer` objects.
    /// - Precondition: `dtype` is floating.
    @discardableResult
    public func to(_ dtype: DType) -> Self {
        precondition(dtype.isFloatingPoint, "Module.to: nn.Module.to only accepts floating point dtypes, but got desired dtype=\(dtype)")
        for p in parameters() where p.dtype.isFloatingPoint && p.dtype != dtype {
            p.replace(with: p.value.detached().convertedWithoutGrad(to: dtype), grad: p.grad?.detached().convertedWithoutGrad(to: dtype))
        }
        for (_, b) in namedBuffers() where b.value.dtype.isFloatingPoint && b.value.dtype != dtype {
            b.value = b.value.convertedWithoutGrad(to: dtype)
        }
        return self
    }
}

/// Clears a parameter's gradient: `nil`, or zeros written in place.
func clearGradient(of p: Parameter, setToNone: Bool) {
    guard let g = p.grad else { return }
    if setToNone {
        p.grad = nil
    } else if g.requiresGrad || g.gradFn != nil {
        p.grad = Tensor.zeros(like: g)
    } else {
        withNoGrad { _ = g.zero() }
    }
}
