"""A fixed set of labelled test images for a model, prepared as it reads them (for lesion experiments).

The dataset already loaded (the window's) when it is the model's; else the dataset the model's
run was trained on, when it can be read without a download. At most `limit` images (fewer when
their prepared floats would pass MAX_BYTES), always the same ones (a seeded choice spread over
the whole split), so two experiments compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from studio.core.errors import StudioError

LIMIT = 1000
MAX_BYTES = 128 * 2**20   # the prepared floats stay in memory between experiments: 224-px colour images get ~220


@dataclass
class LabelledImages:
    images: torch.Tensor        # float (N, C, H, W), normalised for the model
    labels: torch.Tensor        # int64 (N,)
    classes: list[str]
    description: str            # "500 test images of mnist-sample"


def labelled_subset(loaded, bundle=None, *, limit: int = LIMIT, data_dir=None) -> LabelledImages:
    """The test split of `bundle` (if it is the model's) or of the model's own dataset, prepared."""
    from studio.core.pixels import prepare_batch

    if bundle is None or list(bundle.classes) != list(loaded.classes):
        bundle = _models_dataset(loaded, data_dir)
    split = bundle.test
    if len(split) == 0:
        raise StudioError(f"The test split of {bundle.name} is empty: there is nothing to measure accuracy on.")
    index = torch.arange(len(split))
    per_image = 4 * int(torch.tensor(loaded.input_shape).prod())
    limit = max(1, min(limit, MAX_BYTES // per_image))
    if len(split) > limit:
        index = torch.randperm(len(split), generator=torch.Generator().manual_seed(0))[:limit].sort().values
    images = prepare_batch(split.images[index], tuple(loaded.input_shape), loaded.mean, loaded.std)
    return LabelledImages(images=images, labels=split.labels[index].clone(), classes=list(bundle.classes),
                          description=f"{len(index):,} test images of {bundle.name}")


def _models_dataset(loaded, data_dir):
    from studio.core.data import load_run_dataset

    config = loaded.checkpoint.get("config") if isinstance(getattr(loaded, "checkpoint", None), dict) else None
    name = config.get("dataset") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name:
        raise StudioError("This model does not say which dataset it was trained on: load that dataset in the "
                          "settings to measure accuracy.")
    try:
        bundle = load_run_dataset(config, data_dir=data_dir, download=False)
    except (StudioError, OSError, ValueError) as exc:
        raise StudioError(f"The model's dataset {name} is not on this machine ({exc}); load it in the settings "
                          "to measure accuracy.") from None
    if list(bundle.classes) != list(loaded.classes):
        raise StudioError(f"{name} has other classes than this model: load the dataset it was trained on.")
    return bundle
