// autograd-tour: the seed notebook ("PyTorch Autograd", in Portuguese) cell by cell, in Swift.
import Autograd

func cell(_ number: Int, _ title: String) {
    print("\n── In [\(number)] " + title + " " + String(repeating: "─", count: Swift.max(0, 60 - title.count)))
}

func show(_ code: String, _ value: Any) {
    print(">>> \(code)")
    print(value)
}

print("""
swift-autograd tour — the PyTorch autograd notebook, in Swift.
Each cell shows the Swift call and what it prints; PyTorch's spelling is in the comments.
""")

// MARK: - NumPy arrays in and out

cell(2, "a good old array (np.array([[1,2],[3,4]]))")
let arrayNP: [[Int]] = [[1, 2], [3, 4]]
show("let arrayNP: [[Int]] = [[1, 2], [3, 4]]", arrayNP)

cell(5, "array → tensor (torch.tensor(array_np))")
var tensorPT = Tensor(arrayNP)
show("Tensor(arrayNP)", tensorPT)
print("// Swift's Int is 64-bit, so the dtype is int64 (the notebook's Windows NumPy gave int32).")
show("Tensor(arrayNP, dtype: .int32)", Tensor(arrayNP, dtype: .int32))

cell(8, "and back (tensor_pt.numpy())")
show("tensorPT.scalars(as: Int.self)", tensorPT.scalars(as: Int.self))
show("tensorPT.shape   // tensor_pt.size()", tensorPT.shape)

// MARK: - GPU

cell(11, "is there a GPU? (torch.cuda.is_available())")
show("CUDA.isAvailable", CUDA.isAvailable)
if CUDA.isAvailable {
    cell(15, "to the GPU (tensor_pt.to(device))")
    do {
        tensorPT = try tensorPT.to(.cuda)
        show("try tensorPT.to(.cuda)", tensorPT)
        cell(16, "back to the CPU")
        tensorPT = try tensorPT.to(.cpu)
        show("try tensorPT.to(.cpu).device", tensorPT.device)
        cell(17, ".cuda()")
        tensorPT = try tensorPT.cuda()
        show("try tensorPT.cuda()", tensorPT)
        cell(18, "created on the GPU from a linspace")
        let novoTensor = try Tensor.linspace(0, 1, count: 30, dtype: .float64).to(.cuda(0))
        show("try Tensor.linspace(0, 1, count: 30, dtype: .float64).to(.cuda(0))", novoTensor)
    } catch {
        print("moving to the GPU failed: \(error)")
    }
} else {
    print("""
    // No usable CUDA device here, so the GPU cells are skipped. The reason, as the loader saw it:
    //   \(CUDA.unavailabilityReason ?? "unknown")
    // Moving a tensor to the GPU throws a typed error instead of crashing:
    """)
    do {
        _ = try tensorPT.to(.cuda(0))
    } catch {
        show("try tensorPT.to(.cuda(0))", "throws \(type(of: error)): \(error)")
    }
    cell(18, "the linspace cell, on the CPU (torch.tensor(np.linspace(0., 1., 30)))")
    let novoTensor = Tensor.linspace(0, 1, count: 30, dtype: .float64)
    show("Tensor.linspace(0, 1, count: 30, dtype: .float64)", novoTensor)
}

// MARK: - Autograd

cell(19, "two scalars (torch.tensor(5.), torch.tensor(6.))")
var horasEstudo = Tensor(5.0)
var horasHappyHour = Tensor(6.0)
show("(Tensor(5.0), Tensor(6.0))", "(\(horasEstudo), \(horasHappyHour))")

cell(20, "requiresGrad: record every operation for backpropagation")
horasEstudo = Tensor(5.0, requiresGrad: true)
horasHappyHour = Tensor(6.0, requiresGrad: true)
show("(Tensor(5.0, requiresGrad: true), Tensor(6.0, requiresGrad: true))", "(\(horasEstudo), \(horasHappyHour))")

cell(21, "the grade: study³ − happy hour²")
let notaProva = horasEstudo.pow(3) - horasHappyHour.pow(2)
show("let notaProva = horasEstudo.pow(3) - horasHappyHour.pow(2); notaProva", notaProva)

cell(23, "the graph behind it (grad_fn.next_functions)")
if let gradFn = notaProva.gradFn {
    show("notaProva.gradFn!.nextFunctions", gradFn.nextFunctions.map { "(\($0.function?.description ?? "nil"), \($0.inputIndex))" })
    for (i, edge) in gradFn.nextFunctions.enumerated() {
        if let pow = edge.function {
            show("notaProva.gradFn!.nextFunctions[\(i)].function!.nextFunctions",
                 pow.nextFunctions.map { "(\($0.function?.description ?? "nil"), \($0.inputIndex))" })
        }
    }
}

cell(28, "the partial derivatives by hand")
print("// d nota / d estudo = 3 · estudo² = 3 · 5² = \(3 * 5 * 5)")
print("// d nota / d happy  = −2 · happy   = −2 · 6  = \(-2 * 6)")

cell(30, "no gradients yet")
show("(horasEstudo.grad, horasHappyHour.grad)", "(\(horasEstudo.grad.map { "\($0)" } ?? "nil"), \(horasHappyHour.grad.map { "\($0)" } ?? "nil"))")

cell(31, "the magic of autograd: try notaProva.backward()")
do {
    try notaProva.backward()
} catch {
    print("backward failed: \(error)")
}

cell(32, "now we have them")
show("(horasEstudo.grad!, horasHappyHour.grad!)", "(\(horasEstudo.grad.map { "\($0)" } ?? "nil"), \(horasHappyHour.grad.map { "\($0)" } ?? "nil"))")
let ok = horasEstudo.grad?.item() == 75 && horasHappyHour.grad?.item() == -12
print(ok ? "\n✓ autograd agrees with the hand-computed derivatives (75 and −12)." : "\n✗ unexpected gradients")
trainOnDigits(arguments: CommandLine.arguments)
