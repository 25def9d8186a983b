import Foundation

/// Wall-clock timing helpers: median of repeated runs after a warm-up.
enum Timing {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The median seconds of `body` over `repeats` runs (after `warmup` unmeasured runs), with
    /// each run repeating `body` `inner` times and dividing.
    static func median(repeats: Int = 7, warmup: Int = 1, inner: Int = 1, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { for _ in 0..<inner { try body() } }
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = now()
            for _ in 0..<inner { try body() }
            samples.append(Double(now() - start) / 1e9 / Double(inner))
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// Picks an inner repeat count so one measured run takes about `target` seconds.
    static func calibratedInner(target: Double = 0.05, _ body: () throws -> Void) rethrows -> Int {
        let start = now()
        try body()
        let once = Swift.max(Double(now() - start) / 1e9, 1e-7)
        return Swift.max(1, Swift.min(100_000, Int(target / once)))
    }
}
