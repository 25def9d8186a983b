import Autograd
import Foundation

/// The end of the tour: gradient descent training a small network on scikit-learn's 8×8
/// digits, on CUDA when available, else the CPU. `--cnn` trains a small convolutional network
/// instead of the MLP; `--cpu` forces the CPU.
func trainOnDigits(arguments: [String]) {
    print("\n── Training: a neural network on scikit-learn's 8×8 digits ──")
    let data: DigitsData
    do {
        data = try DigitsData.load()
    } catch {
        print("skipped: \(error)")
        return
    }
    let device: Device = CUDA.isAvailable && !arguments.contains("--cpu") ? .cuda : .cpu
    let cnn = arguments.contains("--cnn")
    let generator = Generator(seed: 0)
    let model: Module
    let epochs: Int
    if cnn {
        model = Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1, generator: generator), ReLU(), MaxPool2d(2),
                           Conv2d(16, 32, kernelSize: 3, padding: 1, generator: generator), ReLU(), MaxPool2d(2),
                           Flatten(), Linear(32 * 2 * 2, 10, generator: generator))
        epochs = 15
    } else {
        model = Sequential(Linear(64, 128, generator: generator), ReLU(), Linear(128, 10, generator: generator))
        epochs = 20
    }
    let inputShape = cnn ? [-1, 1, 8, 8] : [-1, 64]
    do {
        try model.to(device)
        let trainX = try data.trainImages.reshaped(inputShape).to(device), trainY = try data.trainLabels.to(device)
        let testX = try data.testImages.reshaped(inputShape).to(device), testY = try data.testLabels.to(device)
        print("\(cnn ? "CNN conv(1→16)·pool·conv(16→32)·pool·linear(128→10)" : "MLP 64 → 128 → ReLU → 10"), "
              + "\(model.parameters().reduce(0) { $0 + $1.value.count }) parameters, Adam (lr 1e-3), batch 32, on \(device)")
        print("train \(trainX.shape[0]) images, test \(testX.shape[0]) held out")
        let optimizer = Adam(model.parameters(), learningRate: 1e-3)
        let loader = DataLoader([trainX, trainY], batchSize: 32, shuffle: true, generator: Generator(seed: 1))
        var epochSeconds: [Double] = []
        for epoch in 1...epochs {
            model.train()
            let start = Date()
            var lossSum = 0.0, correct = 0
            for batch in loader {
                optimizer.zeroGrad()
                let logits = model(batch[0])
                let loss = crossEntropy(logits: logits, targets: batch[1])
                try loss.backward()
                optimizer.step()
                lossSum += loss.item() * Double(batch[1].count)
                correct += (logits.argmax(dim: 1) .== batch[1]).to(.int64).sum().item(as: Int.self)
            }
            let seconds = Date().timeIntervalSince(start)
            epochSeconds.append(seconds)
            let n = Double(trainX.shape[0])
            print(String(format: "epoch %2d/%d  loss %.4f  train accuracy %5.1f%%  time %.3f s",
                         epoch, epochs, lossSum / n, 100 * Double(correct) / n, seconds))
        }
        model.eval()
        let predictions = withNoGrad { model(testX).argmax(dim: 1) }
        let right = (predictions .== testY).to(.int64).sum().item(as: Int.self)
        let median = epochSeconds.sorted()[epochSeconds.count / 2]
        print(String(format: "test accuracy: %.1f%% (%d/%d held-out images); median epoch %.3f s",
                     100 * Double(right) / Double(testY.count), right, testY.count, median))
    } catch {
        print("training failed: \(error)")
    }
}
