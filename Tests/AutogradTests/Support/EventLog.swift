import Synchronization

/// A thread-safe list of strings, for hooks (which must be `@Sendable`) to record what ran.
final class EventLog: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ event: String) { storage.withLock { $0.append(event) } }

    var events: [String] { storage.withLock { $0 } }
}

/// Counts deinitializations of `DeinitProbe`s that share it.
final class DeinitCounter: Sendable {
    private let storage = Atomic<Int>(0)
    func increment() { storage.add(1, ordering: .relaxed) }
    var count: Int { storage.load(ordering: .relaxed) }
}

/// An object that increments its counter when it is freed.
final class DeinitProbe: Sendable {
    let counter: DeinitCounter
    init(_ counter: DeinitCounter) { self.counter = counter }
    deinit { counter.increment() }
}

/// The values of a tensor as doubles, row-major.
func values(_ t: Tensor) -> [Double] { t.to(.float64).scalars(as: Double.self) }

/// Asserts that `body` throws an `AutogradError` equal to `expected` whose message contains
/// `fragment`.
func assertAutogradError(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                         _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an AutogradError containing '\(fragment)'", file: file, line: line)
    } catch let error as AutogradError {
        XCTAssertTrue(error.description.contains(fragment), "message '\(error.description)' lacks '\(fragment)'",
                      file: file, line: line)
    } catch {
        XCTFail("expected an AutogradError, got \(error)", file: file, line: line)
    }
}

import XCTest
import Autograd
