"""A run's model at one epoch, evaluated on the run's own data: what the comparison view and the hardest
examples need when they start from a run folder rather than the window's model.

The data is the run's: its dataset, image size and data fixes (config.json), the validation split
carved as the run carved it. A folder dataset's images carry keys (paths relative to the dataset
folder) so that two runs are compared image by image even when fixes dropped some. Loaded datasets
are cached per call site (`cache`), so two epochs of one run read the images once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.core.engine.evaluate import EvalResult, evaluate
from studio.core.errors import RunError

Progress = Callable[[int, int], None] | None


@dataclass
class EpochEval:
    run_dir: Path
    epoch: int
    loaded: object             # LoadedModel
    result: EvalResult
    split: object              # the evaluated Split (images, labels, files)
    split_name: str            # "test" or "validation"
    keys: list[str] | None     # a folder dataset's image keys, None otherwise

    @property
    def title(self) -> str:
        return f"{self.run_dir.name}, epoch {self.epoch}"


def run_config(run_dir: Path) -> dict:
    from studio.core.runs import read_run

    return read_run(Path(run_dir)).config


def load_run_model(run_dir: Path, epoch: int | None):
    """The model after `epoch` (its snapshot), or the run's best (else last) checkpoint for None."""
    from studio.core.runs import best_checkpoint, load_checkpoint
    from studio.core.runs.snapshots import load_epoch_model

    if epoch is not None:
        return load_epoch_model(Path(run_dir), int(epoch))
    path = best_checkpoint(Path(run_dir))
    if path is None:
        raise RunError(f"{Path(run_dir).name} has no checkpoint yet.")
    return load_checkpoint(path)


def run_bundle(config: dict, data_dir=None, cache: dict | None = None, progress: Progress = None):
    """The run's dataset, as it trained on it (image size, data fixes)."""
    from studio.core.data import load_run_dataset

    key = tuple(config.get(k) if isinstance(config.get(k), (str, int)) else None
                for k in ("dataset", "image_size", "data_fixes")) + (str(data_dir),)
    if cache is not None and key in cache:
        return cache[key]
    bundle = load_run_dataset(config, data_dir=data_dir, download=False, progress=progress)
    if cache is not None:
        cache[key] = bundle
    return bundle


def image_keys(bundle, split) -> list[str] | None:
    """A folder dataset's keys of the split's images (core/data/fixes.image_key), None otherwise."""
    from studio.core.data.fixes import image_key
    from studio.core.data.folder import PREFIX

    if split.files is None or not bundle.name.startswith(PREFIX):
        return None
    root = Path(bundle.name[len(PREFIX):]).expanduser()
    return [image_key(root, Path(f)) for f in split.files]


def evaluate_epoch(run_dir: Path, epoch: int | None, *, which: str = "test", data_dir=None,
                   cache: dict | None = None, progress: Progress = None,
                   should_stop: Callable[[], bool] | None = None, device: str = "cpu") -> EpochEval:
    """Evaluate the run's model after `epoch` (None: its best) on the run's test or ("val") validation split."""
    from studio.core.data.split import run_split

    run_dir = Path(run_dir)
    config = run_config(run_dir)
    loaded = load_run_model(run_dir, epoch)
    bundle = run_bundle(config, data_dir, cache)
    split = run_split(bundle, which, config)
    name = "validation" if which == "val" else "test"
    if split is None:
        split, name = bundle.test, "test"
    if list(bundle.classes) != list(loaded.classes):
        raise RunError(f"{run_dir.name}'s model tells apart other classes than {bundle.name} has.")
    result = evaluate(loaded.model, split, tuple(loaded.input_shape), loaded.mean, loaded.std, device=device,
                      progress=progress, should_stop=should_stop, num_classes=len(loaded.classes))
    return EpochEval(run_dir=run_dir, epoch=int(loaded.epoch), loaded=loaded, result=result, split=split,
                     split_name=name, keys=image_keys(bundle, split))
