"""What the tabs share to show a run at one epoch of the window's timeline (gui/window/timeline.py).

A tab told `set_epoch(run_dir, epoch)` shows that epoch; `set_epoch(None, None)` (or the epoch of
the model on view) brings back the current model. The models of past epochs come from the run's
weight snapshots (core/runs/snapshots.py), loaded off the GUI thread and kept in a small LRU shared
by the tabs, so stepping back and forth over a few epochs loads each once. An epoch whose weights
were not kept is shown with the nearest kept epoch, and the titles say so (`epoch_title`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EpochModel:
    """A run's model as of `shown` (the kept epoch nearest to the `requested` one)."""

    loaded: Any          # LoadedModel
    requested: int
    shown: int


def epoch_title(requested: int, shown: int | None = None) -> str:
    """'epoch 3', 'epoch 0, the random initial weights', or 'epoch 7 (its weights were not kept: the model
    of epoch 6, the nearest kept)'."""
    if shown is None or shown == requested:
        return f"epoch {requested}" + (", the random initial weights" if requested == 0 else "")
    return f"epoch {requested} (its weights were not kept: the model of epoch {shown}, the nearest kept)"


class LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_models = LRU(6)


def _stamp(path: Path) -> int:
    """A rewritten snapshot (a resumed run redoes its later epochs) is a new cache entry."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def kept_epoch(run_dir: Path, epoch: int) -> int | None:
    """The epoch whose weights stand for `epoch`: itself when kept, else the nearest kept one."""
    from studio.core.runs.snapshots import nearest_snapshot, weights_path

    if weights_path(run_dir, epoch).exists():
        return epoch
    return nearest_snapshot(run_dir, epoch)


def epoch_model(run_dir: Path, epoch: int) -> EpochModel:
    """The model of `epoch` (or of the nearest kept epoch), from the shared LRU: call it in a worker.

    Shared and read-only: a user that hooks the network (Grad-CAM) takes a private_copy, and forward
    passes with hooks hold the inspect lock, as for the window's current model.
    """
    from studio.core.errors import RunError
    from studio.core.runs.snapshots import load_epoch_model, weights_path

    run_dir = Path(run_dir)
    shown = kept_epoch(run_dir, epoch)
    if shown != epoch:
        # Not kept as a snapshot: last.pt or best.pt may still hold this very epoch. Finding out reads
        # both whole checkpoints, so a miss is remembered too (until either file is rewritten): stepping
        # over epochs the budget skipped must not read them again at every step.
        checkpoints = run_dir / "checkpoints"
        stamp = (_stamp(checkpoints / "last.pt"), _stamp(checkpoints / "best.pt"))
        miss = (str(run_dir), "not in last.pt or best.pt", epoch, stamp)
        if _models.get(miss) is None:
            try:
                return _cached(run_dir, epoch, epoch, lambda: load_epoch_model(run_dir, epoch), stamp=stamp)
            except Exception:  # noqa: BLE001 - the nearest kept epoch stands in, and the title says so
                _models.put(miss, True)
        if shown is None:
            raise RunError(f"The weights of epoch {epoch} were not kept for {run_dir.name}.")
    return _cached(run_dir, epoch, shown, lambda: load_epoch_model(run_dir, shown),
                   stamp=_stamp(weights_path(run_dir, shown)))


def _cached(run_dir: Path, requested: int, shown: int, load, stamp) -> EpochModel:
    key = (str(run_dir), shown, stamp)
    loaded = _models.get(key)
    if loaded is None:
        loaded = load()
        loaded.model.eval()
        _models.put(key, loaded)
    return EpochModel(loaded, requested, shown)


def epoch_weights(run_dir: Path, epoch: int) -> tuple[Any, int]:
    """(LoadedModel, the epoch whose weights it holds) for a timeline epoch: in a worker."""
    found = epoch_model(run_dir, epoch)
    return found.loaded, found.shown


def forget_models() -> None:
    _models.clear()


class EpochTarget:
    """Mixed into a tab: the (run, epoch) the timeline asked for, and whether it means the current model."""

    timeline: tuple[Path, int] | None = None

    def timeline_epoch(self, loaded=None) -> int | None:
        """The epoch to show instead of the current model; None: the current model (or no timeline)."""
        if self.timeline is None:
            return None
        run_dir, epoch = self.timeline
        if self.state.run_dir is None or Path(run_dir) != Path(self.state.run_dir):
            return None
        if loaded is not None and getattr(loaded, "epoch", None) == epoch:
            return None
        return epoch

    def store_epoch(self, run_dir, epoch) -> bool:
        """Remember the timeline's choice; True when it changed."""
        new = None if run_dir is None or epoch is None else (Path(run_dir), int(epoch))
        changed = new != self.timeline
        self.timeline = new
        return changed
