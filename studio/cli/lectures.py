"""`cnn-studio lectures [N]`: the guided tours of the five lectures, with their numbers checked."""
from __future__ import annotations

import argparse
import textwrap

from studio.cli.common import HelpFormatter, _common, _emit_json

OK, BAD = "✓", "✗"


def add_lecture_commands(sub) -> None:
    p = sub.add_parser("lectures", help="the lectures as guided tours: list them, or print one with its checked numbers",
                       formatter_class=HelpFormatter,
                       epilog="example:\n  cnn-studio lectures\n  cnn-studio lectures 1 --json")
    _common(p, folders=False)
    p.add_argument("number", nargs="?", type=int,
                   help="the lecture to print, 0-4 like the notebooks 000-004 (default: list the tours)")
    p.set_defaults(func=cmd_lectures)


def cmd_lectures(args: argparse.Namespace) -> int:
    from studio.core.lectures import all_tours, get_tour

    if args.number is None:
        return _list(all_tours(), args.json)
    return _print_tour(get_tour(args.number), args.json)


def _list(tours, as_json: bool) -> int:
    from studio.core.lectures import progress

    stopped = progress.load()["steps"]
    if as_json:
        _emit_json([{"number": t.number, "title": t.title, "notebook": t.notebook, "steps": len(t.steps),
                     "checks": sum(len(s.checks) for s in t.steps), "last_step": stopped.get(str(t.number))}
                    for t in tours])
        return 0
    for t in tours:
        checks = sum(len(s.checks) for s in t.steps)
        where = f"  (you stopped at step {stopped[str(t.number)] + 1})" if str(t.number) in stopped else ""
        print(f"{t.number}  {t.title}  [{len(t.steps)} steps, {checks} numbers]{where}")
    print("`cnn-studio lectures N` prints a tour with its numbers; the Lectures panel opens each step.")
    return 0


def _print_tour(tour, as_json: bool) -> int:
    from studio.core.lectures import describe_action, run_step

    reports = [(i, step, run_step(step)) for i, step in enumerate(tour.steps)]
    failed = sum(1 for _, _, results in reports for r in results if not r.ok)
    if as_json:
        _emit_json({"number": tour.number, "title": tour.title, "notebook": tour.notebook, "failed": failed,
                    "steps": [{"number": f"{tour.number}.{i + 1}", "title": s.title, "explanation": s.explanation,
                               "source": s.source, "action": s.action,
                               "checks": [r.as_dict() for r in results]} for i, s, results in reports]})
        return 1 if failed else 0
    print(f"{tour.title}  (seed {tour.number:03d}, {tour.notebook})")
    for i, step, results in reports:
        print(f"\n{tour.number}.{i + 1}  {step.title}")
        print(f"     where: {step.source}")
        for line in textwrap.wrap(step.explanation, 96):
            print(f"     {line}")
        print(f"     open:  {describe_action(step.action)}")
        for r in results:
            print("     " + _check_line(r))
    total = sum(len(results) for _, _, results in reports)
    print(f"\n{total - failed} of {total} numbers agree with the lecture." if total else "")
    return 1 if failed else 0


def _check_line(r) -> str:
    from studio.core.lectures.tours import show

    mark = OK if r.ok else BAD
    studio = r.error if r.error else show(r.studio_value)
    return f"{mark} {r.label}: lecture {show(r.lecture_value)} · studio {studio}"
