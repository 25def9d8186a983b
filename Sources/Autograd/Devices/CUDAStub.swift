/// Temporary stand-in until the CUDA loader lands: reports CUDA as unavailable.
public enum CUDA {
    /// Whether a CUDA device can be used.
    public static var isAvailable: Bool { false }
    static func checkAvailable(device index: Int) throws {
        throw CUDAStubError.unavailable
    }
}

enum CUDAStubError: Error { case unavailable }
