// autograd-bench: CPU figures (table or --json) and, with --device cuda, the GPU checks.
import Autograd
import Foundation

let arguments = CommandLine.arguments
if let index = arguments.firstIndex(of: "--device"), index + 1 < arguments.count, arguments[index + 1] == "cuda" {
    exit(GPUCheck.run(arguments: Array(arguments.dropFirst())))
}
let json = arguments.contains("--json")
let quick = arguments.contains("--quick")
let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }

// Profiling loops: `--profile-NAME [N]` runs one workload N times and exits.
let profiles: [(flag: String, count: Int, body: (Int) throws -> Void)] = [
    ("--profile-seed", 1000, ProfileSeed.run),
    ("--profile-chain", 10, ProfileSeed.chain),
    ("--profile-mlp", 100, ProfileSeed.mlp),
    ("--profile-conv", 100, ProfileSeed.conv),
    ("--profile-conv-fwd", 100, ProfileSeed.convForward),
    ("--profile-softmax", 100, ProfileSeed.softmax),
    ("--profile-adam", 100, ProfileSeed.adam),
    ("--profile-layernorm", 200, ProfileSeed.layerNorm),
    ("--phases-mlp", 0, { _ in try ProfileSeed.mlpPhases() }),
]
for profile in profiles {
    guard let i = arguments.firstIndex(of: profile.flag) else { continue }
    let count = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
    try profile.body(count ?? profile.count)
    exit(0)
}

func run(_ group: String, _ body: () throws -> [Result]) rethrows -> [Result] {
    if let only, only != group { return [] }
    if !json { FileHandle.standardError.write(Data("running \(group)…\n".utf8)) }
    return try body()
}
var results: [Result] = []
results += try run("tape") { try CPUBenchmarks.tape() }
results += try run("training") { try CPUBenchmarks.mlp() }
results += try run("conv") { try ConvBenchmarks.run() }
results += try run("elementwise") { try CPUBenchmarks.elementwise(quick: quick) }
results += run("layer ops") { LayerOpBenchmarks.run() }
results += run("gemm") { CPUBenchmarks.gemm(quick: quick) }

if json {
    let rows = results.map { ["group": $0.group, "name": $0.name, "value": $0.value, "unit": $0.unit] as [String: Any] }
    let data = try JSONSerialization.data(withJSONObject: ["results": rows], options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} else {
    print("swift-autograd CPU benchmarks (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
    for r in results {
        let name = r.name.padding(toLength: 44, withPad: " ", startingAt: 0)
        print("\(name) \(String(format: "%10.3f", r.value)) \(r.unit)")
    }
}
