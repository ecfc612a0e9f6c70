"""Which epoch is the best one, and when to stop early: decided on validation, never on test.

The test split is what a run reports; choosing the checkpoint (or stopping) by it would make
that report optimistic. With no validation split (val_fraction 0, as the lectures train) the
choice falls back to the test split, and the records say so ("selected_on": "test").
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class BestEpoch:
    """The running choice: the highest accuracy on `split` (a tie goes to the later epoch)."""

    split: str                     # "val" or "test": the split that chooses
    patience: int = 0              # early stopping: epochs without a lower loss on `split`; 0 = off
    epoch: int = 0                 # the best epoch so far (0: none yet)
    acc: float = -math.inf         # its accuracy on `split`
    test_acc: float = 0.0          # its accuracy on test (what the run reports)
    val_acc: float | None = None   # its accuracy on val (None without a validation split)
    best_loss: float = math.inf
    bad_epochs: int = 0

    def observe(self, record: dict) -> bool:
        """Take one epoch record (epoch, val_/test_ acc and loss); True when it is the new best."""
        acc, loss = record[f"{self.split}_acc"], record[f"{self.split}_loss"]
        if loss < self.best_loss:
            self.best_loss, self.bad_epochs = loss, 0
        else:
            self.bad_epochs += 1
        if acc < self.acc:
            return False
        self.epoch, self.acc = int(record["epoch"]), acc
        self.test_acc, self.val_acc = record["test_acc"], record.get("val_acc")
        return True

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def stop_reason(self) -> str:
        return f"early stopping: {self.split} loss did not improve for {self.patience} epochs"

    def state(self) -> dict:
        """What a checkpoint keeps so a resumed run goes on choosing as before."""
        return {"best_epoch": self.epoch, "best_test_acc": self.test_acc, "best_val_acc": self.val_acc,
                "selected_on": self.split, "best_score": self.acc if self.epoch else None,
                "best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
                "bad_epochs": self.bad_epochs}

    def restore(self, state: dict) -> None:
        """A checkpoint's state (older runs hold only best_test_acc); anything unreadable is ignored."""
        if not isinstance(state, dict) or state.get("selected_on", "test") != self.split:
            return
        number = _number(state.get("best_score", state.get("best_test_acc") if self.split == "test" else None))
        epoch = state.get("best_epoch")
        if number is None:
            return
        self.acc = number
        self.epoch = epoch if isinstance(epoch, int) and epoch > 0 else 1
        self.test_acc = _number(state.get("best_test_acc")) or 0.0
        self.val_acc = _number(state.get("best_val_acc"))
        loss = _number(state.get("best_loss"))
        self.best_loss = loss if loss is not None else math.inf
        bad = state.get("bad_epochs")
        self.bad_epochs = bad if isinstance(bad, int) and bad >= 0 else 0


def best_epoch(records: list[dict], split: str) -> BestEpoch:
    """Replay a run's epoch records (metrics.jsonl "epoch" lines) through the choice."""
    chooser = BestEpoch(split)
    for record in records:
        chooser.observe(record)
    return chooser


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
