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
from studio.core.runs.sources import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from studio.core.models import build_model  # noqa: E402
from studio.core.paths import RESOURCES  # noqa: E402
from studio.core.inspect.preprocess import prepare_input  # noqa: E402


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

    def forward():
        with torch.inference_mode():
            return model(x)

    # Interleaved, so that a burst of load from another process hits both sides alike.
    cam_times, forward_times = timed([lambda: grad_cam(model, x), forward], args.warmup, args.runs)
    cam = grad_cam(model, x)
    assert cam.shape == (224, 224) and np.isfinite(cam).all()
    print(f"resnet18, 1x3x224x224, CPU, {torch.get_num_threads()} threads, {args.runs} runs after {args.warmup} "
          f"warm-up; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  Grad-CAM:             {summary(cam_times)}  (goal: median < 60 ms)")
    print(f"  plain forward pass:   {summary(forward_times)}")
    print(f"  Grad-CAM / forward:   {statistics.median(cam_times) / statistics.median(forward_times):.2f}x (medians)")
    return 0


def timed(fns, warmup: int, runs: int) -> list[list[float]]:
    """Milliseconds of each function per run, the functions taking turns."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    return (f"median {statistics.median(times):6.1f} ms, p90 {float(np.percentile(times, 90)):6.1f} ms, "
            f"min {min(times):6.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
