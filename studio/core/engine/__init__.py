"""The training engine: Trainer, its events, and device choice."""

from studio.core.engine.events import BatchEnd, EpochEnd, FitEnd, FitError, FitStart, epoch_log_line
from studio.core.engine.trainer import Trainer

__all__ = ["Trainer", "FitStart", "BatchEnd", "EpochEnd", "FitEnd", "FitError", "epoch_log_line"]
