"""The diagnosis rules on synthetic record lists: each fires on its fault and stays quiet on a healthy run."""

import json
import math

import pytest

from studio.core.diagnosis import RunRecords, describe_action, diagnose
from studio.core.diagnosis.stats import accuracy_margin, difference_margin

BATCHES = 50


def run_records(train_loss, train_acc, val_loss, val_acc, *, lr=2e-3, optimizer="adam", batch_losses=None,
                health=None, health_epochs=None, fit_end=None, val_size=500, test_size=1000, config=None,
                classes=10):
    """A run's metrics.jsonl lines: fit_start, batches, epochs (test = val), health records, fit_end."""
    cfg = {"lr": lr, "optimizer": optimizer, "model": "lenet5", "epochs": len(train_loss), **(config or {})}
    records = [{"event": "fit_start", "config": cfg, "epochs": len(train_loss), "start_epoch": 0, "val_size": val_size,
                "test_size": test_size, "classes": [f"c{i}" for i in range(classes)]}]
    for e, (tl, ta, vl, va) in enumerate(zip(train_loss, train_acc, val_loss, val_acc), 1):
        start = train_loss[e - 2] if e > 1 else 2.3
        for b in range(1, BATCHES + 1):
            loss = batch_losses(e, b) if batch_losses else start + (tl - start) * b / BATCHES
            records.append({"event": "batch", "epoch": e, "batch": b, "batches": BATCHES,
                            "step": (e - 1) * BATCHES + b, "loss": loss, "accuracy": ta})
            if health and b % 10 == 0:
                records.append(dict(health(e, b), event="health", epoch=e, step=(e - 1) * BATCHES + b,
                                    x=e - 1 + b / BATCHES))
        records.append({"event": "epoch", "epoch": e, "train_loss": tl, "train_acc": ta, "val_loss": vl,
                        "val_acc": va, "test_loss": vl, "test_acc": va})
        if health_epochs:
            records.append(dict(health_epochs(e), event="health_epoch", epoch=e))
    records.append(fit_end or {"event": "fit_end", "status": "done", "reason": "finished", "epochs_done": len(train_loss)})
    return records


def flat_run(run_dir):
    """A run whose loss stays flat with tiny steps: diagnosed as a too-low learning rate."""
    records = run_records([2.30, 2.30, 2.29], [0.1, 0.1, 0.11], [2.3, 2.3, 2.29], [0.1, 0.1, 0.1], lr=1e-6,
                          health=lambda e, b: {"layers": ["conv", "fc"], "grad_norm": [0.1, 0.2],
                                               "update_ratio": [5e-6, 6e-6]},
                          health_epochs=lambda e: {"relu_layers": ["relu1"], "dead_fraction": [0.1], "gaps": {},
                                                   "class_counts": [10] * 10, "class_recall": [0.1] * 10})
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run_dir


def codes(records, alarms_only=True):
    return {f.code for f in diagnose(RunRecords.from_records(records)) if f.is_alarm or not alarms_only}


HEALTHY = {"train_loss": [0.6, 0.2, 0.12, 0.09, 0.07], "train_acc": [0.82, 0.94, 0.96, 0.97, 0.98],
               "val_loss": [0.25, 0.16, 0.13, 0.12, 0.12], "val_acc": [0.92, 0.95, 0.96, 0.965, 0.966]}


def healthy_health(e, b):
    return {"layers": ["conv1", "conv2", "fc"], "grad_norm": [0.3, 0.4, 0.5], "update_ratio": [2e-3, 1e-3, 1e-3]}


def healthy_epoch(e):
    return {"relu_layers": ["relu1", "relu2"], "dead_fraction": [0.0, 0.2], "gaps": {},
            "class_counts": [400] * 10, "class_recall": [0.96] * 10}


def test_a_healthy_run_has_no_alarm():
    records = run_records(**HEALTHY, health=healthy_health, health_epochs=healthy_epoch)
    findings = diagnose(RunRecords.from_records(records))
    assert [f.code for f in findings] == ["test_precision"]      # only the information on the test set
    assert "±" in findings[0].text


