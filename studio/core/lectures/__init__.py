"""The five lectures as guided tours (see tours.py); Qt-free, shared by the CLI and the GUI."""

from __future__ import annotations

from studio.core.lectures.tours import (
    Check,
    CheckResult,
    Step,
    Tour,
    agrees,
    describe_action,
    run_check,
    run_step,
)


def all_tours() -> list[Tour]:
    """The five tours, lecture 0 (seed 000) to lecture 4 (seed 004)."""
    from studio.core.lectures import tour0, tour1, tour2, tour3, tour4

    return [tour0.TOUR, tour1.TOUR, tour2.TOUR, tour3.TOUR, tour4.TOUR]


def get_tour(number: int) -> Tour:
    from studio.core.errors import StudioError

    for tour in all_tours():
        if tour.number == number:
            return tour
    raise StudioError(f"There is no lecture {number}; the lectures are numbered 0 to 4 (notebook 000 to 004).")


__all__ = ["Check", "CheckResult", "Step", "Tour", "agrees", "all_tours", "describe_action", "get_tour",
           "run_check", "run_step"]
