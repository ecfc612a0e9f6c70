"""Hardest examples: ranked by the loss of the true class, filtered, explained by Grad-CAM."""

import numpy as np
import pytest
import torch

from studio.core.engine.evaluate import EvalResult
from studio.core.inspect.hardest import grad_cams, image_losses, rank_hardest


def fake_result():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.05, 0.05, 0.9], [0.6, 0.3, 0.1], [0.0, 1.0, 0.0]],
                     dtype=np.float32)
    y_true = np.array([0, 0, 1, 2, 0])
    y_pred = probs.argmax(1)
    return EvalResult(loss=0.0, accuracy=0.2, confusion=np.zeros((3, 3), np.int64), y_true=y_true,
                      y_pred=y_pred, probs=probs)


def test_losses_are_the_cross_entropy_of_the_true_class():
    r = fake_result()
    losses = image_losses(r)
    assert losses[0] == pytest.approx(-np.log(0.9))
    assert np.isfinite(losses[4]) and losses[4] > 20   # p(true) = 0: very large, never inf


def test_ranked_by_loss_and_filtered():
    r = fake_result()
    ranked = rank_hardest(r)
    assert [h.index for h in ranked] == [4, 2, 3, 1, 0]
    assert all(a.loss >= b.loss for a, b in zip(ranked, ranked[1:]))
    assert ranked[0].true == 0 and ranked[0].pred == 1 and ranked[0].confidence == pytest.approx(1.0)
    assert [h.index for h in rank_hardest(r, true_class=0)] == [4, 1, 0]
    assert [h.index for h in rank_hardest(r, pred_class=0)] == [3, 0]
    assert [h.index for h in rank_hardest(r, true_class=0, pred_class=1)] == [4, 1]
    assert [h.index for h in rank_hardest(r, mistakes_only=True, limit=2)] == [4, 2]
    assert rank_hardest(r, true_class=2, pred_class=2) == []


def test_on_a_real_model_losses_average_to_the_evaluation_loss():
    from studio.core.data import load_dataset
    from studio.core.engine.evaluate import evaluate
    from studio.core.runs import load_checkpoint
    from studio.core.paths import DEMO_MODELS

    loaded = load_checkpoint(DEMO_MODELS / "lenet5-mnist-sample.pt")
    test = load_dataset("mnist-sample").test
    result = evaluate(loaded.model, test, loaded.input_shape, loaded.mean, loaded.std, num_classes=10)
    assert image_losses(result).mean() == pytest.approx(result.loss, rel=1e-3)
    hardest = rank_hardest(result, limit=4)
    assert all(h.wrong for h in hardest)            # the worst images of a 98 % model are mistakes
    images = test.images[[h.index for h in hardest]]
    cams = grad_cams(loaded, images, [h.pred for h in hardest])
    assert len(cams) == 4 and all(c is not None and c.shape == (28, 28) for c in cams)
    assert all(0 <= c.min() and c.max() <= 1 for c in cams)
    stopped = grad_cams(loaded, images, [h.pred for h in hardest], should_stop=lambda: True)
    assert stopped == [None] * 4
    assert isinstance(images, torch.Tensor)
