import CCUDA

/// A kernel image NVRTC produced: a CUBIN for one `sm_XY`, or PTX for `compute_XY` that the
/// driver compiles for the device when it loads it.
struct CUDAKernelBinary: Sendable, Equatable {
    /// The kind of image.
    enum Format: UInt8, Sendable {
        /// Machine code (an ELF file) for exactly one architecture.
        case cubin = 1
        /// Virtual-ISA text the driver JIT-compiles for its device (newer ones included).
        case ptx = 2
    }

    /// The kind of image.
    var format: Format
    /// The `XY` of `sm_XY` (CUBIN) or `compute_XY` (PTX).
    var architecture: Int
    /// The image; PTX keeps its terminating NUL, as `cudaLibraryLoadData` expects.
    var bytes: [UInt8]

    /// NVRTC's `--gpu-architecture` value for this image: `sm_90` or `compute_90`.
    var target: String { Self.target(format: format, architecture: architecture) }

    static func target(format: Format, architecture: Int) -> String {
        format == .cubin ? "sm_\(architecture)" : "compute_\(architecture)"
    }
}

/// Compiles CUDA C source strings with NVRTC, for a device's architecture, through a cache in
/// memory and on disk (`CUDAKernelCache`).
///
/// `compileOnly` needs only NVRTC, not a GPU or a driver, so CI can compile every kernel source.
enum CUDAKernelCompiler {
    /// Options passed to every compilation besides the architecture.
    static let standardOptions = ["--std=c++17"]

    /// The NVRTC version, `major.minor` (part of every cache key).
    ///
    /// - Throws: `CUDAError.libraryNotFound` when libnvrtc cannot be loaded.
    static func nvrtcVersion() throws -> String {
        let version = try NVRTC.version()
        return "\(version.major).\(version.minor)"
    }

    /// Compiles `source` with NVRTC, without any cache.
    ///
    /// - Parameters:
    ///   - source: CUDA C++ source; kernels to be looked up by name should be `extern "C"`.
    ///   - name: The program's name, used in NVRTC's messages and in errors.
    ///   - arch: The `XY` of the target architecture, for example 90.
    ///   - format: `.cubin` for `sm_XY` machine code, `.ptx` for `compute_XY` PTX.
    ///   - options: Extra NVRTC options.
    /// - Returns: The image.
    /// - Throws: `CUDAError.libraryNotFound` without libnvrtc; `.compilationFailed` with
    ///   NVRTC's log when the source or an option is rejected; `.apiCall` for other failures.
    static func compileOnly(source: String, name: String, arch: Int, format: CUDAKernelBinary.Format = .cubin,
                            options: [String] = []) throws -> CUDAKernelBinary {
        try CUDALibrary.nvrtc.load()
        let program = try NVRTC.createProgram(source: source, name: name + ".cu")
        defer { NVRTC.destroyProgram(program) }
        let target = CUDAKernelBinary.target(format: format, architecture: arch)
        do {
            try NVRTC.compileProgram(
                program, options: ["--gpu-architecture=\(target)"] + standardOptions + options)
        } catch let error as CUDAError {
            guard case let .apiCall(_, code, _, _) = error,
                  code == CCUDA_NVRTC_ERROR_COMPILATION || code == CCUDA_NVRTC_ERROR_INVALID_OPTION
            else { throw error }
            let log = (try? NVRTC.programLog(program)) ?? ""
            throw CUDAError.compilationFailed(kernel: name, log: log.isEmpty ? error.description : log)
        }
        let bytes = format == .cubin ? try NVRTC.cubin(program) : try NVRTC.ptx(program)
        guard !bytes.isEmpty else {
            throw CUDAError.compilationFailed(kernel: name, log: "NVRTC produced an empty \(target) image")
        }
        return CUDAKernelBinary(format: format, architecture: arch, bytes: bytes)
    }

    /// What to build for a device of architecture `deviceArchitecture`: a CUBIN when NVRTC knows
    /// the architecture, else PTX for the newest architecture it knows below the device's (the
    /// driver compiles PTX forward); nil when the device is older than all of them.
    ///
    /// An empty `supported` list (an NVRTC too old to tell) means "try a CUBIN".
    static func plan(deviceArchitecture: Int, supported: [Int]) -> (format: CUDAKernelBinary.Format, architecture: Int)? {
        if supported.isEmpty || supported.contains(deviceArchitecture) {
            return (.cubin, deviceArchitecture)
        }
        guard let newestBelow = supported.filter({ $0 <= deviceArchitecture }).max() else { return nil }
        return (.ptx, newestBelow)
    }

    /// Compiles `source` for a device of architecture `deviceArchitecture` (see `plan`), through
    /// `cache`.
    ///
    /// - Throws: `CUDAError.compilationFailed` (also when NVRTC supports no architecture at or
    ///   below the device's), `.libraryNotFound` without libnvrtc, `.apiCall`.
    static func compile(source: String, name: String, deviceArchitecture: Int, options: [String] = [],
                        cache: CUDAKernelCache = .shared) throws -> CUDAKernelBinary {
        let supported = (try? NVRTC.supportedArchitectures()) ?? []
        try CUDALibrary.nvrtc.load()
        guard let (format, architecture) = plan(deviceArchitecture: deviceArchitecture, supported: supported) else {
            let version = (try? nvrtcVersion()) ?? "?"
            throw CUDAError.compilationFailed(
                kernel: name,
                log: "NVRTC \(version) supports sm_\(supported.map(String.init).joined(separator: ", sm_")), "
                    + "nothing at or below the device's sm_\(deviceArchitecture)")
        }
        let key = CUDAKernelCache.Key(source: source, name: name, target: CUDAKernelBinary.target(
            format: format, architecture: architecture), options: standardOptions + options,
            nvrtcVersion: try nvrtcVersion())
        return try cache.binary(for: key) {
            try compileOnly(source: source, name: name, arch: architecture, format: format, options: options)
        }
    }
}
