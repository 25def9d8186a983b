/// An error from the CUDA backend: CUDA cannot be used here, a CUDA call failed, device memory
/// ran out, or NVRTC rejected a kernel.
///
/// These are environment errors, so they are thrown rather than trapped: a program can test
/// `CUDA.isAvailable`, or try `x.to(.cuda(0))` and fall back to the CPU.
///
/// ```swift
/// do { let g = try x.to(.cuda(0)) } catch let error as CUDAError { print(error) }
/// // CUDA driver version is insufficient for CUDA runtime version (cudaErrorInsufficientDriver, 35)
/// ```
public enum CUDAError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A CUDA library (`libcudart`, `libnvrtc` or `libcublas`) could not be loaded.
    ///
    /// `searched` lists the sonames and folders tried, in order; a file that exists but failed
    /// to load carries the dynamic loader's reason in parentheses. Point the loader at a copy
    /// with `AUTOGRAD_CUDA_LIB_DIR` or `AUTOGRAD_PYTHON_SITE_PACKAGES`.
    case libraryNotFound(library: String, searched: [String])

    /// The CUDA runtime loaded, but there is no NVIDIA driver or it is older than the runtime
    /// needs (`cudaErrorInsufficientDriver`, 35, or a stub `libcuda`, 34). `message` is CUDA's
    /// description followed by the error's name and code.
    case driverInsufficient(message: String)

    /// The driver works but reports no CUDA device (for example `CUDA_VISIBLE_DEVICES=""`).
    case noDevice

    /// `index` names no device; `count` devices exist.
    case invalidDevice(index: Int, count: Int)

    /// A CUDA, NVRTC or cuBLAS call returned an error.
    ///
    /// `function` is the library function (`cudaMalloc`), `code` its status value, `name`
    /// the status's enum name (`cudaErrorMemoryAllocation`) and `message` the library's text.
    case apiCall(function: String, code: Int32, name: String, message: String)

    /// The loaded library lacks a function the backend needs (it is too old); `path` is the
    /// file that was loaded.
    case missingFunction(library: String, function: String, path: String)

    /// Device `device` could not provide `requestedBytes`, even after the caching allocator
    /// released its cache; `reservedBytes` are held by this process's allocator on that device.
    case outOfMemory(device: Int, requestedBytes: Int, reservedBytes: Int)

    /// NVRTC could not compile the kernel source `kernel`; `log` is the compiler's output.
    case compilationFailed(kernel: String, log: String)

    /// A sentence saying what went wrong, with the names and numbers needed to act on it.
    public var description: String {
        switch self {
        case let .libraryNotFound(library, searched):
            return "\(library) not found (searched: \(searched.joined(separator: ", ")))"
        case let .driverInsufficient(message):
            return message
        case .noDevice:
            return "no CUDA device"
        case let .invalidDevice(index, count):
            let devices = count == 0 ? "no CUDA devices"
                : count == 1 ? "1 CUDA device (cuda:0)" : "\(count) CUDA devices (cuda:0...cuda:\(count - 1))"
            return "invalid CUDA device cuda:\(index): this machine has \(devices)"
        case let .apiCall(function, code, name, message):
            return "\(function) failed: \(name) (\(code)): \(message)"
        case let .missingFunction(library, function, path):
            return "\(library) at \(path) does not export \(function); a newer CUDA \(library) is needed"
        case let .outOfMemory(device, requested, reserved):
            return "CUDA out of memory on cuda:\(device): tried to allocate \(CUDAError.formatBytes(requested)) "
                + "(\(requested) bytes); \(CUDAError.formatBytes(reserved)) reserved by this process's "
                + "caching allocator, whose cache was already released"
        case let .compilationFailed(kernel, log):
            let trimmed = CUDAText.trimmingTrailingWhitespace(log)
            return "NVRTC failed to compile kernel '\(kernel)'" + (trimmed.isEmpty ? "" : ":\n\(trimmed)")
        }
    }

    /// `1.50 GiB`, `512.00 KiB`, `12 bytes`: PyTorch's style for memory sizes.
    static func formatBytes(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        guard value >= 1024 else { return "\(bytes) bytes" }
        var unit = -1
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
    }
}
