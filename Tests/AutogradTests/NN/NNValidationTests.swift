import XCTest
@testable import Autograd

/// The messages of the NN ops' validators, reached without trapping.
final class NNValidationTests: XCTestCase {
    func testConvolutionMessages() {
        let x = Tensor.zeros([1, 3, 5, 5]), w = Tensor.zeros([4, 3, 3, 3])
        assertValidationFails("to have 6 channels") {
            _ = try validateConvolution(x, Tensor.zeros([4, 3, 3, 3]), nil, spatialRank: 2, stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 2, op: "conv2d")
        }
        assertValidationFails("expected 3D (unbatched) or 4D (batched) input") {
            _ = try validateConvolution(Tensor.zeros([5, 5]), w, nil, spatialRank: 2, stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1, op: "conv2d")
        }
        assertValidationFails("expected bias of shape [4]") {
            _ = try validateConvolution(x, w, Tensor.zeros([3]), spatialRank: 2, stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1, op: "conv2d")
        }
        assertValidationFails("calculated output size is too small") {
            _ = try validateConvolution(Tensor.zeros([1, 3, 2, 2]), w, nil, spatialRank: 2, stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1, op: "conv2d")
        }
        assertValidationFails("stride, dilation and groups must be positive") {
            _ = try validateConvolution(x, w, nil, spatialRank: 2, stride: (0, 1), padding: (0, 0), dilation: (1, 1), groups: 1, op: "conv2d")
        }
        assertValidationFails("same dtype") {
            _ = try validateConvolution(x, w.to(.float64), nil, spatialRank: 2, stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1, op: "conv2d")
        }
    }

    func testPoolingMessages() {
        let x = Tensor.zeros([1, 2, 4, 4])
        assertValidationFails("pad should be at most half of effective kernel size") {
            _ = try validatePool2d(x, kernelSize: (2, 2), stride: (2, 2), padding: (2, 0), dilation: (1, 1), op: "maxPool2d")
        }
        assertValidationFails("expected 3D or 4D (batched) input") {
            _ = try validatePool2d(Tensor.zeros([4, 4]), kernelSize: (2, 2), stride: (2, 2), padding: (0, 0), dilation: (1, 1), op: "maxPool2d")
        }
        assertValidationFails("kernel size should be greater than zero") {
            _ = try validatePool2d(x, kernelSize: (0, 2), stride: (2, 2), padding: (0, 0), dilation: (1, 1), op: "avgPool2d")
        }
        assertValidationFails("output size is too small") {
            _ = try validatePool2d(x, kernelSize: (5, 5), stride: (1, 1), padding: (0, 0), dilation: (1, 1), op: "avgPool2d")
        }
    }

    func testLossMessages() {
        let x = Tensor.zeros([3, 4])
        assertValidationFails("target 4 is out of bounds for 4 classes") {
            try validateClassTargets(x, Tensor([0, 1, 4]), weight: nil, ignoreIndex: -100, op: "nllLoss")
        }
        assertValidationFails("expected targets of shape [3]") {
            try validateClassTargets(x, Tensor([0, 1]), weight: nil, ignoreIndex: -100, op: "nllLoss")
        }
        assertValidationFails("expected integer class targets") {
            try validateClassTargets(x, Tensor([0.0, 1, 2]), weight: nil, ignoreIndex: -100, op: "nllLoss")
        }
        assertValidationFails("weight tensor should be defined either for all 4 classes") {
            try validateClassTargets(x, Tensor([0, 1, 2]), weight: Tensor([1.0, 2.0]), ignoreIndex: -100, op: "nllLoss")
        }
        // The ignored value is allowed outside the class range.
        XCTAssertNoThrow(try validateClassTargets(x, Tensor([0, -100, 2]), weight: nil, ignoreIndex: -100, op: "nllLoss"))
        assertValidationFails("is different to the input size") {
            try validateBinaryLoss(x, Tensor.zeros([4, 3]), weight: nil, op: "binaryCrossEntropy")
        }
        assertValidationFails("does not broadcast") {
            try validateBinaryLoss(x, x, weight: Tensor.zeros([3]), op: "binaryCrossEntropyWithLogits")
        }
        assertValidationFails("must match the size of tensor b") {
            _ = try validatePointwiseLoss(x, Tensor.zeros([3]), op: "mseLoss")
        }
    }
}
