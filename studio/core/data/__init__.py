"""Datasets as preloaded uint8 tensors, and the one path from pixels to model input.

    bundle = load_dataset("mnist-sample")              # DatasetBundle: train/test Splits, classes, stats
    loader = BatchLoader(bundle.train, 64, shuffle=True, input_shape=(1, 28, 28),
                         mean=bundle.mean, std=bundle.std, augment=cfg.augment)
    for x, y in loader: ...                             # float32 normalised batches

Modules: bundle (Split, DatasetBundle, DatasetInfo), registry (names -> loaders), sample
(bundled MNIST), torchvision_sets (downloads), folder (ImageFolder layout), transforms
(prepare_batch, denormalize), augment (per-sample batch augmentation), batches (BatchLoader).
"""

from studio.core.data.bundle import DatasetBundle, DatasetInfo, Split
from studio.core.data.registry import (
    DEFAULT_DATASET,
    FOLDER_PREFIX,
    dataset_folder,
    list_datasets,
    load_dataset,
    load_run_dataset,
)

__all__ = ["DEFAULT_DATASET", "FOLDER_PREFIX", "DatasetBundle", "DatasetInfo", "Split", "dataset_folder",
           "list_datasets", "load_dataset", "load_run_dataset"]
