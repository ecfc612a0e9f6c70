"""A run's records as the diagnosis rules read them: compact columns, fed live or from metrics.jsonl.

The same object is filled record by record by the engine's HealthMonitor while training and from
a run folder afterwards (`RunRecords.from_run`), so a diagnosis reads the same either way. Records
of kinds it does not know are skipped; a resume's fit_start drops what the resume redoes, as
store.read_metrics does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class RunRecords:
    def __init__(self):
        self.fit_start: dict = {}
        self.fit_end: dict = {}
        self.errors: list[dict] = []
        self.epochs: list[dict] = []          # "epoch" records, in order
        self.health: list[dict] = []          # "health" records (every few steps)
        self.health_epochs: list[dict] = []   # "health_epoch" records
        self._batches: list[tuple[float, float, float, float, float]] = []   # epoch, step, x, loss, accuracy

    @classmethod
    def from_records(cls, records) -> RunRecords:
        run = cls()
        run.extend(records)
        return run

    @classmethod
    def from_run(cls, run_dir: str | Path) -> RunRecords:
        from studio.core.runs.store import read_metrics

        return cls.from_records(read_metrics(Path(run_dir)))

    def extend(self, records) -> None:
        for record in records:
            self.add(record)

    def add(self, record: dict) -> None:
        if not isinstance(record, dict):
            return
        kind = record.get("event")
        if kind == "batch":
            self.add_batch(*(record.get(k) for k in ("epoch", "step")), _x(record), record.get("loss"),
                           record.get("accuracy"))
        elif kind == "epoch":
            self.epochs.append(record)
        elif kind == "health":
            self.health.append(record)
            thin(self.health)
        elif kind == "health_epoch":
            self.health_epochs.append(record)
        elif kind == "fit_start":
            self._restart(record)
        elif kind == "fit_end":
            self.fit_end = record
        elif kind == "error":
            self.errors.append(record)

    def add_batch(self, epoch, step, x, loss, accuracy) -> None:
        self._batches.append(tuple(_num(v) for v in (epoch, step, x, loss, accuracy)))

    def _restart(self, record: dict) -> None:
        done = _num(record.get("start_epoch"))
        done = done if np.isfinite(done) else 0.0
        self.fit_start, self.fit_end, self.errors = record, {}, []
        self.epochs = [r for r in self.epochs if _num(r.get("epoch")) <= done]
        self.health = [r for r in self.health if _num(r.get("epoch")) <= done]
        self.health_epochs = [r for r in self.health_epochs if _num(r.get("epoch")) <= done]
        self._batches = [b for b in self._batches if b[0] <= done]

    # ------------------------------------------------------------ what the rules read

    @property
    def config(self) -> dict:
        return self.fit_start.get("config") or {}

    def batches(self) -> dict[str, np.ndarray]:
        table = np.asarray(self._batches, dtype=np.float64).reshape(-1, 5)
        return {name: table[:, i] for i, name in enumerate(("epoch", "step", "x", "loss", "accuracy"))}

    def column(self, key: str) -> np.ndarray:
        """An epoch-record column as floats (NaN where missing)."""
        return np.asarray([_num(r.get(key)) for r in self.epochs], dtype=np.float64)

    def health_matrix(self, key: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(layers, x, values) of the HealthStep records with the latest layer list; values (records, layers)."""
        return layer_matrix(self.health, "layers", key, "x")


def layer_matrix(records: list[dict], names: str, key: str, x_key: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(layers, x, values[records, layers]) of the records that list the latest record's layers under `names`
    (a resumed run of a changed model keeps only its own), NaN where a value is not a number."""
    if not records:
        return [], np.zeros(0), np.zeros((0, 0))
    layers = list(records[-1].get(names) or [])
    rows = [r for r in records if list(r.get(names) or []) == layers and len(r.get(key) or []) == len(layers)]
    values = np.asarray([[_num(v) for v in r[key]] for r in rows], dtype=np.float64)
    return layers, np.asarray([_num(r.get(x_key)) for r in rows], dtype=np.float64), values.reshape(len(rows), len(layers))


MAX_HEALTH = 2000   # step records kept in memory; the rules read the first and the last third


def thin(records: list, limit: int = MAX_HEALTH) -> None:
    """Past `limit`, drop every other record of the older half (in place): memory stays bounded, the
    start of the run and the latest records stay."""
    if len(records) > limit:
        half = len(records) // 2
        records[:half] = records[:half:2]


def _x(record: dict) -> float:
    batches = _num(record.get("batches"))
    return _num(record.get("epoch")) - 1 + _num(record.get("batch")) / (batches if batches and batches > 0 else 1)


def _num(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)
