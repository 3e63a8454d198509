#!/usr/bin/python3
"""Reference numbers for `archgen manifold` (the MobileNetV2 paper's Figure 1): the read-out and T⁺y errors of fixed
embeddings T of the spiral, computed with NumPy's least squares and pseudo-inverse, independently of ArchGen's
TorchSharp code. ReluManifoldTests holds the printed numbers.

Usage: /usr/bin/python3 tools/reference/manifold.py
"""
import numpy as np

POINTS = 200
EMBEDDINGS = {
    2: [[1.0, 0.0], [0.0, 1.0]],
    3: [[0.5, -1.2], [1.5, 0.3], [-0.7, 0.9]],
    5: [[0.2, 1.1], [-1.3, 0.4], [0.8, -0.6], [1.7, 1.2], [-0.5, -1.9]],
}

theta = np.linspace(0.0, 4 * np.pi, POINTS)
x = np.stack([theta * np.cos(theta), theta * np.sin(theta)]) / (4 * np.pi)  # 2 x points
scale = np.mean(np.linalg.norm(x, axis=0))

for n, rows in EMBEDDINGS.items():
    t = np.array(rows)
    y = np.maximum(t @ x, 0.0)
    features = np.vstack([y, np.ones((1, POINTS))]).T
    a, *_ = np.linalg.lstsq(features, x.T, rcond=None)
    readout = np.mean(np.linalg.norm(features @ a - x.T, axis=1)) / scale
    pinv = np.mean(np.linalg.norm(np.linalg.pinv(t) @ y - x, axis=0)) / scale
    print(f"{n}\t{readout:.12f}\t{pinv:.12f}")
