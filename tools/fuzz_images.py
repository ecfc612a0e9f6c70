"""Image fuzzer: mutated PNG/JPEG/GIF/BMP/TIFF/WebP files through decode_image and the predict path.

Seeds are generated here (so anyone can run it): small images of each format, in several modes
(RGB, grey, palette, alpha, 16-bit, progressive and baseline JPEG, animated GIF). Each case is
one seed with mutations: bit flips, byte overwrites, truncation, inserted or repeated bytes,
and header edits (claimed width/height, bit depth, colour type, chunk lengths). A worker
subprocess decodes each case with core.images.decode_image and runs what `predict` does next
(prepare_input + the demo LeNet-5) under a memory limit (resource.setrlimit) and a time limit;
a worker that dies or hangs is counted and replaced.

    python tools/fuzz_images.py                   # 10,000 cases
    python tools/fuzz_images.py --cases 20000 --timeout 20 --memory-mb 1024 --save /tmp/fuzz-finds

Outcomes: accepted (decoded and predicted), refused (ImageDecodeError: a sentence for the user),
error (any other exception: a bug), crashed (the worker died: segfault, out of memory),
timed-out (over --timeout seconds). Exits 1 when any case errored, crashed or timed out.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import random
import struct
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- seeds

def make_seeds() -> dict[str, bytes]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).astype(np.uint8)
    rgb[10:30, 20:40] = rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)
    grey = rgb[..., 0]
    seeds = {}

    def save(name, image, fmt, **options):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        seeds[name] = buffer.getvalue()

    im, g = Image.fromarray(rgb), Image.fromarray(grey)
    save("png-rgb", im, "PNG")
    save("png-grey", g, "PNG")
    save("png-palette", im.convert("P"), "PNG")
    save("png-rgba", im.convert("RGBA"), "PNG")
    save("png-16bit", Image.fromarray(grey.astype(np.uint16) * 257), "PNG")
    save("jpeg-baseline", im, "JPEG", quality=85)
    save("jpeg-progressive", im, "JPEG", quality=85, progressive=True)
    save("jpeg-grey", g, "JPEG")
    save("jpeg-exif", im, "JPEG", exif=_exif_rotated())
    save("gif", im.convert("P"), "GIF")
    frames = [im.convert("P"), g.convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    seeds["gif-animated"] = buffer.getvalue()
    save("bmp-rgb", im, "BMP")
    save("bmp-palette", im.convert("P"), "BMP")
    save("tiff-raw", im, "TIFF")
    save("tiff-lzw", im, "TIFF", compression="tiff_lzw")
    save("tiff-grey16", Image.fromarray(grey.astype(np.uint16) * 257), "TIFF")
    try:
        save("webp-lossy", im, "WEBP", quality=80)
        save("webp-lossless", im.convert("RGBA"), "WEBP", lossless=True)
    except (OSError, KeyError):
        pass  # a Pillow without WebP
    return {k: v for k, v in seeds.items() if v}


def _exif_rotated() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


# ---------------------------------------------------------------- mutations

def _flip_bits(data: bytearray, rng: random.Random) -> str:
    n = rng.choice((1, 1, 2, 4, 8, 32))
    for _ in range(n):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return f"flip {n} bits"


def _overwrite(data: bytearray, rng: random.Random) -> str:
    i = rng.randrange(len(data))
    value = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE))
    width = rng.choice((1, 2, 4))
    data[i:i + width] = bytes([value]) * width
    return f"set {width} bytes at {i} to {value:#04x}"


def _truncate(data: bytearray, rng: random.Random) -> str:
    cut = rng.randrange(1, len(data))
    del data[cut:]
    return f"truncate at {cut}"


def _insert(data: bytearray, rng: random.Random) -> str:
    i = rng.randrange(len(data))
    if rng.random() < 0.5:
        chunk = data[i:i + rng.randrange(1, 64)] * rng.randrange(2, 20)
        what = "repeat"
    else:
        chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        what = "insert random"
    data[i:i] = chunk
    return f"{what} {len(chunk)} bytes at {i}"


_BIG = (0, 1, 2, 255, 256, 4096, 7071, 8191, 16383, 32767, 65535)


def _header_edit(data: bytearray, rng: random.Random) -> str:
    """Change a field the decoder trusts: claimed size, bit depth, colour type, chunk lengths."""
    try:
        return _edit_header(data, rng)
    except IndexError:  # an earlier mutation cut the header short
        return _flip_bits(data, rng)


def _edit_header(data: bytearray, rng: random.Random) -> str:
    kind = bytes(data[:4])
    w, h = rng.choice(_BIG), rng.choice(_BIG)
    if kind.startswith(b"\x89PNG"):
        field = rng.choice(("size", "depth", "colour", "length"))
        if field == "size":
            data[16:24] = struct.pack(">II", w, h)
        elif field == "depth":
            data[24] = rng.choice((0, 1, 2, 3, 4, 8, 16, 32))
        elif field == "colour":
            data[25] = rng.choice((0, 1, 2, 3, 4, 5, 6, 7))
        else:
            data[8:12] = struct.pack(">I", rng.choice((0, 12, 13, 0x7FFFFFFF, 0xFFFFFFFF)))
        if field != "length" and rng.random() < 0.8:   # keep the CRC right: the edit reaches the decoder
            data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        return f"PNG IHDR {field}"
    if kind.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                data[i + 5:i + 9] = struct.pack(">HH", h, w)
                return f"JPEG SOF claims {w}x{h}"
            i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
        return "JPEG without SOF"
    if kind.startswith(b"GIF8"):
        data[6:10] = struct.pack("<HH", w, h)
        return f"GIF screen {w}x{h}"
    if kind.startswith(b"BM"):
        field = rng.choice(("size", "bpp", "offset"))
        if field == "size":
            data[18:26] = struct.pack("<ii", w, rng.choice((h, -h)))
        elif field == "bpp":
            data[28:30] = struct.pack("<H", rng.choice((0, 1, 4, 8, 16, 24, 32, 64)))
        else:
            data[10:14] = struct.pack("<I", rng.choice((0, 14, 54, 0xFFFFFF)))
        return f"BMP {field}"
    if kind in (b"II*\x00", b"MM\x00*"):
        i = rng.randrange(8, min(len(data), 400))
        data[i:i + 4] = struct.pack("<I", rng.choice((0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, w * h)))
        return f"TIFF field at {i}"
    if kind == b"RIFF":
        if len(data) > 30:
            data[26:30] = struct.pack("<HH", w, h)
        return f"WebP frame {w}x{h}"
    return _flip_bits(data, rng)


MUTATIONS = (_flip_bits, _overwrite, _truncate, _insert, _header_edit)


def mutate(seed: bytes, rng: random.Random) -> tuple[bytes, str]:
    data = bytearray(seed)
    steps = [rng.choice(MUTATIONS)(data, rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    if not data:
        data = bytearray(b"\x00")
    return bytes(data), "; ".join(steps)


# ---------------------------------------------------------------- the worker

def worker(conn, memory_mb: int) -> None:
    import resource
    import warnings

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")   # Pillow's "Corrupt EXIF data" and friends: the outcome says it all
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)               # libtiff prints to stderr from C
    sys.path.insert(0, str(ROOT))
    import torch

    torch.set_num_threads(1)
    from studio.core.errors import ImageDecodeError
    from studio.core.images import decode_image
    from studio.core.inspect.predict import topk
    from studio.core.inspect.preprocess import is_digit_model, prepare_input
    from studio.core.runs import load_checkpoint

    loaded = load_checkpoint(ROOT / "models" / "lenet5-mnist-sample.pt")
    digit = is_digit_model(loaded.classes, loaded.input_shape)
    side = max(loaded.input_shape[1:])
    # torch maps gigabytes of address space it never touches (its CUDA libraries): the limit is
    # what a case may add on top of the worker as it stands now.
    limit = _address_space() + memory_mb * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        data = conn.recv()
        if data is None:
            return
        started = time.perf_counter()
        try:
            # The predict path: the file as a user drops it, then what `predict` does with the pixels.
            image = decode_image(data, min_side=side if len(data) % 2 else None)  # both with and without draft
            seen = prepare_input(image, loaded.input_shape, loaded.mean, loaded.std, digit=digit)
            topk(loaded.model, seen.tensor, loaded.classes, k=3)
            outcome = ("accepted", f"{image.shape}")
        except ImageDecodeError as exc:
            outcome = ("refused", exc.reason)
        except Exception as exc:  # noqa: BLE001 - anything else is a finding
            outcome = ("error", f"{type(exc).__name__}: {str(exc)[:200]}")
        conn.send((*outcome, time.perf_counter() - started))


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class Worker:
    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.start()

    def start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker, args=(child, self.memory_mb), daemon=True)
        self.proc.start()
        if not self.conn.poll(300) or self.conn.recv() != "ready":
            raise SystemExit("the fuzz worker did not start (is the memory limit too low for torch?)")

    def run(self, data: bytes, timeout: float) -> tuple[str, str, float]:
        started = time.perf_counter()
        try:
            self.conn.send(data)
            if self.conn.poll(timeout):
                return self.conn.recv()
            outcome = "timed-out"
        except (EOFError, BrokenPipeError, ConnectionResetError):
            outcome = "crashed"
        elapsed = time.perf_counter() - started
        self.proc.kill()
        self.proc.join()
        detail = f"exit code {self.proc.exitcode}" if outcome == "crashed" else f"over {timeout:g} s"
        self.start()
        return outcome, detail, elapsed

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address space a case may add to the worker's (RLIMIT_AS, Linux)")
    parser.add_argument("--save", help="write the cases that errored, crashed or timed out to this folder")
    args = parser.parse_args(argv)

    seeds = make_seeds()
    names = sorted(seeds)
    rng = random.Random(args.seed)
    counts, by_format, reasons = Counter(), Counter(), Counter()
    slowest, finds = [], []
    pool = Worker(args.memory_mb)
    started = time.perf_counter()
    try:
        for n in range(args.cases):
            name = names[n % len(names)]
            data, how = mutate(seeds[name], rng)
            outcome, detail, seconds = pool.run(data, args.timeout)
            counts[outcome] += 1
            by_format[(name.split("-")[0], outcome)] += 1
            if outcome == "refused":
                reasons[detail] += 1
            slowest = sorted([*slowest, (seconds, n, name, how, outcome)], reverse=True)[:10]
            if outcome in ("error", "crashed", "timed-out"):
                finds.append((n, name, how, outcome, detail))
                if args.save:
                    Path(args.save).mkdir(parents=True, exist_ok=True)
                    (Path(args.save) / f"case{n:05d}-{name}-{outcome}.bin").write_bytes(data)
            if (n + 1) % 1000 == 0:
                print(f"  {n + 1} cases, {time.perf_counter() - started:.0f} s: {dict(counts)}", flush=True)
    finally:
        pool.close()

    total = time.perf_counter() - started
    print(f"\n{args.cases} mutated images from {len(seeds)} seeds ({', '.join(names)}) in {total:.0f} s, "
          f"limits {args.timeout:g} s and {args.memory_mb} MB a case")
    for outcome in ("accepted", "refused", "error", "crashed", "timed-out"):
        print(f"  {outcome:10} {counts[outcome]:6}")
    print("refusal reasons: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    formats = sorted({f for f, _ in by_format})
    print("by format (accepted/refused/other): " + ", ".join(
        f"{f} {by_format[(f, 'accepted')]}/{by_format[(f, 'refused')]}/"
        f"{sum(v for (g, o), v in by_format.items() if g == f and o not in ('accepted', 'refused'))}" for f in formats))
    print("slowest cases:")
    for seconds, n, name, how, outcome in slowest:
        print(f"  {seconds:7.3f} s  case {n:5} {name:17} {outcome:9} {how[:70]}")
    for n, name, how, outcome, detail in finds[:30]:
        print(f"FIND case {n} {name} {outcome}: {detail} ({how})")
    return 1 if finds else 0


if __name__ == "__main__":
    sys.exit(main())
