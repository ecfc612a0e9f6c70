"""The training engine: Trainer.fit() runs a TrainConfig and tells callbacks what happens.

The loop reads like the lectures' loop (seed 001/003): for each epoch, train on shuffled
batches, then measure the validation split (carved out of the training split with the run's
seed; it chooses the best epoch and early stopping) and the test split (only reported).
Around it: events for the GUI and CLI, a run folder that records everything as it happens,
pause/stop flags checked between batches, and a stop with a clear reason when the loss stops
being a number.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn as nn

from studio.core import normalization, runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine.devices import cpu_threads, resolve_device
from studio.core.engine.distributed import lost_rank_message
from studio.core.engine.events import BatchEnd, EpochEnd, FitEnd, FitError, FitStart, event_record
from studio.core.engine.epoch_end import reconcile_best, write_epoch_end
from studio.core.engine.guards import LossWatch, out_of_memory_message
from studio.core.engine.health import attach_health
from studio.core.engine.optim import make_optimizer, make_scheduler
from studio.core.engine.resume import apply_checkpoint, read_last_checkpoint, resume_config
from studio.core.engine.selection import BestEpoch
from studio.core.errors import RunError, StudioError
from studio.core.paths import runs_dir as default_runs_dir
from studio.core.runs.snapshots import SnapshotKeeper
from studio.core.runs.tensorboard import open_for_training as open_tensorboard

KERNEL_SNAPSHOT_BUDGET = 262_144   # floats of conv weights kept per epoch (1 MiB)


class _Halt(Exception):
    """Leaves the loop between batches; `status` is 'stopped' or 'failed'."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Trainer:
    def __init__(self, config: TrainConfig | None = None, *, callbacks: Iterable[Callable] = (),
                 runs_dir: str | Path | None = None, run_dir: str | Path | None = None,
                 resume: bool = False, record: bool = True, keep_cores_free: int = 0, dist=None):
        # dist: this process's rank of a distributed run (distributed.DistContext); rank 0 reads the
        # resumed run and hands config and checkpoint to the others, which record nothing.
        self.dist = dist
        if resume and (dist is None or dist.is_main):
            config = resume_config(run_dir, config)
        self.config = config or TrainConfig()
        self.config.validate()
        self.callbacks = list(callbacks)
        self._tensorboard = None  # TensorBoard's copy of the record, when the package is installed
        self.runs_dir = runs_dir
        self.run_dir = Path(run_dir) if run_dir else None
        self.resume = resume
        self.record = record
        self.keep_cores_free = keep_cores_free   # with num_threads 0: the window keeps 1, headless none
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._stop_reason = "stopped by the user"
        self.on_blocked: Callable[[bool], None] = lambda blocked: None  # the loop sleeps (True) / goes on
        self.model: nn.Module | None = None
        self.bundle = None
        self.start_epoch = 0
        self.step = 0
        self.best_test_acc = 0.0
        self._writer = None
        self._prepared = False
        self._lock = runs.RunLock(self.run_dir) if self.run_dir else None
        self._resumed_record = None
        self._paused_seconds = 0.0  # time spent paused during this fit: not training time
        self._control = None        # distributed_control.RankControl of a distributed run
        # Called as hook(epoch, step) after each of epoch_end.EPOCH_END_STEPS: the crash tests kill the process there.
        self.epoch_end_hook: Callable[[int, str], None] | None = None

    # ------------------------------------------------------------ flags (any thread)

    def request_stop(self, reason: str = "stopped by the user") -> None:
        self._stop_reason = reason
        self._stop.set()
        self._running.set()  # a paused loop must wake up to stop

    def pause(self) -> None:
        self._running.clear()

    def unpause(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # ------------------------------------------------------------ setup

    def prepare(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Load the data, build the model and optimiser, restore a resumed run. Slow: call it off the GUI thread."""
        from studio.core.data import load_dataset
        from studio.core.models import build_model, model_input_shape

        cfg = self.config
        if self.resume and self.record and not (self._lock and self._lock.held):
            runs.check_not_locked(self.run_dir)  # before the slow part: another process trains this run
        self.device = self.dist.device if self.dist else resolve_device(cfg.device)
        if self.device.type == "cpu":
            torch.set_num_threads(self.dist.threads(cfg.num_threads) if self.dist
                                  else cpu_threads(cfg.num_threads, self.keep_cores_free))
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        from studio.core.data.split import carve_validation

        if self.dist and not self.dist.is_main:
            self.dist.barrier()   # rank 0 downloads the data first: two downloads into one folder clash
        self.bundle = load_dataset(cfg.dataset, data_dir=cfg.data_dir, image_size=cfg.image_size, progress=progress,
                                   fixes=cfg.data_fixes)
        if self.dist and self.dist.is_main:
            self.dist.barrier()
        self.bundle = carve_validation(self.bundle, cfg.val_fraction, cfg.seed)
        self.selection = BestEpoch("val" if self.bundle.val is not None else "test", cfg.early_stop_patience)
        self.mean, self.std = normalization.resolve(cfg.normalize, self.bundle.mean, self.bundle.std,
                                                    pretrained=cfg.pretrained)
        self.input_shape = tuple(model_input_shape(cfg.model, self.bundle.input_shape, cfg.pretrained, cfg.model_options))
        self.model = build_model(cfg.model, self.input_shape, len(self.bundle.classes), cfg.model_options,
                                 pretrained=cfg.pretrained, progress=progress)
        if self.dist and cfg.sync_bn:
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        self.model = self.model.to(self.device)
        self.channels_last = self.device.type == "cpu" and self._channels_last_works()
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self._make_loaders()
        self.optimizer = make_optimizer(cfg, self.model.parameters())
        self.scheduler = make_scheduler(cfg, self.optimizer, len(self.train_loader))
        self.criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.amp = bool(cfg.amp and self.device.type == "cuda")
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        if self.resume:
            self._restore()
        self.forward_model = torch.compile(self.model) if cfg.compile else self.model
        self.train_model = self.dist.wrap(self.forward_model) if self.dist else self.forward_model
        if self.dist:
            from studio.core.engine.distributed_control import RankControl

            self._control = RankControl(self.dist)
        self.health = attach_health(self)   # health records and the diagnosis (engine/health.py)
        self.health.enabled = not (self.dist and not self.dist.is_main)   # rank 0 measures for the run
        self._prepared = True

    def _channels_last_works(self) -> bool:
        """channels_last is faster on CPU, but code like x.view(n, -1) (seed 001's) breaks on it: try it once."""
        probe = torch.zeros(2, *self.input_shape, device=self.device).to(memory_format=torch.channels_last)
        model = self.model.to(memory_format=torch.channels_last)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(probe)
            return True
        except RuntimeError:
            self.model = model.to(memory_format=torch.contiguous_format)
            return False
        finally:
            self.model.train(was_training)

    def _make_loaders(self) -> None:
        from studio.core.data.batches import BatchLoader
        from studio.core.engine.distributed_data import ShardedBatchLoader, drops_last_batch

        cfg, b = self.config, self.bundle
        common = dict(input_shape=self.input_shape, mean=self.mean, std=self.std, device=self.device,
                      channels_last=self.channels_last)
        # A last batch of one image breaks BatchNorm in training ("Expected more than 1 value per
        # channel" once the map is 1x1): drop it; shuffling leaves out a different image each epoch.
        world = self.dist.world_size if self.dist else 1
        train = dict(shuffle=True, seed=cfg.seed, augment=cfg.augment if cfg.augment.any() else None,
                     drop_last=drops_last_batch(len(b.train), cfg.batch_size, world), **common)
        if self.dist:
            self.train_loader = ShardedBatchLoader(b.train, cfg.batch_size, rank=self.dist.rank, world=world, **train)
        else:
            self.train_loader = BatchLoader(b.train, cfg.batch_size, **train)
        self.test_loader = BatchLoader(b.test, max(cfg.batch_size, 256), shuffle=False, **common)

    def _restore(self) -> None:
        """Model, optimiser, schedule and counters from the run's last checkpoint."""
        if self.dist is None:
            data = read_last_checkpoint(self.run_dir)
        else:   # rank 0 reads the run folder (the others may be on machines without it) and hands it on
            sent = None
            if self.dist.is_main:
                try:
                    sent = ("checkpoint", read_last_checkpoint(self.run_dir))
                except StudioError as exc:
                    sent = ("error", str(exc))
            kind, data = self.dist.broadcast(sent)
            if kind == "error":
                raise RunError(data)
        if data is not None:
            apply_checkpoint(self, data, self.run_dir.name if self.run_dir else "the run")

    def _lock_run(self) -> None:
        """Hold the run's OS lock for the whole fit; a resumed run then drops what a crash left behind."""
        self._lock = self._lock or runs.RunLock(self.run_dir)
        self._lock.acquire()
        runs.remove_leftover_temp_files(self.run_dir)

    def _open_run(self) -> None:
        if not self.record:
            return
        if self.run_dir is None:
            self.run_dir = runs.new_run_dir(default_runs_dir(self.runs_dir), self.config.to_dict())
            self._lock_run()
        elif self.resume:   # what a crash between the epoch-end writes left (epoch_end.py)
            runs.restore_missing_epoch_record(self.run_dir, self._resumed_record)
            reconcile_best(self.run_dir, getattr(self, "_resumed_checkpoint", {}))
        runs.write_json(self.run_dir / "config.json", self.config.to_dict())
        runs.write_status(self.run_dir, "running", epochs_done=self.start_epoch, best_test_acc=self.best_test_acc)
        self._writer = runs.MetricsWriter(self.run_dir)
        self._snapshots = SnapshotKeeper(self.run_dir, self.config.epochs, self.config.snapshots, self.model)
        self._tensorboard = open_tensorboard(self.run_dir, self.start_epoch, self.model)
        self._opened = True

    # ------------------------------------------------------------ the loop

    def fit(self) -> FitEnd:
        try:
            return self._fit()
        finally:
            if self._lock is not None:
                self._lock.release()  # a crash releases it too: the OS drops the lock with the process

    def _fit(self) -> FitEnd:
        started = time.perf_counter()
        self._paused_seconds = 0.0
        status, reason, epochs_done = "failed", "", self.start_epoch
        try:
            if self.resume and self.record:
                self._lock_run()  # refuses a run another process trains, before anything is loaded
            if not self._prepared:
                self.prepare()
            epochs_done = self.start_epoch  # known only now for a resumed run
            self._open_run()
            if self.start_epoch == 0 and self.run_dir and self.record:   # epoch 0: the random initial weights
                runs.save_epoch_snapshot(self.run_dir, 0, None, self._conv_kernels())
                self._snapshots.save(self.model, **self._checkpoint_fields(0))
            self._emit(self._fit_start())
            if self.dist:
                self.dist.barrier()   # the others wait here while rank 0 opens the run folder
            self._loss_watch = LossWatch(self.config.lr)
            for epoch in range(self.start_epoch + 1, self.config.epochs + 1):
                self._run_epoch(epoch)
                epochs_done = epoch
                if self.selection.should_stop:
                    status, reason = "done", self.selection.stop_reason()
                    break
            else:
                status, reason = "done", f"finished {self.config.epochs} epochs"
        except _Halt as halt:
            status, reason = halt.status, halt.reason
        except StudioError as exc:
            reason = str(exc)
            self._emit_safely(FitError(message=reason, details=""))
        except Exception as exc:  # a bug (keep the traceback for the details pane), or out of memory
            # The allocator's own words help nobody: the sentence says what to change.
            reason = out_of_memory_message(exc, self.config.batch_size, getattr(self, "input_shape", None))
            reason = reason or (self.dist and lost_rank_message(exc))   # a collective failed: a rank is gone
            details = "" if reason else traceback.format_exc()
            reason = reason or f"{type(exc).__name__}: {_one_line(exc)}"  # the whole story is in the details
            self._emit_safely(FitError(message=reason, details=details))
        chosen = getattr(self, "selection", None) or BestEpoch("test")
        end = FitEnd(status=status, reason=reason, epochs_done=epochs_done, best_test_acc=self.best_test_acc,
                     elapsed=time.perf_counter() - started - self._paused_seconds,
                     best_epoch=chosen.epoch, best_val_acc=chosen.val_acc, selected_on=chosen.split)
        self._finish_run(end)
        return end

    def _fit_start(self) -> FitStart:
        return FitStart(config=self.config.to_dict(), run_dir=str(self.run_dir) if self.run_dir else None,
                        epochs=self.config.epochs, start_epoch=self.start_epoch,
                        batches_per_epoch=len(self.train_loader), device=str(self.device),
                        num_params=sum(p.numel() for p in self.model.parameters()),
                        classes=list(self.bundle.classes), input_shape=tuple(self.input_shape),
                        train_size=len(self.bundle.train), test_size=len(self.bundle.test),
                        skipped=[list(item) for item in getattr(self.bundle, "skipped", [])],
                        val_size=len(self.bundle.val) if self.bundle.val is not None else 0)

    def _run_epoch(self, epoch: int) -> EpochEnd:
        t0, paused0 = time.perf_counter(), self._paused_seconds
        lr = self._lr()  # before the scheduler moves it on: the LR this epoch trains with
        train_loss, train_acc, speed = self._train_epoch(epoch)
        if self.config.train_accuracy == "full-pass":
            train_acc = self._evaluate(self.bundle.train).accuracy
        val = self._evaluate(self.bundle.val) if self.bundle.val is not None else None
        result = self._evaluate()
        if self.scheduler is not None and self.config.schedule in ("step", "cosine"):
            self.scheduler.step()
        scores = {"epoch": epoch, "test_loss": result.loss, "test_acc": result.accuracy,
                  "val_loss": val.loss if val else None, "val_acc": val.accuracy if val else None}
        is_best = self.selection.observe(scores)
        self.best_test_acc = self.selection.test_acc
        event = EpochEnd(epoch=epoch, epochs=self.config.epochs, train_loss=train_loss, train_acc=train_acc,
                         test_loss=result.loss, test_acc=result.accuracy,
                         epoch_time=time.perf_counter() - t0 - (self._paused_seconds - paused0),
                         images_per_sec=speed, lr=lr, confusion=result.confusion,
                         kernels=self._first_kernels(), val_loss=scores["val_loss"], val_acc=scores["val_acc"],
                         best_epoch=self.selection.epoch, selected_on=self.selection.split)
        self._write_epoch_end(event, is_best)
        self._notify(event)
        if self.dist:
            self.dist.barrier()   # the others wait here, not in a step's short-timeout collective
        return event

    def _train_epoch(self, epoch: int) -> tuple[float, float, float]:
        model, loader = self.train_model, self.train_loader
        model.train()
        loader.set_epoch(epoch)
        torch.manual_seed(self.config.seed * 100_003 + epoch)  # dropout: a resumed run replays the same epoch
        total_loss = total_correct = seen = 0
        t0, paused0 = time.perf_counter(), self._paused_seconds
        for i, (x, y) in enumerate(loader, 1):
            self._check_flags()
            loss, correct = self._step(x, y, epoch, i)
            n = self.last_batch_size if self.dist else y.shape[0]
            exploded = self._loss_watch.observe(loss, epoch, i)
            if exploded:
                raise _Halt("failed", exploded)
            total_loss += loss * n
            total_correct += correct
            seen += n
            self.step += 1
            speed = seen / max(time.perf_counter() - t0 - (self._paused_seconds - paused0), 1e-9)
            self._emit(BatchEnd(epoch=epoch, batch=i, batches=len(loader), step=self.step, loss=loss,
                                accuracy=correct / n, lr=self._lr(), images_per_sec=speed))
        return total_loss / max(seen, 1), total_correct / max(seen, 1), speed if seen else 0.0

    def _step(self, x: torch.Tensor, y: torch.Tensor, epoch: int, batch: int) -> tuple[float, int]:
        """One optimiser step: the batch's mean loss and correct count (of the global batch in a distributed
        run, whose size is then last_batch_size)."""
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            logits = self.train_model(x)
            loss = self.criterion(logits, y)
        correct = (logits.argmax(dim=1) == y).sum()
        loss_value, correct_value, n = self._batch_totals(loss, correct, y.shape[0])
        self.last_batch_size = n
        if not math.isfinite(loss_value):
            raise _Halt("failed", f"The loss became {loss_value} at epoch {epoch}, batch {batch}: training "
                                  "diverged. Lower the learning rate (or turn on a schedule) and train again.")
        if self.dist:   # DDP averages over ranks: weighting by the share makes it the whole batch's mean
            loss = loss * (y.shape[0] * self.dist.world_size / n)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.config.schedule == "onecycle":
            self.scheduler.step()
        return loss_value, correct_value

    def _batch_totals(self, loss: torch.Tensor, correct: torch.Tensor, n: int) -> tuple[float, int, int]:
        """Mean loss, correct and count of the batch; over every rank's share in a distributed run."""
        if self._control is None:
            loss_value, correct_value = torch.stack([loss.detach().float(), correct.float()]).tolist()
            return loss_value, int(correct_value), n
        total, correct_sum, seen = self._control.exchange(self, [loss.detach().double() * n, correct,
                                                                 torch.tensor(float(n))])
        return total / seen, int(round(correct_sum)), int(round(seen))

    def _check_flags(self) -> None:
        if self._control is not None:   # ranks pause and stop together, on flags every rank has seen
            self._paused_seconds += self._control.hold(self)
            if self._control.stop_agreed:
                raise _Halt("stopped", self._stop_reason)
            return
        if not self._running.is_set():
            self.on_blocked(True)   # paused for real now, between two batches
            paused_at = time.perf_counter()
            while not self._running.is_set():
                self._running.wait(0.1)
            self._paused_seconds += time.perf_counter() - paused_at  # a pause is not training time
            self.on_blocked(False)
        if self._stop.is_set():
            raise _Halt("stopped", self._stop_reason)

    def _evaluate(self, split=None):
        from studio.core.engine.distributed_data import evaluate_sharded
        from studio.core.engine.evaluate import evaluate

        how = dict(batch_size=self.test_loader.batch_size, device=self.device, channels_last=self.channels_last,
                   num_classes=len(self.bundle.classes))
        if self.dist:
            return evaluate_sharded(self.dist, self.forward_model, split or self.bundle.test,
                                    input_shape=self.input_shape, mean=self.mean, std=self.std, **how)
        return evaluate(self.forward_model, split or self.bundle.test, self.input_shape, self.mean, self.std, **how)

    # ------------------------------------------------------------ recording

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _conv_kernels(self) -> dict[str, np.ndarray]:
        """Conv weights to keep with this epoch, first layers first, within a size budget."""
        from studio.core.inspect.kernels import conv_layer_names, get_kernels

        kept, total = {}, 0
        for name in conv_layer_names(self.model):
            weights = get_kernels(self.model, name)
            if kept and total + weights.size > KERNEL_SNAPSHOT_BUDGET:
                break
            kept[name] = weights
            total += weights.size
        return kept

    def _first_kernels(self) -> np.ndarray | None:
        from studio.core.inspect.kernels import conv_layer_names, get_kernels

        names = conv_layer_names(self.model)
        return get_kernels(self.model, names[0]) if names else None

    def _checkpoint_fields(self, epoch: int, metrics: dict | None = None) -> dict:
        return dict(model_name=self.config.model, model_options=self.config.model_options,
                    classes=self.bundle.classes, input_shape=self.input_shape,
                    mean=_match_channels(self.mean, self.input_shape[0]),
                    std=_match_channels(self.std, self.input_shape[0]), epoch=epoch, step=self.step,
                    optimizer=self.optimizer, scheduler=self.scheduler, config=self.config.to_dict(),
                    metrics=metrics or {})

    def _write_epoch_end(self, event: EpochEnd, is_best: bool) -> None:
        """The epoch's record, snapshot, checkpoints and status, in epoch_end.EPOCH_END_STEPS order."""
        if not self.run_dir or not self.record:
            return
        metrics = {"test_acc": event.test_acc, "test_loss": event.test_loss, "val_acc": event.val_acc,
                   "val_loss": event.val_loss, **self.selection.state()}
        checkpoint = self._checkpoint_fields(event.epoch, metrics)
        write_epoch_end(self.run_dir, self._writer, event_record(event), model=self.model, checkpoint=checkpoint,
                        is_best=is_best, confusion=event.confusion, kernels=self._conv_kernels,
                        weights=lambda: self._snapshots.save(self.model, **checkpoint),
                        best_test_acc=self.best_test_acc, hook=self.epoch_end_hook)

    def _notify(self, event) -> None:
        if self._tensorboard is not None:
            self._tensorboard(event)
        for callback in self.callbacks:
            callback(event)

    def _emit(self, event) -> None:
        if self._writer is not None:
            self._writer.write(event_record(event))
        self._notify(event)

    def _emit_safely(self, event) -> None:
        try:
            self._emit(event)
        except Exception:  # a failing listener must not hide the original error
            traceback.print_exc()

    def _finish_run(self, end: FitEnd) -> None:
        # Only a run this fit opened gets its status rewritten: a resume that fails before it
        # starts (damaged checkpoint, no GPU) must leave the run as it was, resumable later.
        if getattr(self, "_opened", False) and (self.run_dir / "config.json").exists():
            runs.write_status(self.run_dir, end.status, end.reason, epochs_done=end.epochs_done,
                              best_test_acc=self.best_test_acc)
        if getattr(self, "health", None) is not None:
            self.health.finish(end)   # the last diagnosis, before FitEnd: FitEnd stays the last event
        if self._control is not None:
            self._control.close(self)
        self._emit_safely(end)
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _one_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 300 characters: a status line, not a log."""
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""


def _match_channels(stats, channels: int) -> tuple[float, ...]:
    """Stats of the model's input: a gray dataset fed to a 3-channel model repeats its one value."""
    stats = tuple(float(s) for s in stats)
    if len(stats) == channels:
        return stats
    if len(stats) == 1:
        return stats * channels
    return (sum(stats) / len(stats),) * channels
