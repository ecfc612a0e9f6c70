"""What the health records cost: training images/second with and without them, in one run.

One Trainer run; its BatchEnd listener switches the health monitor's step hooks (per-layer
gradient norms and update/weight ratios every HEALTH_EVERY steps) on and off every BLOCK batches,
so both conditions share the process, the data, the model and the machine's load of the moment.
The per-epoch part (the dead-unit probe on one held-out batch, the gaps, the diagnosis rules) is
timed on its own and set against the epoch's time. Prints the img/s of both (wall and CPU time:
noisy on a busy machine), the hooks' own time measured directly, and the overall slowdown
(hooks + per-epoch part).
    python bench/health_cost.py [--model lenet5] [--dataset mnist-sample] [--epochs 3] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BLOCK = 10   # batches per on/off block: one health record in an "on" block at HEALTH_EVERY = 10


def main() -> int:
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine.events import BatchEnd, EpochEnd
    from studio.core.engine.health import HEALTH_EVERY
    from studio.core.engine.trainer import Trainer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    config = TrainConfig(model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                         device=args.device)
    trainer = Trainer(config, record=False)
    trainer.prepare()
    monitor = trainer.health
    blocks = {True: [], False: []}
    cpu_blocks = {True: [], False: []}
    epoch_parts: list[tuple[float, float]] = []
    clock = {"block": None, "count": 0}

    def listener(event) -> None:
        if isinstance(event, BatchEnd):
            if event.batch == 1:                      # an epoch's first batch starts a fresh block
                clock["block"], clock["count"], clock["cpu"] = time.perf_counter(), 0, time.process_time()
                return
            clock["count"] += 1
            if clock["count"] == BLOCK:
                now, cpu = time.perf_counter(), time.process_time()
                blocks[monitor.enabled].append(BLOCK * args.batch_size / (now - clock["block"]))
                cpu_blocks[monitor.enabled].append(BLOCK * args.batch_size / max(cpu - clock["cpu"], 1e-9))
                monitor.enabled = not monitor.enabled
                clock["block"], clock["count"], clock["cpu"] = now, 0, cpu
        elif isinstance(event, EpochEnd):
            epoch_parts.append((event.epoch_time, timed_epoch["seconds"]))

    timed_epoch = {"seconds": 0.0}
    original = monitor._epoch_health

    def timed(event):
        t0 = time.perf_counter()
        try:
            return original(event)
        finally:
            timed_epoch["seconds"] = time.perf_counter() - t0

    monitor._epoch_health = timed
    inside = {"seconds": 0.0}

    def clocked(work):
        def run():
            t0 = time.perf_counter()
            try:
                return work()
            finally:
                inside["seconds"] += time.perf_counter() - t0
        return run

    # The hooks' own time against the training time: a share that other programs' load slows alike.
    monitor._measure_before, monitor._measure_after = clocked(monitor._measure_before), clocked(monitor._measure_after)
    started = time.perf_counter()
    trainer.callbacks.insert(0, listener)
    end = trainer.fit()
    training = sum(total for total, _ in epoch_parts) or (time.perf_counter() - started)
    on, off = statistics.median(blocks[True]), statistics.median(blocks[False])
    # Neighbouring blocks share the machine's load of the moment: the median of their ratios is the cost.
    pairs = [b / a for a, b in zip(blocks[True], blocks[False])]
    step_cost = statistics.median(pairs) - 1
    cpu_cost = statistics.median(b / a for a, b in zip(cpu_blocks[True], cpu_blocks[False])) - 1
    epoch_share = statistics.median(health / max(total, 1e-9) for total, health in epoch_parts)
    print(f"{args.model} on {args.dataset}, batch {args.batch_size}, {end.epochs_done} epochs on {trainer.device}; "
          f"health records every {HEALTH_EVERY} steps; {len(blocks[True])}+{len(blocks[False])} blocks of {BLOCK} batches")
    print(f"training with health records    : {on:9.1f} img/s (median of blocks)")
    print(f"training without health records : {off:9.1f} img/s")
    print(f"step records cost               : {100 * step_cost:+.2f} % (median of {len(pairs)} neighbouring on/off pairs)")
    print(f"step records cost, CPU time     : {100 * cpu_cost:+.2f} % (the same pairs in process CPU seconds: "
          "less sensitive to other programs' load)")
    print(f"time inside the step hooks      : {100 * inside['seconds'] / training:.2f} % of the epochs' time "
          "(the hooks timed directly: the most robust of these numbers on a busy machine)")
    print(f"per-epoch probe + diagnosis     : {100 * epoch_share:.2f} % of an epoch's time")
    hooks = inside["seconds"] / training
    print(f"medians of the blocks           : {100 * (off / on - 1):+.2f} % slower with the records")
    print(f"total (hooks + per-epoch part)  : {100 * (hooks + epoch_share):+.2f} % slower (goal: under 5 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
