"""How long ranking the filters of a layer by lesion takes: the bundled LeNet-5, its 500 test digits, the CPU.

The Kernels tab's "Rank filters" switches each filter of a layer off alone and measures the
accuracy on a fixed test subset; goal for LeNet-5's first layer (6 filters, 7 passes over the
500 test digits of mnist-sample): under 5 s on a laptop CPU. Also prints one compare (every
filter of the first layer off at once) and the second layer's ranking (16 filters).

    python bench/lesion_speed.py [--runs 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from studio.core.inspect import lesion  # noqa: E402
from studio.core.paths import DEMO_MODELS  # noqa: E402
from studio.core.runs import load_checkpoint  # noqa: E402
from studio.core.runs.labelled_subset import labelled_subset  # noqa: E402
from studio.core.runs.loaded_model import private_copy  # noqa: E402


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    demo = load_checkpoint(min(DEMO_MODELS.glob("*.pt")))
    start = time.perf_counter()
    private = private_copy(demo)
    subset = labelled_subset(demo)
    setup = time.perf_counter() - start
    images, labels = subset.images, subset.labels
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {subset.description}; "
          f"private copy + subset {setup:.2f} s")
    for layer in ("features.0", "features.3"):
        seconds, ranking = timed(lambda layer=layer: lesion.rank_filters(private.model, layer, images, labels, 10),
                                 args.runs)
        top = ", ".join(f"{r.filter} ({100 * r.drop:+.1f})" for r in ranking.ranks[:3])
        print(f"rank {len(ranking.ranks):2d} filters of {layer}: {seconds:.2f} s (median of {args.runs}); "
              f"intact {100 * ranking.baseline:.1f} %; largest drops in points: {top}")
    seconds, (before, after) = timed(lambda: lesion.compare(private.model, "features.0", range(6), images, labels, 10),
                                     args.runs)
    print(f"compare, all 6 filters of features.0 off: {seconds:.2f} s; accuracy {100 * before.overall:.1f} % -> "
          f"{100 * after.overall:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
