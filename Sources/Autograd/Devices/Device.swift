/// Where a tensor's elements live: the CPU or one NVIDIA GPU (PyTorch's `torch.device`).
///
/// ```swift
/// let g = try a.to(.cuda(0))   // or .cuda, meaning cuda:0
/// a.device == .cpu             // true
/// ```
public struct Device: Hashable, Sendable, CustomStringConvertible {
    /// The kind of device.
    public enum Kind: String, Hashable, Sendable {
        /// The host CPU.
        case cpu
        /// An NVIDIA GPU reached through the CUDA runtime.
        case cuda
    }

    /// The kind of device.
    public let kind: Kind
    /// The device ordinal (always 0 for the CPU).
    public let index: Int

    /// Creates a device of `kind` with ordinal `index`.
    public init(kind: Kind, index: Int = 0) {
        self.kind = kind
        self.index = index
    }

    /// The host CPU.
    public static let cpu = Device(kind: .cpu)
    /// The first CUDA device, `cuda:0`.
    public static let cuda = Device(kind: .cuda, index: 0)
    /// The CUDA device with ordinal `index`.
    public static func cuda(_ index: Int) -> Device { Device(kind: .cuda, index: index) }

    /// `cpu` or `cuda:N`, as PyTorch prints devices.
    public var description: String { kind == .cpu ? "cpu" : "cuda:\(index)" }
}
