"""Diagnosis in plain words: rules over a run's records (live or from its folder) that say what went
wrong, show the numbers, and suggest a change of settings for the next run. Qt-free.

    findings = diagnose(RunRecords.from_run(run_dir))    # or diagnose_run(run_dir)
"""

from __future__ import annotations

from pathlib import Path

from studio.core.diagnosis.findings import SEVERITIES, Finding, describe_action
from studio.core.diagnosis.records import RunRecords
from studio.core.diagnosis.rules_data import class_imbalance, failing_classes
from studio.core.diagnosis.rules_fit import overfitting, test_precision, underfitting
from studio.core.diagnosis.rules_health import dead_relus, gradients
from studio.core.diagnosis.rules_loss import diverging, learning_stalled

# Checked in this order; a diverged run is not also called over- or underfitting.
RULES = (diverging, dead_relus, learning_stalled, gradients, overfitting, underfitting, class_imbalance,
         failing_classes, test_precision)
EXCLUSIVE = {"diverging": {"lr_too_high", "lr_too_low", "overfitting", "underfitting", "class_failure"},
             "lr_too_low": {"underfitting", "class_failure"}, "lr_too_high": {"underfitting", "class_failure"},
             "underfitting": {"class_failure"}, "dead_relu": {"lr_too_low", "lr_too_high", "underfitting", "class_failure"}}

__all__ = ["SEVERITIES", "Finding", "RunRecords", "describe_action", "diagnose", "diagnose_run"]


def diagnose(run: RunRecords) -> list[Finding]:
    """The findings for the records so far, problems first."""
    findings: list[Finding] = []
    ruled_out: set[str] = set()
    for rule in RULES:
        try:
            finding = rule(run)
        except (ValueError, TypeError, IndexError, ZeroDivisionError, KeyError):
            continue   # odd numbers in a hand-edited or damaged record: no finding rather than a crash
        if finding is not None and finding.code not in ruled_out:
            findings.append(finding)
            ruled_out |= EXCLUSIVE.get(finding.code, set())
    findings = [f for f in findings if f.code not in ruled_out]
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def diagnose_run(run_dir: str | Path) -> list[Finding]:
    return diagnose(RunRecords.from_run(run_dir))
