import Autograd

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
if let index = arguments.firstIndex(of: "--device"), index + 1 < arguments.count, arguments[index + 1] == "cuda" {
    exit(GPUCheck.run(arguments: arguments))
}
print("autograd-bench")
