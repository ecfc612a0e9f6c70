"""The comparison of two evaluations: matrix deltas, per-class accuracy deltas, flipped images."""

import numpy as np
import pytest

from studio.core.engine.evaluate import EvalResult
from studio.core.errors import StudioError
from studio.core.inspect.compare import compare_results, match_images


def result(y_true, y_pred, k=3):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    probs = np.eye(k, dtype=np.float32)[y_pred]
    return EvalResult(loss=0, accuracy=float((y_true == y_pred).mean()), confusion=np.zeros((k, k), np.int64),
                      y_true=y_true, y_pred=y_pred, probs=probs)


def test_flips_and_deltas_by_position():
    a = result([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0])
    b = result([0, 0, 1, 1, 2, 2], [0, 0, 2, 1, 2, 2])
    c = compare_results(a, b)
    assert list(c.right_to_wrong) == [2] and list(c.wrong_to_right) == [1, 5]
    assert c.confusion_delta[1, 2] == 1 and c.confusion_delta[1, 1] == -1 and c.confusion_delta.sum() == 0
    assert c.class_accuracy_delta == pytest.approx([0.5, -0.5, 0.5])
    assert (c.accuracy_a, c.accuracy_b) == (pytest.approx(4 / 6), pytest.approx(5 / 6))


def test_matched_by_key_when_images_were_excluded_or_relabelled():
    a = result([0, 1, 2], [0, 1, 1])
    b = result([2, 0], [2, 1])        # "a.png" excluded; "c.png" relabelled 2 -> 2 (same) ...
    c = compare_results(a, b, keys_a=["a.png", "b.png", "c.png"], keys_b=["c.png", "b.png"])
    assert list(c.index_a) == [1, 2] and list(c.index_b) == [1, 0]
    assert list(c.wrong_to_right) == [1] and list(c.right_to_wrong) == [0]
    assert list(c.relabelled) == [0] and (c.unmatched_a, c.unmatched_b) == (1, 0)
    assert c.confusion_a.sum() == c.confusion_b.sum() == 2


def test_unmatchable_evaluations_are_a_message():
    with pytest.raises(StudioError, match="3 and 2 images"):
        match_images(3, 2)
    with pytest.raises(StudioError, match="share no image"):
        match_images(1, 1, ["x"], ["y"])


@pytest.mark.slow
def test_two_real_epochs_and_two_real_runs_match_a_direct_computation(tmp_path):
    from studio.core.config.train_config import TrainConfig
    from studio.core.data.fixes import DataFixes, freeze_fixes, image_key
    from studio.core.engine import Trainer
    from studio.core.engine.epoch_eval import evaluate_epoch
    from tests.core.data.test_fixes import make_folder

    root = make_folder(tmp_path / "shapes")
    config = TrainConfig(dataset=f"folder:{root}", image_size=16, model="lenet5", epochs=3, batch_size=8,
                         val_fraction=0, lr=0.01)
    first = Trainer(config, runs_dir=tmp_path / "runs")
    assert first.fit().status == "done"
    cache = {}
    e0, e3 = (evaluate_epoch(first.run_dir, e, cache=cache) for e in (0, 3))
    c = compare_results(e0.result, e3.result, keys_a=e0.keys, keys_b=e3.keys)
    right0 = e0.result.y_true == e0.result.y_pred
    right3 = e3.result.y_true == e3.result.y_pred
    assert list(c.right_to_wrong) == list(np.flatnonzero(right0 & ~right3))
    assert list(c.wrong_to_right) == list(np.flatnonzero(~right0 & right3))
    assert len(c.wrong_to_right) > 0              # training taught the network something
    assert (c.confusion_delta == e3.result.confusion - e0.result.confusion).all()

    fixes = DataFixes()
    dropped = image_key(root, e3.split.files[0])
    fixes.mark_exclude(dropped)
    retrain = TrainConfig.from_dict({**config.to_dict(), "data_fixes": str(freeze_fixes(first.run_dir, fixes))})
    second = Trainer(retrain, runs_dir=tmp_path / "runs")
    assert second.fit().status == "done"
    b = evaluate_epoch(second.run_dir, None)
    assert dropped not in b.keys and len(b.keys) == len(e3.keys) - 1
    c = compare_results(e3.result, b.result, keys_a=e3.keys, keys_b=b.keys)
    where_b = {key: i for i, key in enumerate(b.keys)}
    direct_rw, direct_wr = [], []
    for i, key in enumerate(k for k in e3.keys if k != dropped):
        ia, ib = e3.keys.index(key), where_b[key]
        was = e3.result.y_true[ia] == e3.result.y_pred[ia]
        now = b.result.y_true[ib] == b.result.y_pred[ib]
        (direct_rw if was and not now else direct_wr if now and not was else []).append(i)
    assert list(c.right_to_wrong) == direct_rw and list(c.wrong_to_right) == direct_wr
    assert c.unmatched_a == 1 and c.matched == len(b.keys)
