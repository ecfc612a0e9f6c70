"""Issue 13.12: a run keeps its random initial kernels as epoch 0, so the Kernels tab can show where they began."""

import numpy as np
import pytest

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.core.inspect.kernels import get_kernels


@pytest.mark.slow
def test_epoch_zero_snapshot_holds_the_initial_weights(tmp_path):
    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=1, batch_size=128, lr=2e-3, seed=3)
    trainer = Trainer(cfg, runs_dir=tmp_path)
    trainer.prepare()
    before = get_kernels(trainer.model, "features.0").copy()
    assert trainer.fit().status == "done"
    assert runs.read_epoch_snapshots(trainer.run_dir) == [0, 1]
    zero = runs.load_epoch_snapshot(trainer.run_dir, 0)
    assert zero["confusion"] is None   # nothing was evaluated before training
    np.testing.assert_array_equal(zero["kernels"]["features.0"], before)
    after = runs.load_epoch_snapshot(trainer.run_dir, 1)["kernels"]["features.0"]
    assert not np.array_equal(after, before)   # training moved them
