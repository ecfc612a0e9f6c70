"""`diagnose RUN`: what went wrong in a run and what to try, in plain words (core/diagnosis)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.common import HelpFormatter, _emit_json
from studio.core.errors import StudioError

MARKS = {"problem": "!!", "warning": "! ", "info": "  "}


def add_diagnose_parser(sub, common) -> None:
    p = sub.add_parser("diagnose", help="say what went wrong in a run and what to try", formatter_class=HelpFormatter,
                       description="Read a run folder's records and report, in plain words, the problems found "
                                   "(diverging loss, learning rate, over/underfitting, dead ReLUs, gradients, "
                                   "classes, test-set size), with the numbers and a suggested change of settings.",
                       epilog="example:\n  cnn-studio diagnose RUN_FOLDER --json")
    common(p, folders=False)
    p.add_argument("run", help="the run folder")
    p.set_defaults(func=cmd_diagnose)


def cmd_diagnose(args: argparse.Namespace) -> int:
    from studio.core.diagnosis import diagnose_run

    run = Path(args.run)
    if not (run / "metrics.jsonl").is_file():
        raise StudioError(f"{run} is not a run folder (no metrics.jsonl).")
    findings = [f.to_dict() for f in diagnose_run(run)]
    if args.json:
        _emit_json({"run_dir": str(run), "diagnosis": findings})
    else:
        print_findings(findings, always=True)
    return 0


def print_findings(findings: list[dict], always: bool = False, stream=None) -> None:
    """The findings as short paragraphs; infos only when asked (`always`): a healthy run stays quiet."""
    stream = stream or sys.stdout
    shown = [f for f in findings if always or f.get("severity") != "info"]
    if always and not shown:
        print("No problems found.", file=stream)
    for finding in shown:
        print(f"{MARKS.get(finding.get('severity'), '  ')} {finding.get('title')}: {finding.get('text')}", file=stream)
        if finding.get("action_text"):
            print(f"   Try: {finding['action_text']}", file=stream)
