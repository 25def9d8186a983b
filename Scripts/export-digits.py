#!/usr/bin/env python3
"""Exports scikit-learn's 8x8 handwritten digits for the autograd-tour training example.

Writes Sources/autograd-tour/Resources/digits.npz (uncompressed, as np.savez writes it) with
  images  uint8 [1797, 64]  pixel intensities 0...16, row-major 8x8
  labels  uint8 [1797]      the digit 0...9
in a fixed shuffled order (NumPy RandomState(0)): the first 1437 rows are the training split,
the last 360 the held-out test split.

The data are the UCI ML "Optical Recognition of Handwritten Digits" test set as bundled with
scikit-learn (CC BY 4.0); see DIGITS-LICENSE.md beside the file.

Run once:  python3 -m venv /tmp/digits && /tmp/digits/bin/pip install scikit-learn numpy
           /tmp/digits/bin/python Scripts/export-digits.py
"""
import os

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
order = np.random.RandomState(0).permutation(len(digits.target))
images = digits.data[order].astype(np.uint8)
labels = digits.target[order].astype(np.uint8)
assert images.shape == (1797, 64) and images.max() == 16
path = os.path.join(os.path.dirname(__file__), "..", "Sources", "autograd-tour", "Resources", "digits.npz")
np.savez(path, images=images, labels=labels)
print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
