"""The demo model for the inspection tabs, until the student has a model of their own.

On first launch Kernels, Activations and Evaluation show the demo LeNet (models/*.pt, the one
the Predict tab answers with) instead of "No model yet", and say so. It is loaded once, in
the background, and shared read-only by the tabs; the state's model replaces it as soon as
there is one.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_loaded: dict = {}   # "model": the LoadedModel once loaded


def demo_source():
    """The first demo model's source (studio.core.runs.sources.ModelSource), or None."""
    from studio.core.runs.sources import demo_sources

    found = demo_sources()
    return found[0] if found else None


def cached_demo():
    return _loaded.get("model")


def load_demo():
    """The demo LoadedModel (loaded on the first call; thread-safe); None when none is bundled."""
    with _lock:
        if "model" not in _loaded:
            source = demo_source()
            if source is None:
                return None
            from studio.core.runs.sources import load_source

            loaded = load_source(source)
            loaded.model.eval()
            loaded.source = source.title.removeprefix("Demo: ")
            _loaded["model"] = loaded
        return _loaded["model"]


def demo_title(loaded) -> str:
    return f"the demo model ({loaded.source})" if getattr(loaded, "source", "") else "the demo model"


class DemoFallback:
    """Mixed into an InspectTab: the state's model, else the demo model (loaded in the background)."""

    def model_or_demo(self):
        """(loaded, is_demo): the model to show, or (None, False) while there is none yet."""
        if self.state.model is not None:
            return self.state.model, False
        demo = cached_demo()
        return (demo, True) if demo is not None else (None, False)

    def start_demo_load(self) -> bool:
        """Load the demo model in the background and refresh when it is there; False if there is none."""
        if cached_demo() is not None or demo_source() is None:
            return False
        self.show_empty("Loading the demo model…")
        self.start("Loading the demo model…", lambda progress, should_stop: load_demo(),
                   lambda _loaded: self.mark_stale())
        return True


def model_caption(loaded, is_demo: bool, run_dir=None) -> str:
    """One line naming the model a tab shows: the demo, the opened run's, or the current one."""
    if is_demo:
        return (f"Model: {demo_title(loaded)}. Train a model or open a run to see your own.")
    epoch = f", epoch {loaded.epoch}" if getattr(loaded, "epoch", 0) else ""
    run = f" of run {run_dir.name}" if run_dir is not None else ""
    return f"Model: {loaded.model_name}{run}{epoch}."
