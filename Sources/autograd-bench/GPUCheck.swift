// autograd-bench --device cuda --check: every op on cuda:0 against the CPU backend, the seed
// notebook on the GPU, then GPU benchmarks. Exit status: 0 when every check passed (or when
// there is no GPU and --require-gpu was not given), 1 on any parity failure, 2 when
// --require-gpu was given and CUDA cannot be used.
import Autograd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The GPU check and benchmarks of `autograd-bench --device cuda`.
enum GPUCheck {
    /// Runs what `arguments` ask for (`--check`, `--bench`, both by default) and returns the
    /// process's exit status.
    static func run(arguments: [String]) -> Int32 {
        let requireGPU = arguments.contains("--require-gpu")
        let quick = arguments.contains("--quick")
        var check = arguments.contains("--check")
        var bench = arguments.contains("--bench")
        if !check && !bench {
            check = true
            bench = true
        }
        print("autograd-bench --device cuda")
        guard CUDA.isAvailable else {
            print("CUDA unavailable: \(CUDA.unavailabilityReason ?? "unknown reason")")
            print(requireGPU ? "FAIL: --require-gpu was given" : "skipping the GPU checks")
            return requireGPU ? 2 : 0
        }
        do {
            let properties = try CUDA.properties(of: 0)
            print("device: \(properties)")
            let start = monotonicSeconds()
            let modules = try CUDA.compileKernels()
            print("kernels: \(modules) modules compiled or loaded in \(GPUBenchmarks().fixed(monotonicSeconds() - start, 2)) s")
            var failures = 0
            if check {
                failures += ParityCheck().run()
                failures += seedNotebook()
            }
            if bench {
                try GPUBenchmarks(quick: quick).run()
            }
            print(failures == 0 ? "\nALL CHECKS PASSED" : "\n\(failures) CHECK(S) FAILED")
            return failures == 0 ? 0 : 1
        } catch {
            print("FAIL: \(error)")
            return 1
        }
    }

    /// The seed notebook's graph on cuda:0: values, gradient-function names and gradients.
    static func seedNotebook() -> Int {
        print("\n== seed notebook on cuda:0")
        do {
            let study = try Tensor(5.0).to(.cuda(0)).detach()
            let happy = try Tensor(6.0).to(.cuda(0)).detach()
            study.requiresGrad = true
            happy.requiresGrad = true
            let grade = study.pow(3) - happy.pow(2)
            print("grade = \(grade)")
            try grade.backward()
            let names = grade.gradFn?.nextFunctions.map { $0.function?.name ?? "nil" } ?? []
            let studyGrad = study.grad, happyGrad = happy.grad
            print("grade.gradFn = \(grade.gradFn?.name ?? "nil"), next: \(names)")
            print("study.grad = \(studyGrad.map { "\($0)" } ?? "nil")")
            print("happy.grad = \(happyGrad.map { "\($0)" } ?? "nil")")
            let ok = grade.device == .cuda(0) && grade.item() == 89
                && grade.gradFn?.name == "SubBackward0" && names == ["PowBackward0", "PowBackward0"]
                && studyGrad?.device == .cuda(0) && studyGrad?.item() == 75
                && happyGrad?.device == .cuda(0) && happyGrad?.item() == -12
            print("\(ok ? "PASS" : "FAIL")  seed notebook (89, dstudy 75, dhappy -12, gradients on cuda:0)")
            return ok ? 0 : 1
        } catch {
            print("FAIL  seed notebook: \(error)")
            return 1
        }
    }
}

/// Seconds on a monotonic clock (`Timing.now()` in seconds).
func monotonicSeconds() -> Double { Double(Timing.now()) * 1e-9 }
