/// Returns the backend of a CUDA device (one `CUDABackend` per device, created on first use).
///
/// Tensors reach a CUDA device through `to(.cuda(i))`, which checks availability and throws;
/// a factory given a CUDA device (`Tensor.zeros(shape, device: .cuda)`) on a machine where
/// CUDA cannot be used traps here with the reason, as PyTorch raises.
func cudaBackend(for device: Device) -> any DeviceBackend {
    do {
        return try CUDABackend.backend(device: device.index)
    } catch {
        preconditionFailure("cannot use \(device): \(error)")
    }
}
