// autograd-io-check: an outside program for Scripts/io-roundtrip.py, using only the public API.
//
//     autograd-io-check IN_DIR OUT_DIR
//
// Reads every .npy, .npz and .safetensors file in IN_DIR (written by NumPy and the reference
// safetensors implementation) and writes each back into OUT_DIR under the same name (.npz
// files whose name contains "compressed" are written deflated, others stored). Then writes
// its own own.npy, own.npz and own.safetensors (contents listed in `ownTensors`) for NumPy to
// check. Exits 1 on the first error, printing it.
import Autograd
import Foundation

/// The arrays this program writes itself; Scripts/io-roundtrip.py knows the same values.
let arange = Tensor.arange(12).reshaped([3, 4])                           // int64 0...11

func ownTensors() -> [String: Tensor] {
    [
        "arange": arange,
        "linspace": Tensor.linspace(0, 1, count: 5, dtype: .float64),        // np.linspace(0, 1, 5)
        "flags": Tensor(shape: [2, 2], scalars: [true, false, false, true]),
        "half": Tensor(shape: [3], scalars: [0.5, -1, 2] as [Double], dtype: .float16),
        "bytes": Tensor(shape: [4], scalars: [0, 1, 254, 255] as [Int], dtype: .uint8),
        "transposed": Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5] as [Int], dtype: .int32).transposed(0, 1),
    ]
}

func run(_ input: String, _ output: String) throws -> (read: Int, written: Int) {
    let fm = FileManager.default
    try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
    var read = 0, written = 0
    for name in try fm.contentsOfDirectory(atPath: input).sorted() {
        let src = (input as NSString).appendingPathComponent(name)
        let dst = (output as NSString).appendingPathComponent(name)
        if name.hasSuffix(".npy") {
            try Tensor(npyFile: src).writeNPY(to: dst)
        } else if name.hasSuffix(".npz") {
            try NPZ.write(NPZ.read(src), to: dst, compressed: name.contains("compressed"))
        } else if name.hasSuffix(".safetensors") {
            try SafeTensors.write(SafeTensors.read(src), to: dst, metadata: SafeTensors.metadata(src))
        } else {
            continue
        }
        read += 1
        written += 1
    }
    let own = ownTensors()
    try arange.writeNPY(to: (output as NSString).appendingPathComponent("own.npy"))
    try NPZ.write(own, to: (output as NSString).appendingPathComponent("own.npz"), compressed: true)
    var st = own
    st["brain"] = Tensor(shape: [3], scalars: [0.5, -1, 2] as [Double], dtype: .bfloat16)
    try SafeTensors.write(st, to: (output as NSString).appendingPathComponent("own.safetensors"),
                          metadata: ["source": "autograd-io-check"])
    return (read, written + 3)
}

let args = CommandLine.arguments
guard args.count == 3 else {
    FileHandle.standardError.write(Data("usage: autograd-io-check IN_DIR OUT_DIR\n".utf8))
    exit(2)
}
do {
    let (read, written) = try run(args[1], args[2])
    print("autograd-io-check: read \(read) files, wrote \(written)")
} catch {
    print("autograd-io-check: \(error)")
    exit(1)
}
