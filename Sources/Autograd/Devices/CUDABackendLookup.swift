/// Returns the backend for a CUDA device. Until the CUDA backend lands, callers reach this
/// only after `CUDA.checkAvailable` succeeded, which it cannot without the backend.
func cudaBackend(for device: Device) -> any DeviceBackend {
    preconditionFailure("the CUDA backend for \(device) is not built into this version")
}
