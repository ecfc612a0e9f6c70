"""Every lecture recipe that trains on CIFAR-10 runs offline on the bundled cifar10-sample."""

import pytest

from studio.core.config.presets import PRESETS
from studio.core.engine import Trainer

CIFAR_PRESETS = [p for p in PRESETS if p.settings.get("dataset") == "cifar10"]


def test_the_lecture_presets_train_on_the_whole_training_split():
    assert {p.name for p in CIFAR_PRESETS} >= {"seed000-alexnet", "seed001-cifarcnn", "seed003-cnn",
                                                 "seed004-cifar10model"}
    for preset in PRESETS:
        if preset.name.startswith("seed"):
            assert preset.apply().val_fraction == 0.0, preset.name   # their numbers need every image


@pytest.mark.slow
@pytest.mark.parametrize("preset", CIFAR_PRESETS, ids=lambda p: p.name)
def test_each_cifar10_preset_takes_a_step_on_the_sample_offline(preset, tmp_path):
    config = preset.apply()
    config.dataset, config.data_dir, config.batch_size = "cifar10-sample", str(tmp_path), 8
    trainer = Trainer(config, runs_dir=tmp_path, record=False)
    trainer.prepare()
    x, y = next(iter(trainer.train_loader))
    loss, _ = trainer._step(x, y, 1, 1)
    assert loss > 0 and len(trainer.bundle.classes) == 10
    assert not any(tmp_path.iterdir())   # nothing downloaded
