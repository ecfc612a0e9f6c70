"""Training health, measured while training: what the diagnosis rules and the Health view read.

Every `every` optimiser steps the monitor records each layer's gradient norm and the size of the
step it took relative to its weights (the update/weight ratio; about 1e-3 is the usual healthy
value, far above means too high a learning rate, far below too low). After each epoch it runs one
held-out batch through the model and counts, per ReLU, the units that output zero for every image
of it (dead units), and records the train/val/test gaps, the training class counts and the test
accuracy per class. Then it runs the diagnosis rules over everything seen so far and sends the
findings as a `Diagnosis` event.

It hangs off the trainer through torch's own hooks (optimizer step pre/post hooks, forward hooks
during the probe) and the trainer's callback list, so the loop itself is untouched; the records go
through the trainer's `_emit`, into metrics.jsonl and to every listener. bench/health_cost.py
measures what it costs (`enabled` switches the step hooks off and on).
"""

from __future__ import annotations

import math
import traceback
from collections import defaultdict

import numpy as np
import torch
from torch import nn

from studio.core.engine.events import (
    BatchEnd,
    Diagnosis,
    EpochEnd,
    FitEnd,
    FitStart,
    HealthEpoch,
    HealthStep,
    event_record,
)

HEALTH_EVERY = 10        # optimiser steps between two HealthStep records, at least (bench/health_cost.py)
PER_EPOCH = 20           # and at most about this many per epoch: a long run's metrics.jsonl stays small
PROBE_IMAGES = 256       # held-out images run through the model per epoch to count dead units


def attach_health(trainer) -> HealthMonitor:
    """A monitor for a prepared trainer (model and optimiser built), listening to its events."""
    monitor = HealthMonitor(trainer)
    trainer.callbacks.append(monitor)
    return monitor


