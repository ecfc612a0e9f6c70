"""Where a model to predict with can come from, and loading it.

Five kinds of source: the current run's model (held by the GUI, not loadable from here),
the demo models shipped in `models/` (a checkpoint plus a Markdown model card each), the
saved runs, any checkpoint file (the studio's own, or a notebook's state dict with its
architecture named), and the torchvision ImageNet models. An ImageNet model is usable
offline only when its weights are already in the cache; listing never downloads anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core import paths
from studio.core.errors import DownloadError, ModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_SIDE = 224


@dataclass(frozen=True)
class ModelSource:
    """One entry of the model picker."""

    kind: str                       # "current", "demo", "run", "checkpoint" or "imagenet"
    title: str                      # what the picker shows
    detail: str = ""                # a longer description (tooltip)
    path: Path | None = None        # the checkpoint file (demo, run, checkpoint)
    model_name: str | None = None   # the architecture (imagenet; a state dict's chosen one)
    available: bool = True
    note: str = ""                  # why it is not available, in words

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.path or self.model_name or ''}"


# ---------------------------------------------------------------- listing

def current_source(loaded=None) -> ModelSource:
    if loaded is None:
        return ModelSource("current", "Current run (no model yet)", available=False,
                           note="Train a model or open a run first.")
    epoch = f", epoch {loaded.epoch}" if getattr(loaded, "epoch", 0) else ""
    return ModelSource("current", f"Current run: {loaded.model_name}{epoch}", detail=str(loaded.source),
                       model_name=loaded.model_name)


DEMO_NAME = "demo"                                  # what `cnn-studio predict demo IMAGE` means
DEMO_CHECKPOINT = "lenet5-mnist-sample.pt"


def resolve_checkpoint(name: str | Path, models_dir: Path | None = None) -> Path:
    """A checkpoint argument as a path: "demo" is the bundled demo model (unless a file of that name exists),
    a run folder is its best checkpoint."""
    from studio.core.runs.store import best_checkpoint

    path = Path(name)
    if str(name) == DEMO_NAME and not path.exists():
        return (Path(models_dir) if models_dir else paths.DEMO_MODELS) / DEMO_CHECKPOINT
    if path.is_dir() and (path / "config.json").is_file():
        return best_checkpoint(path) or path / "checkpoints" / "best.pt"
    return path


def demo_sources(models_dir: Path | None = None) -> list[ModelSource]:
    """The demo checkpoints in models/, titled by their model card's first heading."""
    folder = Path(models_dir) if models_dir else paths.DEMO_MODELS
    found = []
    for path in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
        title, summary = read_model_card(path.with_suffix(".md"))
        found.append(ModelSource("demo", f"Demo: {title or path.stem}", detail=summary, path=path))
    return found


def run_sources(runs_dir: Path | None = None) -> list[ModelSource]:
    """Saved runs that have a checkpoint (best.pt, else last.pt), newest first."""
    from studio.core.runs import best_checkpoint, list_runs

    found = []
    for run in list_runs(paths.runs_dir(runs_dir)):
        checkpoint = best_checkpoint(run.path)
        if checkpoint is None:
            continue
        accuracy = f", test {run.best_test_acc:.1%}" if isinstance(run.best_test_acc, (int, float)) else ""
        found.append(ModelSource("run", f"Run: {run.name}{accuracy}", detail=f"{checkpoint}",
                                 path=checkpoint, model_name=run.config.get("model")))
    return found


def checkpoint_source(path: Path, model_name: str | None = None) -> ModelSource:
    path = Path(path)
    suffix = f" as {model_name}" if model_name else ""
    return ModelSource("checkpoint", f"File: {path.name}{suffix}", detail=str(path), path=path,
                       model_name=model_name)


def imagenet_sources(weights_dir: Path | None = None) -> list[ModelSource]:
    """Every torchvision model with ImageNet weights; available when the weights are cached."""
    from studio.core.models import list_models

    found = []
    for spec in list_models():
        if spec.family != "torchvision" or not spec.has_pretrained:
            continue
        cached = cached_weights(spec.name, weights_dir)
        where = weights_location(spec.name, weights_dir)
        note = "" if cached else (f"The ImageNet weights of {spec.name} are not cached ({where}); choosing it "
                                  "downloads them, which needs the internet.")
        found.append(ModelSource("imagenet", f"ImageNet: {spec.name}" + ("" if cached else " (not cached)"),
                                 detail=spec.title, model_name=spec.name, available=bool(cached), note=note))
    return found


def list_sources(*, models_dir=None, runs_dir=None, weights_dir=None) -> list[ModelSource]:
    """Demo models, runs, then ImageNet models (the current run and files are added by the caller)."""
    sources = demo_sources(models_dir)
    sources += run_sources(runs_dir)
    sources += imagenet_sources(weights_dir)
    return sources


def read_model_card(card: Path) -> tuple[str, str]:
    """(title, first paragraph) of a Markdown model card; empty strings when there is none."""
    try:
        lines = Path(card).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return "", ""
    title = next((l.lstrip("#").strip() for l in lines if l.startswith("# ")), "")
    body, started = [], False
    for line in lines:
        if line.startswith("#"):
            if started:
                break
            continue
        if line.strip():
            started = True
            body.append(line.strip())
        elif started:
            break
    return title, " ".join(body)


# ---------------------------------------------------------------- ImageNet weights cache

def cached_weights(model_name: str, weights_dir: Path | None = None) -> Path | None:
    """The cached ImageNet weight file of `model_name`, or None (never downloads)."""
    from studio.core.models.weights import cached_file
    from studio.core.models.zoo import weights_url

    try:
        return cached_file(weights_url(model_name), weights_dir)
    except (KeyError, AttributeError, ValueError):
        return None


def weights_location(model_name: str, weights_dir: Path | None = None) -> Path | None:
    """Where the weight file of `model_name` belongs: <weights_dir>/hub/checkpoints/<file>."""
    from studio.core.models import weights_file

    try:
        return Path(weights_file(model_name, weights_dir))
    except ModelError:
        return None


# ---------------------------------------------------------------- loading

def load_source(source: ModelSource, *, weights_dir: Path | None = None, progress=None):
    """A LoadedModel for a demo, run, checkpoint or ImageNet source (raises StudioError subclasses)."""
    from studio.core.runs import load_checkpoint

    if source.kind in ("demo", "run"):
        return load_checkpoint(source.path)
    if source.kind == "checkpoint":
        return load_checkpoint(source.path, model_name=source.model_name)
    if source.kind == "imagenet":
        return load_imagenet(source.model_name, weights_dir=weights_dir, progress=progress)
    raise ModelError(f"The source '{source.title}' cannot be loaded from disk.")


def load_imagenet(model_name: str, *, weights_dir: Path | None = None, progress=None):
    """A pretrained torchvision model with its 1000 classes (downloads the weights if missing)."""
    from studio.core.models import build_model, get_spec, imagenet_classes
    from studio.core.runs import LoadedModel

    spec = get_spec(model_name)
    side = spec.fixed_size[0] if spec.fixed_size else IMAGENET_SIDE
    shape = (3, side, side)
    try:
            model = build_model(model_name, shape, 1000, pretrained=True, weights_dir=weights_dir,
                            progress=progress if progress is not None else False)
    except DownloadError as exc:
        raise DownloadError(f"{model_name} needs its ImageNet weights, which are not cached and could not be "
                            f"downloaded (offline?). {exc}") from None
    model.eval()
    return LoadedModel(model=model, model_name=model_name, model_options={}, classes=imagenet_classes(),
                       input_shape=shape, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                       source=f"torchvision {model_name}, ImageNet weights")
