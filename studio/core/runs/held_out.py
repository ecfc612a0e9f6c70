"""Real images to check an exported model against PyTorch: the run's own test split when it can be
read without a download (the bundled samples, an already-downloaded set, a folder), else the
sample photos shipped with the studio, prepared exactly as the Predict tab prepares them."""

from __future__ import annotations

import torch

from studio.core import paths
from studio.core.errors import StudioError


def held_out_images(loaded, *, data_dir=None, limit: int = 512) -> tuple[torch.Tensor, str]:
    """(N, C, H, W) float inputs for `loaded` and a phrase saying what they are."""
    batch = _test_split(loaded, data_dir, limit)
    if batch is not None:
        return batch
    return _sample_photos(loaded), "sample photos"


def _test_split(loaded, data_dir, limit: int):
    from studio.core.data import load_run_dataset
    from studio.core.pixels import prepare_batch

    config = loaded.checkpoint.get("config") if isinstance(loaded.checkpoint, dict) else None
    dataset = config.get("dataset") if isinstance(config, dict) else None
    if not isinstance(dataset, str) or not dataset:
        return None
    try:
        bundle = load_run_dataset(config, data_dir=data_dir, download=False)
    except (StudioError, OSError, ValueError):
        return None  # not on this machine: the sample photos will do
    if len(bundle.classes) != len(loaded.classes) or len(bundle.test) == 0:
        return None
    images = bundle.test.images[:limit]
    return (prepare_batch(images, loaded.input_shape, loaded.mean, loaded.std),
            f"held-out test images of {dataset}")


def _sample_photos(loaded) -> torch.Tensor:
    from studio.core.images import decode_image
    from studio.core.inspect.preprocess import model_input

    folder = paths.RESOURCES / "images"
    inputs = [model_input(decode_image(p), loaded) for p in sorted(folder.iterdir())
              if p.suffix.lower() in (".png", ".jpg", ".jpeg")]
    if not inputs:
        raise StudioError(f"No images to verify the export with: {folder} is empty.")
    return torch.cat(inputs)
