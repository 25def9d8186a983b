import Autograd

/// `--profile-seed N`: runs the seed graph N times (for profilers).
enum ProfileSeed {
    static func run(_ n: Int) throws {
        for _ in 0..<n {
            let study = Tensor(5.0, requiresGrad: true)
            let happy = Tensor(6.0, requiresGrad: true)
            let grade = study.pow(3) - happy.pow(2)
            try grade.backward()
        }
    }

    /// `--profile-chain N`: runs the 1000-op scalar chain N times (for profilers).
    static func chain(_ n: Int) throws {
        for _ in 0..<n {
            let x = Tensor(1.0, requiresGrad: true)
            var y = x
            for _ in 0..<1000 { y = y * 1.0001 }
            try y.backward()
        }
    }
}
