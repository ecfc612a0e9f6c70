"""Resuming a run: its settings from config.json, its state from checkpoints/last.pt.

Reading (rank 0 alone in a distributed run, which then hands the checkpoint to the other ranks) is
kept apart from applying it to the trainer's model, optimiser, schedule and counters.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine.epoch_end import killed_before_first_checkpoint
from studio.core.errors import CheckpointError, RunError, StudioError

LAST = "last.pt"


def read_last_checkpoint(run_dir: Path) -> dict | None:
    """The run's last checkpoint, or None when the run was killed before its first one (it starts over)."""
    path = run_dir / "checkpoints" / LAST
    if not path.exists() and not path.is_symlink():
        if killed_before_first_checkpoint(run_dir):
            return None   # nothing to restore: the resume starts over, its fit_start drops the orphan records
        raise RunError(f"{run_dir.name} has no checkpoint to resume from (no epoch finished).")
    try:
        return runs.read_checkpoint(path)  # says what is wrong with a folder, a FIFO, a link to a device
    except CheckpointError as exc:
        raise RunError(f"{run_dir.name} cannot be resumed: {exc}") from None


def apply_checkpoint(trainer, data: dict, run_name: str) -> None:
    """Model, optimiser, schedule and counters from a checkpoint read by read_last_checkpoint."""
    try:
        state = data.get("state_dict")
        if not isinstance(state, dict):
            raise RunError("it holds no model weights")
        runs.load_into(trainer.model, state, trainer.config.model)
        if data.get("optimizer"):
            trainer.optimizer.load_state_dict(data["optimizer"])
        trainer.start_epoch = count(data.get("epoch"))
        trainer.step = count(data.get("step"))
        restore_scheduler(trainer, data.get("scheduler"))
    except (StudioError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise RunError(f"{run_name} cannot be resumed: its last checkpoint ({LAST}) is damaged or "
                       f"does not match the run ({exc}).") from None
    metrics = data.get("metrics")
    trainer._resumed_record = metrics.get("epoch_record") if isinstance(metrics, dict) else None
    trainer._resumed_checkpoint = {"epoch": data.get("epoch"), "metrics": metrics}
    trainer.selection.restore(metrics)
    trainer.best_test_acc = trainer.selection.test_acc


def restore_scheduler(trainer, state) -> None:
    """The saved schedule, or a re-planned one when resume extends the run.

    Cosine and OneCycle are planned over the run's length. A longer run gets the schedule it
    would have had if planned that long, replayed up to where the run is (torch's OneCycleLR
    raises when stepped past its plan; a restored cosine would train at its final LR of 0).
    """
    scheduler = trainer.scheduler
    if scheduler is None or not isinstance(state, dict) or not state:
        return
    saved = state.get("total_steps", state.get("T_max"))
    planned = scheduler.state_dict()
    if saved is None or saved == planned.get("total_steps", planned.get("T_max")):
        scheduler.load_state_dict(state)
        return
    done = trainer.step if trainer.config.schedule == "onecycle" else trainer.start_epoch
    for group in trainer.optimizer.param_groups:  # the optimiser's state brought the old plan's last LR
        group["lr"] = group.get("initial_lr", trainer.config.lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": a replay, not training
        for _ in range(done):
            scheduler.step()


def count(value) -> int:
    """A non-negative whole number from a checkpoint field (epoch, step); anything else is damage."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a count of {value!r}")
    return value


def resume_config(run_dir, config: TrainConfig | None) -> TrainConfig:
    if run_dir is None:
        raise RunError("Resume needs a run folder.")
    saved = runs.read_json(Path(run_dir) / "config.json")
    if not isinstance(saved, dict):
        raise RunError(f"{run_dir} is not a run folder (no readable config.json).")
    try:
        resumed = TrainConfig.from_dict(saved)
        resumed.validate()
    except (StudioError, TypeError) as exc:
        raise RunError(f"{Path(run_dir).name} cannot be resumed: its config.json is damaged ({exc}).") from None
    if "val_fraction" not in saved:
        resumed.val_fraction = 0.0   # a run from before validation splits trained on the whole training split
    if config is not None and config.epochs > resumed.epochs:
        resumed.epochs = config.epochs   # resuming may extend a run, never change what it is
    return resumed


def read_config_file(path: Path) -> TrainConfig:
    """A run's settings from its config.json (or its folder), with a clear message when unreadable."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudioError(f"{path} does not exist (give a run's config.json or its folder).") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StudioError(f"{path} is not a readable config.json ({exc}).") from None
    if not isinstance(data, dict):
        raise StudioError(f"{path} is not a run's config.json (it holds no settings).")
    try:
        return TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise StudioError(f"{path} holds settings that cannot be read ({exc}).") from None