def test_an_exploded_run_is_diverging_with_a_lower_lr():
    end = {"event": "fit_end", "status": "failed", "reason": "The loss exploded: 3e11 ... training diverged.",
           "epochs_done": 0}
    records = run_records([], [], [], [], lr=10.0, fit_end=end)
    records[1:1] = [{"event": "batch", "epoch": 1, "batch": b, "batches": 50, "step": b, "loss": 2.3 * 10 ** b,
                     "accuracy": 0.1} for b in range(1, 5)]
    findings = diagnose(RunRecords.from_records(records))
    assert findings[0].code == "diverging"
    assert findings[0].action == {"lr": 1e-3}
    assert findings[0].evidence["start_loss"] == pytest.approx(23.0)


def test_a_growing_loss_is_diverging_even_before_the_guard_stops_it():
    records = run_records([2.3, 9.0], [0.1, 0.1], [2.3, 9.0], [0.1, 0.1], batch_losses=lambda e, b: 2.3 + 0.1 * b * e)
    assert "diverging" in codes(records)


def test_a_flat_loss_with_tiny_steps_is_an_lr_too_low():
    records = run_records([2.30, 2.30, 2.29], [0.1, 0.1, 0.11], [2.3, 2.3, 2.29], [0.1, 0.1, 0.1], lr=1e-6,
                          health=lambda e, b: {"layers": ["a", "b"], "grad_norm": [0.1, 0.1],
                                               "update_ratio": [5e-6, 6e-6]})
    findings = diagnose(RunRecords.from_records(records))
    assert findings[0].code == "lr_too_low"
    assert findings[0].action["lr"] == pytest.approx(1e-3)
    assert "underfitting" not in codes(records)     # the cause is named, not its symptom


def test_a_flat_jumpy_loss_with_big_steps_is_an_lr_too_high():
    records = run_records([2.3, 2.31, 2.29], [0.1, 0.1, 0.1], [2.3, 2.3, 2.3], [0.1, 0.1, 0.1], lr=0.5,
                          batch_losses=lambda e, b: 2.3 + (1.5 if b % 2 else -1.5),
                          health=lambda e, b: {"layers": ["a"], "grad_norm": [3.0], "update_ratio": [0.2]})
    findings = diagnose(RunRecords.from_records(records))
    assert findings[0].code == "lr_too_high"
    assert findings[0].action["lr"] == pytest.approx(1e-3)


def test_val_loss_rising_while_train_falls_beyond_the_noise_is_overfitting():
    records = run_records([1.5, 0.8, 0.4, 0.1, 0.02, 0.01], [0.45, 0.7, 0.85, 0.97, 1.0, 1.0],
                          [1.6, 1.3, 1.35, 1.6, 2.0, 2.3], [0.42, 0.52, 0.53, 0.52, 0.51, 0.5], val_size=200)
    findings = [f for f in diagnose(RunRecords.from_records(records)) if f.code == "overfitting"]
    assert findings and findings[0].evidence["best_epoch"] == 2
    assert findings[0].highlight == {"plot": "loss", "x": [2.0, 6.0]}
    assert findings[0].action == {"weight_decay": 5e-4, "early_stop_patience": 3}
    assert findings[0].evidence["accuracy_gap"] > findings[0].evidence["margin"]


def test_a_gap_within_the_held_out_sets_uncertainty_is_not_overfitting():
    # 8 validation images: a 12-point gap is one image, well inside the binomial interval
    records = run_records([1.0, 0.5, 0.3, 0.2, 0.1], [0.7, 0.8, 0.85, 0.87, 0.875], [1.0, 0.9, 1.0, 1.1, 1.2],
                          [0.75, 0.75, 0.75, 0.75, 0.75], val_size=8)
    assert "overfitting" not in codes(records)


def test_low_flat_training_accuracy_is_underfitting_with_a_bigger_model():
    records = run_records([2.1, 1.9, 1.85, 1.83, 1.82], [0.25, 0.33, 0.35, 0.36, 0.365],
                          [2.0, 1.9, 1.87, 1.86, 1.86], [0.3, 0.33, 0.34, 0.34, 0.34],
                          config={"model": "configurable-cnn", "model_options": {"conv_channels": [2]}})
    findings = [f for f in diagnose(RunRecords.from_records(records)) if f.code == "underfitting"]
    assert findings
    assert findings[0].action == {"epochs": 10, "model_options": {"conv_channels": [16]}}


