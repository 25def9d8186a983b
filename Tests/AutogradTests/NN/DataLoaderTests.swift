import XCTest
@testable import Autograd

final class DataLoaderTests: XCTestCase {
    let x = Tensor(shape: [10, 2], scalars: (0..<20).map { Float($0) })
    let y = Tensor(shape: [10], scalars: Array(0..<10))

    func testSequentialBatchesKeepRowsTogether() {
        let loader = DataLoader([x, y], batchSize: 4)
        let batches = Array(loader)
        XCTAssertEqual(loader.count, 3)
        XCTAssertEqual(batches.map { $0[0].shape }, [[4, 2], [4, 2], [2, 2]])
        XCTAssertEqual(batches[2][1].scalars(as: Int.self), [8, 9])
        XCTAssertEqual(batches[1][0].scalars(as: Float.self), [8, 9, 10, 11, 12, 13, 14, 15])
        XCTAssertEqual(Array(DataLoader([x, y], batchSize: 4, dropLast: true)).count, 2)
    }

    func testShuffleIsASeededPermutationRedrawnEachEpoch() {
        let loader = DataLoader([x, y], batchSize: 3, shuffle: true, generator: Generator(seed: 5))
        let epoch1 = Array(loader).flatMap { $0[1].scalars(as: Int.self) }
        let epoch2 = Array(loader).flatMap { $0[1].scalars(as: Int.self) }
        XCTAssertEqual(epoch1.sorted(), Array(0..<10))
        XCTAssertNotEqual(epoch1, epoch2)
        let again = Array(DataLoader([x, y], batchSize: 3, shuffle: true, generator: Generator(seed: 5))).flatMap { $0[1].scalars(as: Int.self) }
        XCTAssertEqual(again, epoch1)
        // Rows stay paired: x's first column is 2·y.
        for batch in loader {
            XCTAssertEqual(batch[0].scalars(as: Float.self).enumerated().filter { $0.offset % 2 == 0 }.map { Int($0.element) },
                           batch[1].scalars(as: Int.self).map { 2 * $0 })
        }
    }
}
