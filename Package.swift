// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-autograd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Autograd", targets: ["Autograd"]),
        .executable(name: "autograd-tour", targets: ["autograd-tour"]),
        .executable(name: "autograd-bench", targets: ["autograd-bench"]),
        .executable(name: "autograd-io-check", targets: ["autograd-io-check"]),
    ],
    targets: [
        // Run-time binding to libcudart / libnvrtc / libcublas (dlopen); no CUDA headers needed.
        .target(name: "CCUDA", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // Hot CPU kernels with per-function target attributes (AVX2/FMA, NEON) and run-time dispatch.
        .target(name: "CKernels", linkerSettings: [
            .linkedLibrary("pthread", .when(platforms: [.linux])),
            .linkedLibrary("m", .when(platforms: [.linux])),
        ]),
        .target(name: "Autograd", dependencies: ["CCUDA", "CKernels"]),
        .executableTarget(name: "autograd-tour", dependencies: ["Autograd"], resources: [.copy("Resources")]),
        .executableTarget(name: "autograd-bench", dependencies: ["Autograd"]),
        // Reads files NumPy wrote and writes its own for NumPy to read (Scripts/io-roundtrip.py).
        .executableTarget(name: "autograd-io-check", dependencies: ["Autograd"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
