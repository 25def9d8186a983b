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
}