def test_dead_relu_layers_are_named():
    records = run_records(**HEALTHY, health_epochs=lambda e: {"relu_layers": ["features.1", "classifier.1"],
                                                              "dead_fraction": [0.1, 0.9]})
    finding = next(f for f in diagnose(RunRecords.from_records(records)) if f.code == "dead_relu")
    assert finding.evidence["layers"] == {"classifier.1": 0.9}
    assert finding.highlight["plot"] == "dead" and finding.highlight["layers"] == ["classifier.1"]


def test_vanishing_and_exploding_gradients_come_from_the_per_layer_norms():
    vanishing = run_records(**HEALTHY, health=lambda e, b: {"layers": ["first", "last"], "grad_norm": [1e-9, 0.5],
                                                            "update_ratio": [1e-9, 1e-3]})
    assert "vanishing_gradients" in codes(vanishing)
    exploding = run_records(**HEALTHY, health=lambda e, b: {"layers": ["a", "b"], "grad_norm": [0.5, 10.0 ** (e + 1)],
                                                            "update_ratio": [1e-3, 1e-3]})
    assert "exploding_gradients" in codes(exploding)


def test_imbalanced_counts_and_a_failing_class_are_reported():
    records = run_records(**HEALTHY, health_epochs=lambda e: {
        "relu_layers": [], "dead_fraction": [], "class_counts": [900] + [100] * 9,
        "class_recall": [0.99] * 9 + [0.1]})
    found = {f.code: f for f in diagnose(RunRecords.from_records(records))}
    assert found["class_imbalance"].evidence["ratio"] == 9.0
    assert found["class_failure"].evidence["recall"] == {"c9": 0.1}


def test_a_small_test_set_says_its_uncertainty():
    records = run_records(**HEALTHY, test_size=100)
    finding = next(f for f in diagnose(RunRecords.from_records(records)) if f.code == "test_too_small")
    assert finding.severity == "warning"
    assert finding.evidence["margin"] == pytest.approx(accuracy_margin(0.966, 100))
    assert f"{100 * difference_margin(0.966, 100):.1f} points" in finding.text


def test_a_resume_drops_the_records_of_the_epoch_it_redoes():
    records = run_records(**HEALTHY)
    records.append({"event": "fit_start", "config": records[0]["config"], "start_epoch": 3, "epochs": 5,
                    "test_size": 1000, "val_size": 500})
    run = RunRecords.from_records(records)
    assert [r["epoch"] for r in run.epochs] == [1, 2, 3]
    assert run.batches()["epoch"].max() == 3


def test_damaged_records_give_no_finding_rather_than_a_crash():
    records = run_records(**HEALTHY) + [{"event": "health_epoch", "relu_layers": "x", "dead_fraction": None},
                                        {"event": "health", "layers": ["a"], "grad_norm": ["?"]}, "not a dict"]
    damaged = diagnose(RunRecords.from_records(records))
    clean = diagnose(RunRecords.from_records(run_records(**HEALTHY)))
    # the damaged lines are skipped: the same findings as the run without them, no crash, no false alarm
    assert [f.code for f in damaged] == [f.code for f in clean]
    assert not [f for f in damaged if f.severity == "problem"]


def test_margins_and_action_words():
    assert accuracy_margin(0.5, 100) == pytest.approx(0.0962, abs=1e-3)
    assert math.isnan(accuracy_margin(0.5, 0))
    assert describe_action({"lr": 0.001, "epochs": 10}) == "lr = 0.001, epochs = 10"


def test_an_action_becomes_the_next_runs_settings():
    from studio.core.config.train_config import TrainConfig
    from studio.core.diagnosis.findings import apply_action
    from studio.core.errors import StudioError

    config = TrainConfig(lr=10.0)
    changed = apply_action(config, {"lr": 1e-3, "augment.hflip": True, "model_options": {"conv_channels": [16]}})
    assert (changed.lr, changed.augment.hflip, changed.model_options) == (1e-3, True, {"conv_channels": [16]})
    assert config.lr == 10.0                                  # the shown settings change only when applied
    with pytest.raises(StudioError):
        apply_action(config, {"no_such_setting": 1})
    with pytest.raises(StudioError):
        apply_action(config, {"lr": -1.0})


def test_step_records_are_thinned_past_the_limit_keeping_the_start_and_the_latest():
    from studio.core.diagnosis.records import thin

    records = list(range(11))
    thin(records, limit=10)
    assert records == [0, 2, 4, 5, 6, 7, 8, 9, 10]
