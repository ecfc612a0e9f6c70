"""How fast the inspection tabs get their numbers on the CPU.

1. All-layer activations of VGG16 (random weights) for one 224x224 image: the Activations
   tab's forward pass with a hook on every layer (goal: under 1 s).
2. The confusion matrix of LeNet-5 over 10,000 images through evaluate(): the Evaluation
   tab's work (goal: under 2 s).

Each is timed a few times after a warm-up run. The best time is what the code costs; the
median shows how much other processes on a busy machine added (CPU threads that wait for each
other suffer badly when the cores are shared). The verdict uses the best time.

    python bench/inspect_speed.py [--repeat 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

VGG_GOAL_S, CONFUSION_GOAL_S = 1.0, 2.0


def timings(fn, repeat: int) -> tuple[float, float]:
    """(best, median) seconds of fn() after one warm-up call (allocations, kernel choice)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def vgg16_activations(repeat: int) -> tuple[tuple[float, float], int]:
    from studio.core.pixels import prepare_batch
    from studio.core.inspect.activations import capture, layer_means
    from studio.core.models import build_model

    model = build_model("vgg16", (3, 224, 224), 1000).eval()
    pixels = torch.randint(0, 256, (1, 3, 224, 224), dtype=torch.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    layers = []

    def run() -> None:
        x = prepare_batch(pixels, (3, 224, 224), mean, std)
        acts = capture(model, x)
        layer_means(acts)
        layers[:] = list(acts)

    return timings(run, repeat), len(layers)


def lenet5_confusion(repeat: int, n: int = 10_000) -> tuple[tuple[float, float], int]:
    from studio.core.data.bundle import Split
    from studio.core.engine.evaluate import evaluate
    from studio.core.models import build_model

    model = build_model("lenet5", (1, 28, 28), 10).eval()
    g = torch.Generator().manual_seed(0)
    split = Split(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g),
                  torch.randint(0, 10, (n,), dtype=torch.int64, generator=g))
    total = []

    def run() -> None:
        result = evaluate(model, split, (1, 28, 28), (0.13,), (0.31,), num_classes=10)
        total[:] = [int(result.confusion.sum())]

    return timings(run, repeat), total[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the inspection tabs' heavy work on the CPU.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} threads, {args.repeat} runs after a warm-up")
    (best, median), layers = vgg16_activations(args.repeat)
    report(f"VGG16 all-layer activations, one 224x224 image ({layers} layers)", best, median, VGG_GOAL_S)
    (best, median), total = lenet5_confusion(args.repeat)
    report(f"LeNet-5 confusion matrix over {total:,} images", best, median, CONFUSION_GOAL_S)
    return 0


def report(what: str, best: float, median: float, goal: float) -> None:
    verdict = "ok" if best < goal else "over the goal"
    print(f"{what}: best {best:.3f} s, median {median:.3f} s (goal < {goal:.0f} s: {verdict})")


if __name__ == "__main__":
    raise SystemExit(main())
