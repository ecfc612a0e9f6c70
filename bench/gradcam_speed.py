"""How long one Grad-CAM explanation takes: resnet18, one 224x224 photo, on the CPU.

The Predict tab computes Grad-CAM each time a picture is selected, so it has to feel
instant. Goal: median under 60 ms (torchcam's README reports 41 ms for resnet18).

    python bench/gradcam_speed.py [--runs 20] [--warmup 3] [--threads N]

Random weights: the time does not depend on what the network has learned, and the
benchmark must run offline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from studio.core.images import decode_image  # noqa: E402
from studio.core.inspect.saliency import grad_cam  # noqa: E402
from studio.core.model_sources import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from studio.core.models import build_model  # noqa: E402
from studio.core.paths import RESOURCES  # noqa: E402
from studio.core.preprocess import prepare_input  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model("resnet18", (3, 224, 224), 1000).eval()
    image = decode_image(RESOURCES / "images" / "chelsea.png")
    x = prepare_input(image, (3, 224, 224), IMAGENET_MEAN, IMAGENET_STD).tensor
    for _ in range(args.warmup):
        grad_cam(model, x)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        cam = grad_cam(model, x)
        times.append((time.perf_counter() - start) * 1000)
    assert cam.shape == (224, 224) and np.isfinite(cam).all()
    p90 = float(np.percentile(times, 90))
    median = statistics.median(times)
    print(f"Grad-CAM resnet18, 1x3x224x224, CPU, {torch.get_num_threads()} threads, {args.runs} runs "
          f"after {args.warmup} warm-up: median {median:.1f} ms, p90 {p90:.1f} ms, "
          f"min {min(times):.1f} ms (goal < 60 ms); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