class HealthMonitor:
    def __init__(self, trainer, every: int = HEALTH_EVERY):
        from studio.core.diagnosis.records import RunRecords

        self.trainer = trainer
        self.every = max(1, int(every))
        self.records = RunRecords()
        self.findings: list[dict] = []
        self._groups = _layer_groups(trainer.model)
        self._handles: list = []
        self._before: list[torch.Tensor] | None = None   # the weights before a recorded step
        self._pending = False
        self._finished = False
        self._grad_norms: list[float] = []
        self._steps = 0
        self._epoch = trainer.start_epoch + 1
        self._x = float(trainer.start_epoch)
        self._batches = 1
        self._class_counts: list[int] | None = None
        self.enabled = True

    # ------------------------------------------------------------ on and off

    @property
    def enabled(self) -> bool:
        return bool(self._handles)

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if value and not self._handles:
            opt = self.trainer.optimizer
            self._handles = [opt.register_step_pre_hook(self._pre_step), opt.register_step_post_hook(self._post_step)]
        elif not value:
            for handle in self._handles:
                handle.remove()
            self._handles, self._before, self._pending = [], None, False

    # ------------------------------------------------------------ the trainer's events

    def __call__(self, event) -> None:
        if isinstance(event, (HealthStep, HealthEpoch, Diagnosis)):
            return   # our own records coming back through the trainer's listeners
        if isinstance(event, FitStart):
            self._fit_start(event)
            return
        if isinstance(event, BatchEnd):
            self._epoch, self._batches = event.epoch, max(event.batches, 1)
            self._x = event.epoch - 1 + event.batch / self._batches
            self.records.add_batch(event.epoch, event.step, self._x, event.loss, event.accuracy)
            return
        self.records.add(event_record(event))
        if isinstance(event, EpochEnd):
            self._epoch = event.epoch + 1
            self._safely(lambda: self._emit(self._epoch_health(event)))
            self._safely(lambda: self._diagnose(event.epoch))
        elif isinstance(event, FitEnd) and not self._finished:   # a trainer that did not call finish()
            self.findings = self._findings()
            self.enabled = False

    def finish(self, end: FitEnd) -> None:
        """The run ends: the diagnosis of the whole run, sent before the FitEnd event (the last one)."""
        self._finished = True
        self.enabled = False
        self.records.add(event_record(end))
        self._safely(lambda: self._diagnose(end.epochs_done))

    def _safely(self, work) -> None:
        """Health is a bystander: a model or optimiser it cannot measure never stops the training."""
        try:
            work()
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            self.enabled = False

    def _fit_start(self, event: FitStart) -> None:
        trainer = self.trainer
        if trainer.resume and trainer.run_dir is not None:   # the diagnosis reads the epochs done before too
            from studio.core.runs import read_metrics

            self.records.extend(read_metrics(trainer.run_dir))
        else:
            self.records.add(event_record(event))
        self._epoch, self._x = event.start_epoch + 1, float(event.start_epoch)
        self.every = max(self.every, event.batches_per_epoch // PER_EPOCH)

    def _emit(self, event) -> None:
        self.records.add(event_record(event))
        self.trainer._emit(event)

    def _findings(self) -> list[dict]:
        from studio.core.diagnosis import diagnose

        return [finding.to_dict() for finding in diagnose(self.records)]

    def _diagnose(self, epoch: int) -> None:
        self.findings = self._findings()
        self.trainer._emit(Diagnosis(epoch=epoch, findings=self.findings))

    # ------------------------------------------------------------ every few steps

    def _pre_step(self, optimizer, args, kwargs) -> None:
        self._steps += 1
        if self._steps % self.every == 0:
            self._safely(self._measure_before)

    def _measure_before(self) -> None:
        params = self._params()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        with torch.no_grad():
            self._grad_norms = _group_norms(self._groups, torch._foreach_norm(grads))
            if self._before is None:   # allocated once: a fresh copy each time costs more than the norms
                self._before = [torch.empty_like(p) for p in params]
            torch._foreach_copy_(self._before, [p.detach() for p in params])
        self._pending = True

    def _post_step(self, optimizer, args, kwargs) -> None:
        if self._pending:
            self._pending = False
            self._safely(self._measure_after)

    def _measure_after(self) -> None:
        params, before = self._params(), self._before
        with torch.no_grad():
            sizes = torch._foreach_norm(before)
            torch._foreach_sub_(before, [p.detach() for p in params])   # now before - after: the step
            moved = torch._foreach_norm(before)
        steps, weights = _group_norms(self._groups, moved), _group_norms(self._groups, sizes)
        ratios = [s / w if w > 0 else (0.0 if s == 0 else math.inf) for s, w in zip(steps, weights)]
        x = self._x + 1 / self._batches   # the step in progress: its BatchEnd comes after
        self._emit(HealthStep(epoch=self._epoch, step=self.trainer.step + 1, x=round(x, 6),
                              layers=[name for name, _ in self._groups],
                              grad_norm=[_finite(v) for v in self._grad_norms], update_ratio=[_finite(v) for v in ratios]))

    def _params(self) -> list[torch.Tensor]:
        return [p for _, group in self._groups for p in group]

    # ------------------------------------------------------------ every epoch

    def _epoch_health(self, event: EpochEnd) -> HealthEpoch:
        layers, dead = self._dead_units()
        gaps = {"train_val_acc": _gap(event.train_acc, event.val_acc), "train_test_acc": _gap(event.train_acc, event.test_acc),
                "val_train_loss": _gap(event.val_loss, event.train_loss),
                "test_train_loss": _gap(event.test_loss, event.train_loss)}
        if self._class_counts is None:   # the training split does not change during a run
            bundle = self.trainer.bundle
            self._class_counts = [int(c) for c in np.bincount(bundle.train.labels.numpy(), minlength=len(bundle.classes))]
        recall = []
        if event.confusion is not None:
            cm = np.asarray(event.confusion, dtype=np.float64)
            totals = cm.sum(axis=1)
            recall = [float(cm[i, i] / totals[i]) if totals[i] else None for i in range(len(cm))]
        return HealthEpoch(epoch=event.epoch, relu_layers=layers, dead_fraction=dead, gaps=gaps,
                           class_counts=self._class_counts, class_recall=recall)

    def _dead_units(self) -> tuple[list[str], list[float]]:
        """Per ReLU call, the share of units (channels, or features) at zero for every image of one held-out batch."""
        trainer = self.trainer
        split = trainer.bundle.val if trainer.bundle.val is not None else trainer.bundle.test
        if split is None or len(split) == 0:
            return [], []
        from studio.core.data.batches import BatchLoader

        loader = BatchLoader(split, PROBE_IMAGES, shuffle=False, input_shape=trainer.input_shape, mean=trainer.mean,
                             std=trainer.std, device=trainer.device, channels_last=trainer.channels_last)
        x, _ = next(iter(loader))
        found: dict[str, list[float]] = defaultdict(list)
        calls: dict[str, int] = defaultdict(int)
        order: list[str] = []

        def hook(name):
            def record(module, inputs, output):
                calls[name] += 1
                key = name if calls[name] == 1 else f"{name}#{calls[name]}"   # one module used twice (AlexNet)
                order.append(key)
                found[key].append(_dead_share(output))
            return record

        model = trainer.model
        handles = [m.register_forward_hook(hook(name)) for name, m in model.named_modules() if type(m) is nn.ReLU]
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                model(x)
        finally:
            model.train(was_training)
            for handle in handles:
                handle.remove()
        return order, [round(found[key][0], 6) for key in order]


def _layer_groups(model: nn.Module) -> list[tuple[str, list[torch.Tensor]]]:
    """Trainable parameters grouped by the module that owns them ("features.0": weight and bias)."""
    groups: dict[str, list[torch.Tensor]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault(name.rpartition(".")[0] or name, []).append(param)
    return list(groups.items())


def _group_norms(groups, norms) -> list[float]:
    """Per-parameter norms -> one norm per layer, with a single device-to-host copy."""
    values = torch.stack([n.float() for n in norms]).square().cpu().tolist() if norms else []
    out, i = [], 0
    for _, group in groups:
        out.append(math.sqrt(sum(values[i:i + len(group)])))
        i += len(group)
    return out


def _dead_share(output: torch.Tensor) -> float:
    if output.dim() < 2 or output.numel() == 0:
        return 0.0
    units = output.transpose(0, 1).reshape(output.shape[1], -1)   # (channels or features, everything else)
    return float((units.amax(dim=1) <= 0).float().mean())


def _gap(a, b) -> float | None:
    return None if a is None or b is None else round(float(a) - float(b), 6)


def _finite(value: float) -> float | None:
    return float(f"{value:.4g}") if math.isfinite(value) else None
