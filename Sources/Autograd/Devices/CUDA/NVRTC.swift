import CCUDA
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin Swift wrappers over the NVRTC calls of the `CCUDA` shim, one per C call, turning each
/// status into `CUDAError` (NVRTC's function name and its error name). NVRTC needs no GPU.
enum NVRTC {
    /// Throws the `CUDAError` for a non-zero status returned by NVRTC function `function`.
    static func check(_ status: Int32, _ function: String) throws {
        if status != 0 { throw error(status, function: function) }
    }

    /// The `CUDAError` for `status` from NVRTC function `function`.
    static func error(_ status: Int32, function: String) -> CUDAError {
        if let shimError = CUDALibrary.nvrtc.shimError(status, function: function) {
            return shimError
        }
        let name = errorString(status)
        return .apiCall(function: function, code: status, name: name, message: name)
    }

    /// NVRTC's name for a result code (`NVRTC_ERROR_COMPILATION`).
    static func errorString(_ code: Int32) -> String {
        var message: UnsafePointer<CChar>?
        guard ccuda_nvrtc_get_error_string(code, &message) == 0 else { return "nvrtcResult \(code)" }
        return CUDAText.string(message, fallback: "nvrtcResult \(code)")
    }

    /// `nvrtcVersion`.
    static func version() throws -> (major: Int, minor: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        try check(ccuda_nvrtc_version(&major, &minor), "nvrtcVersion")
        return (Int(major), Int(minor))
    }

    /// `nvrtcGetNumSupportedArchs` + `nvrtcGetSupportedArchs`: the `XY` of each `sm_XY` NVRTC
    /// can target, ascending.
    static func supportedArchitectures() throws -> [Int] {
        var count: Int32 = 0
        try check(ccuda_nvrtc_get_num_supported_archs(&count), "nvrtcGetNumSupportedArchs")
        guard count > 0 else { return [] }
        var architectures = [Int32](repeating: 0, count: Int(count))
        try architectures.withUnsafeMutableBufferPointer { buffer in
            try check(ccuda_nvrtc_get_supported_archs(buffer.baseAddress), "nvrtcGetSupportedArchs")
        }
        return architectures.map(Int.init).sorted()
    }

    /// `nvrtcCreateProgram` (no extra headers).
    static func createProgram(source: String, name: String) throws -> OpaquePointer {
        var program: OpaquePointer?
        try check(ccuda_nvrtc_create_program(&program, source, name), "nvrtcCreateProgram")
        guard let program else {
            throw CUDAError.apiCall(function: "nvrtcCreateProgram", code: 0, name: "NVRTC_SUCCESS",
                                    message: "returned a null program")
        }
        return program
    }

    /// `nvrtcCompileProgram`.
    static func compileProgram(_ program: OpaquePointer, options: [String]) throws {
        // strdup'd copies: the C strings must outlive the call, which one closure can't give
        // for an array. Freed by the defer.
        let cStrings = options.map { strdupOrNil($0) }
        defer { cStrings.forEach { $0.map { free($0) } } }
        let pointers = cStrings.map { UnsafePointer($0) }
        let status = pointers.withUnsafeBufferPointer { buffer in
            ccuda_nvrtc_compile_program(program, Int32(buffer.count), buffer.baseAddress)
        }
        try check(status, "nvrtcCompileProgram")
    }

    /// `nvrtcGetPTXSize` + `nvrtcGetPTX`: the PTX text, with its terminating NUL.
    static func ptx(_ program: OpaquePointer) throws -> [UInt8] {
        var size = 0
        try check(ccuda_nvrtc_get_ptx_size(program, &size), "nvrtcGetPTXSize")
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { chars in
                try check(ccuda_nvrtc_get_ptx(program, chars.baseAddress), "nvrtcGetPTX")
            }
        }
        return bytes
    }

    /// `nvrtcGetCUBINSize` + `nvrtcGetCUBIN`: the ELF image (empty if compiled for `compute_XY`).
    static func cubin(_ program: OpaquePointer) throws -> [UInt8] {
        var size = 0
        try check(ccuda_nvrtc_get_cubin_size(program, &size), "nvrtcGetCUBINSize")
        var bytes = [UInt8](repeating: 0, count: size)
        guard size > 0 else { return bytes }
        try bytes.withUnsafeMutableBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { chars in
                try check(ccuda_nvrtc_get_cubin(program, chars.baseAddress), "nvrtcGetCUBIN")
            }
        }
        return bytes
    }

    /// `nvrtcGetProgramLogSize` + `nvrtcGetProgramLog`.
    static func programLog(_ program: OpaquePointer) throws -> String {
        var size = 0
        try check(ccuda_nvrtc_get_program_log_size(program, &size), "nvrtcGetProgramLogSize")
        guard size > 1 else { return "" }
        var chars = [CChar](repeating: 0, count: size)
        try chars.withUnsafeMutableBufferPointer { buffer in
            try check(ccuda_nvrtc_get_program_log(program, buffer.baseAddress), "nvrtcGetProgramLog")
        }
        return CUDAText.string(fromNulTerminated: chars)
    }

    /// `nvrtcDestroyProgram` (errors ignored: there is nothing to do about them).
    static func destroyProgram(_ program: OpaquePointer) {
        var handle: OpaquePointer? = program
        _ = ccuda_nvrtc_destroy_program(&handle)
    }

    private static func strdupOrNil(_ string: String) -> UnsafeMutablePointer<CChar>? {
        string.withCString { strdup($0) }
    }
}
