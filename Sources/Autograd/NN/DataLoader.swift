/// Mini-batches of rows drawn from tensors that share their first dimension (PyTorch's
/// `DataLoader` over a `TensorDataset`). Iterating yields one `[Tensor]` per batch, in the
/// order of `tensors`; with `shuffle`, each iteration draws a fresh permutation from
/// `generator`, so runs with the same seed see the same batches.
///
/// ```swift
/// let loader = DataLoader([images, labels], batchSize: 64, shuffle: true, generator: Generator(seed: 0))
/// for batch in loader { let (x, y) = (batch[0], batch[1]) … }
/// ```
public struct DataLoader: Sequence {
    /// The tensors batched together, rows along dim 0.
    public let tensors: [Tensor]
    /// The number of rows per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether the rows are permuted each iteration.
    public let shuffle: Bool
    /// Whether an incomplete last batch is dropped.
    public let dropLast: Bool
    /// The source of permutations (default `Generator.default`).
    public let generator: Generator

    /// Creates the loader.
    /// - Precondition: at least one tensor; all of rank ≥ 1 with equal first dims; `batchSize > 0`.
    public init(_ tensors: [Tensor], batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, generator: Generator? = nil) {
        precondition(!tensors.isEmpty && tensors.allSatisfy { $0.rank >= 1 && $0.shape[0] == tensors[0].shape[0] },
                     "DataLoader: Size mismatch between tensors (first dims \(tensors.map { $0.shape.first ?? 0 }))")
        precondition(batchSize > 0, "DataLoader: batch_size should be a positive integer value, but got batch_size=\(batchSize)")
        self.tensors = tensors.map { $0.detach().contiguousWithoutGrad() }
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.generator = generator ?? .default
    }

    /// The number of rows.
    public var rowCount: Int { tensors[0].shape[0] }

    /// The number of batches per iteration.
    public var count: Int { dropLast ? rowCount / batchSize : (rowCount + batchSize - 1) / batchSize }

    /// Starts an iteration (drawing a permutation when shuffling).
    public func makeIterator() -> Iterator {
        var order = Array(0..<rowCount)
        if shuffle {
            // Fisher–Yates with the generator's 64-bit draws.
            let draws = generator.next(Swift.max(rowCount - 1, 0))
            for (k, i) in stride(from: rowCount - 1, to: 0, by: -1).enumerated() {
                order.swapAt(i, Int(draws[k] % UInt64(i + 1)))
            }
        }
        return Iterator(loader: self, order: order)
    }

    /// Yields the batches of one iteration.
    public struct Iterator: IteratorProtocol {
        let loader: DataLoader
        let order: [Int]
        var position = 0

        /// The next batch, or nil after the last.
        public mutating func next() -> [Tensor]? {
            let remaining = order.count - position
            guard remaining > 0, !(loader.dropLast && remaining < loader.batchSize) else { return nil }
            let n = Swift.min(loader.batchSize, remaining)
            let rows = Tensor(shape: [n], scalars: order[position..<(position + n)].map { Int64($0) })
            position += n
            // One index tensor per batch (`to(device:)` returns it as is on its own device).
            return loader.tensors.map { t in t.gatheredRows(rows.to(device: t.device)) }
        }
    }
}
