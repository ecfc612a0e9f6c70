"""Engine vs. the lecture notebooks' loop: LeNet-5 on mnist-sample, batch 64, same CPU, one run.

The notebook loop (seeds 001/003): a Dataset of PIL images with ToTensor/Normalize through a
DataLoader, then forward/backward/step; run with torch's default threads and with one, and the
faster one counts. The engine: studio's Trainer (preloaded uint8 tensor, batches by index,
channels_last) with the notebook's settings (same learning rate, no schedule, no validation
split: the same 4,500 training images) twice: headless as the command line runs it (every
core) and as the window runs it (one core left free); then once with its own defaults.

Prints images/second of each and their ratio, and the wall time each needs to reach 97 % test
accuracy (training plus the per-epoch test pass), at the same batch size and learning rate.
    python bench/train_speed.py [--epochs 8] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

TARGET = 0.97


def notebook_loop(bundle, batch_size: int, epochs: int, lr: float, seed: int) -> dict:
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    from studio.core.models import build_model

    class PilDigits(Dataset):
        def __init__(self, split):
            self.images = [Image.fromarray(img[0].numpy()) for img in split.images]
            self.labels = split.labels.tolist()
            self.tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(bundle.mean, bundle.std)])

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            return self.tf(self.images[i]), self.labels[i]

    torch.manual_seed(seed)
    train = DataLoader(PilDigits(bundle.train), batch_size=batch_size, shuffle=True)
    test = DataLoader(PilDigits(bundle.test), batch_size=batch_size, shuffle=False)
    model = build_model("lenet5", bundle.input_shape, 10)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    crit = nn.CrossEntropyLoss()
    train_time, images, time_to_target, wall, accs = 0.0, 0, None, 0.0, []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for x, y in train:
            loss = crit(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            images += len(y)
        t1 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test:
                correct += (model(x).argmax(1) == y).sum().item()
        acc = correct / len(bundle.test)
        train_time += t1 - t0
        wall += time.perf_counter() - t0
        accs.append(acc)
        if time_to_target is None and acc >= TARGET:
            time_to_target = wall
    return {"img_s": images / train_time, "time_to_97": time_to_target, "accs": accs}


def engine(batch_size: int, epochs: int, lr: float | None, seed: int, schedule: str | None = None,
           keep_free: int = 0) -> dict:
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import EpochEnd, Trainer

    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=epochs, batch_size=batch_size, seed=seed,
                      val_fraction=0.0)   # the notebook's data: all 4,500 training images
    cfg.lr = lr if lr is not None else cfg.lr
    cfg.schedule = schedule if schedule is not None else cfg.schedule
    trainer = Trainer(cfg, record=False, keep_cores_free=keep_free)
    trainer.prepare()
    stats = {"wall": 0.0, "time_to_97": None, "accs": [], "speeds": []}

    def on_event(event):
        if isinstance(event, EpochEnd):
            stats["wall"] += event.epoch_time
            stats["accs"].append(event.test_acc)
            stats["speeds"].append(event.images_per_sec)
            if stats["time_to_97"] is None and event.test_acc >= TARGET:
                stats["time_to_97"] = stats["wall"]

    trainer.callbacks.append(on_event)
    trainer.fit()
    stats["img_s"] = sum(stats["speeds"]) / len(stats["speeds"])
    stats["threads"] = torch.get_num_threads()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="the lectures' Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from studio.core.config.train_config import TrainConfig
    from studio.core.data import load_dataset

    bundle = load_dataset("mnist-sample")
    default_threads = torch.get_num_threads()
    same = engine(args.batch_size, args.epochs, args.lr, args.seed, schedule="none", keep_free=0)
    window = engine(args.batch_size, args.epochs, args.lr, args.seed, schedule="none", keep_free=1)
    notebooks = {}
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        notebooks[threads] = notebook_loop(bundle, args.batch_size, args.epochs, args.lr, args.seed)
    defaults = engine(args.batch_size, args.epochs, None, args.seed)
    best_nb = max(notebooks.values(), key=lambda r: r["img_s"])
    nb_times = [r["time_to_97"] for r in notebooks.values() if r["time_to_97"]]

    fmt = lambda t: "not reached" if t is None else f"{t:6.2f} s"  # noqa: E731
    accs = lambda r: [round(a, 3) for a in r["accs"]]  # noqa: E731
    d = TrainConfig()
    print(f"LeNet-5 on mnist-sample (4,500 train / 500 test), batch {args.batch_size}, {args.epochs} epochs, CPU, "
          f"load average {os.getloadavg()[0]:.2f}")
    for threads, r in notebooks.items():
        print(f"notebook loop, Adam {args.lr}, {threads} thread(s):     {r['img_s']:8,.0f} img/s  "
              f"time to 97%: {fmt(r['time_to_97'])}  test acc: {accs(r)}")
    for label, r in (("headless (CLI)", same), ("window, 1 core free", window)):
        print(f"engine, same settings, {label}, {r['threads']} thread(s): {r['img_s']:8,.0f} img/s  "
              f"time to 97%: {fmt(r['time_to_97'])}  test acc: {accs(r)}")
    print(f"engine, its defaults (Adam {d.lr}, {d.schedule}):  {defaults['img_s']:8,.0f} img/s  "
          f"time to 97%: {fmt(defaults['time_to_97'])}  test acc: {accs(defaults)}")
    for label, r in (("headless, all cores", same), ("window, one core free", window)):
        print(f"ratio img/s, engine {label} / faster notebook loop, same batch: "
              f"{r['img_s'] / best_nb['img_s']:.2f}x  (goal >= 3x)")
    if nb_times and defaults["time_to_97"]:
        print(f"ratio time to 97%, engine defaults / faster notebook loop: "
              f"{defaults['time_to_97'] / min(nb_times):.2f}  (goal < 0.33)")
    for label, r in (("headless, all cores", same), ("window, one core free", window)):
        if nb_times and r["time_to_97"]:
            print(f"ratio time to 97%, engine same settings {label} / faster notebook loop: "
                  f"{r['time_to_97'] / min(nb_times):.2f}")


if __name__ == "__main__":
    main()
