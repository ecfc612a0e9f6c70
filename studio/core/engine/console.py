"""The CLI's view of a run: a tqdm bar per epoch and seed 001's line per epoch."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from tqdm import tqdm

from studio.core.engine.events import BatchEnd, EpochEnd, FitEnd, FitError, FitStart, epoch_log_line


class ConsoleLogger:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stdout  # looked up now: the stdout of import time may be closed (tests)
        self.epochs: list[dict] = []
        self.skipped: list = []
        self._bar: tqdm | None = None

    def __call__(self, event) -> None:
        if isinstance(event, FitStart):
            self._report_skipped(event.skipped)
        if isinstance(event, FitStart) and not self.quiet:
            where = f" -> {event.run_dir}" if event.run_dir else ""
            tqdm.write(f"Training {event.config['model']} on {event.config['dataset']} "
                       f"({event.train_size} train / {event.test_size} test images, {event.num_params:,} parameters) "
                       f"on {event.device}{where}", file=self.stream)
        elif isinstance(event, BatchEnd):
            self._on_batch(event)
        elif isinstance(event, EpochEnd):
            self.close()
            self.epochs.append({k: getattr(event, k) for k in (
                "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "epoch_time",
                "images_per_sec", "lr", "best_epoch", "selected_on")})
            if not self.quiet:
                tqdm.write(epoch_log_line(event), file=self.stream)
        elif isinstance(event, (FitEnd, FitError)):
            self.close()

    def _report_skipped(self, skipped: list) -> None:
        """Files a folder dataset left out: always on stderr (stdout may be one JSON document)."""
        self.skipped = list(skipped)
        if not skipped:
            return
        shown = ", ".join(f"{Path(path).name} ({reason})" for path, reason in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        print(f"warning: {len(skipped)} file(s) could not be used and were skipped: {shown}{more}", file=sys.stderr)

    def _on_batch(self, event: BatchEnd) -> None:
        if self.quiet:
            return
        if self._bar is None:
            self._bar = tqdm(total=event.batches, desc=f"Epoch {event.epoch}", leave=False, unit="batch",
                             file=sys.stderr, dynamic_ncols=True)
        self._bar.update(event.batch - self._bar.n)
        if event.batch % 10 == 0 or event.batch == event.batches:
            self._bar.set_postfix(loss=f"{event.loss:.4f}", img_s=f"{event.images_per_sec:,.0f}", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


def fit_until_ctrl_c(trainer, logger=None) -> tuple[FitEnd, int]:
    """trainer.fit() with Ctrl+C asking for a clean stop between batches; the end and the exit code
    (1 failed, 130 stopped by Ctrl+C, else 0). `logger` is closed afterwards either way."""
    interrupted = []

    def on_ctrl_c(*_):
        interrupted.append(True)
        trainer.request_stop("interrupted (Ctrl+C)")

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        end = trainer.fit()
    finally:
        signal.signal(signal.SIGINT, previous)
        if logger is not None:
            logger.close()
    return end, 1 if end.status == "failed" else INTERRUPTED if interrupted and end.status == "stopped" else 0
