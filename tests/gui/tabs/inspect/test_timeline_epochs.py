"""The timeline's shared model cache: an epoch the budget skipped is looked up in last.pt/best.pt once."""

import pytest

from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.core.runs import snapshots
from studio.gui.tabs.inspect import timeline_epochs


@pytest.mark.slow
def test_a_skipped_epoch_reads_the_checkpoints_once_then_uses_the_nearest_kept(tmp_path, monkeypatch):
    trainer = Trainer(TrainConfig(dataset="mnist-sample", model="lenet5", epochs=3, batch_size=256), runs_dir=tmp_path)
    assert trainer.fit().status == "done"
    run = trainer.run_dir
    snapshots.weights_path(run, 1).unlink()          # as if the budget had skipped epoch 1
    timeline_epochs.forget_models()
    calls = []
    real = snapshots.load_epoch_model

    def counting(run_dir, epoch, *args, **kwargs):
        calls.append(epoch)
        return real(run_dir, epoch, *args, **kwargs)

    monkeypatch.setattr(snapshots, "load_epoch_model", counting)
    for _ in range(3):
        found = timeline_epochs.epoch_model(run, 1)
        assert (found.requested, found.shown) == (1, 0)   # the nearest kept epoch, the earlier on a tie
    assert calls.count(1) == 1 and calls.count(0) == 1
