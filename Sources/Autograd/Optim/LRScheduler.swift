#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// A learning-rate schedule that sets its optimizer's `learningRate` on each `step()`
/// (PyTorch's `torch.optim.lr_scheduler`). Call `step()` once per epoch (or per iteration for
/// warmup), after `optimizer.step()`.
///
/// Each schedule uses PyTorch's recursive ("chainable") form, so it composes with changes made
/// to the learning rate elsewhere, and its values match PyTorch's step for step.
open class LRScheduler {
    /// The optimizer whose learning rate is scheduled.
    public let optimizer: Optimizer
    /// The learning rate at creation (PyTorch's `base_lrs[0]`).
    public let baseLearningRate: Double
    /// The number of `step()` calls so far (PyTorch's `last_epoch`).
    public private(set) var lastEpoch = 0

    /// Attaches to `optimizer` and applies the schedule's initial value.
    public init(optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLearningRate = optimizer.initialLearningRate
        optimizer.learningRate = nextLearningRate(current: optimizer.learningRate, epoch: 0)
    }

    /// Advances the schedule by one epoch and sets the optimizer's learning rate.
    public func step() {
        lastEpoch += 1
        optimizer.learningRate = nextLearningRate(current: optimizer.learningRate, epoch: lastEpoch)
    }

    /// The learning rate most recently set (PyTorch's `get_last_lr()[0]`).
    public var lastLearningRate: Double { optimizer.learningRate }

    /// The learning rate for `epoch` given the current one. Subclasses override it.
    open func nextLearningRate(current: Double, epoch: Int) -> Double { current }
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs (PyTorch's `StepLR`).
public final class StepLR: LRScheduler {
    /// Epochs between decays.
    public let stepSize: Int
    /// The decay factor.
    public let gamma: Double

    /// Creates the schedule.
    /// - Precondition: `stepSize > 0`.
    public init(optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: step_size must be positive (got \(stepSize))")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }

    /// `current · gamma` at multiples of `stepSize`, else `current`.
    public override func nextLearningRate(current: Double, epoch: Int) -> Double {
        epoch == 0 || epoch % stepSize != 0 ? current : current * gamma
    }
}

/// Cosine annealing from the base rate to `etaMin` over `tMax` epochs (PyTorch's
/// `CosineAnnealingLR`, recursive form; it rises again after `tMax` as PyTorch's does).
public final class CosineAnnealingLR: LRScheduler {
    /// The half period, in epochs.
    public let tMax: Int
    /// The minimum learning rate.
    public let etaMin: Double

    /// Creates the schedule.
    /// - Precondition: `tMax > 0`.
    public init(optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
        precondition(tMax > 0, "CosineAnnealingLR: T_max must be positive (got \(tMax))")
        self.tMax = tMax
        self.etaMin = etaMin
        super.init(optimizer: optimizer)
    }

    /// PyTorch's `CosineAnnealingLR.get_lr`.
    public override func nextLearningRate(current: Double, epoch: Int) -> Double {
        if epoch == 0 { return current }
        let t = Double(tMax), e = Double(epoch)
        if (epoch - 1 - tMax) % (2 * tMax) == 0 {
            return current + (baseLearningRate - etaMin) * (1 - cos(Double.pi / t)) / 2
        }
        return (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (current - etaMin) + etaMin
    }
}

/// Scales the learning rate linearly from `startFactor` to `endFactor` of the base rate over
/// `totalIters` epochs, then keeps it (PyTorch's `LinearLR`); the usual linear warmup.
public final class LinearLR: LRScheduler {
    /// The factors at the start and after `totalIters` steps.
    public let startFactor: Double, endFactor: Double
    /// The number of steps of the ramp.
    public let totalIters: Int

    /// Creates the schedule with PyTorch's defaults (1/3 → 1 over 5 steps).
    /// - Precondition: `0 < startFactor <= 1`, `0 <= endFactor <= 1`, `totalIters > 0`.
    public init(optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIters: Int = 5) {
        precondition(startFactor > 0 && startFactor <= 1, "LinearLR: starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        precondition(endFactor >= 0 && endFactor <= 1, "LinearLR: ending multiplicative factor expected to be between 0 and 1.")
        precondition(totalIters > 0, "LinearLR: total_iters must be positive (got \(totalIters))")
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.totalIters = totalIters
        super.init(optimizer: optimizer)
    }

    /// PyTorch's `LinearLR.get_lr`.
    public override func nextLearningRate(current: Double, epoch: Int) -> Double {
        if epoch == 0 { return current * startFactor }
        if epoch > totalIters { return current }
        let ratio = (endFactor - startFactor) / (Double(totalIters) * startFactor + Double(epoch - 1) * (endFactor - startFactor))
        return current * (1 + ratio)
    }
}
