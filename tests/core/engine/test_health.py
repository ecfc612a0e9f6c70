"""The health monitor's numbers, checked against what they mean on a real model and optimiser."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from studio.core.engine.events import BatchEnd, FitStart, HealthStep
from studio.core.engine.health import HealthMonitor, _dead_share


def make_monitor(every=2):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    sent = []
    trainer = SimpleNamespace(model=model, optimizer=optimizer, step=0, start_epoch=0, resume=False, run_dir=None,
                              _emit=sent.append)
    monitor = HealthMonitor(trainer, every=every)
    monitor(FitStart(config={}, run_dir=None, epochs=1, start_epoch=0, batches_per_epoch=4, device="cpu",
                     num_params=0, classes=["a", "b"], input_shape=(1, 1, 4), train_size=8, test_size=8))
    return monitor, model, optimizer, trainer, sent


def step(model, optimizer, trainer, monitor, batch):
    optimizer.zero_grad()
    model(torch.randn(5, 4)).square().mean().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    weights = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer.step()
    trainer.step += 1
    monitor(BatchEnd(epoch=1, batch=batch, batches=4, step=trainer.step, loss=1.0, accuracy=0.5, lr=0.1,
                     images_per_sec=1.0))
    return grads, weights


def test_every_other_step_records_each_layers_gradient_norm_and_update_ratio():
    monitor, model, optimizer, trainer, sent = make_monitor(every=2)
    step(model, optimizer, trainer, monitor, 1)
    assert not [e for e in sent if isinstance(e, HealthStep)]
    grads, weights = step(model, optimizer, trainer, monitor, 2)
    record = next(e for e in sent if isinstance(e, HealthStep))
    assert record.layers == ["0", "2"] and record.step == 2 and record.x == pytest.approx(0.5)
    g = torch.cat([grads["0.weight"].flatten(), grads["0.bias"]]).norm().item()
    w = torch.cat([weights["0.weight"].flatten(), weights["0.bias"]]).norm().item()
    assert record.grad_norm[0] == pytest.approx(g, rel=1e-3)
    assert record.update_ratio[0] == pytest.approx(0.1 * g / w, rel=1e-3)   # plain SGD: the step is lr x grad


def test_switched_off_it_records_nothing():
    monitor, model, optimizer, trainer, sent = make_monitor(every=1)
    monitor.enabled = False
    step(model, optimizer, trainer, monitor, 1)
    assert not [e for e in sent if isinstance(e, HealthStep)]
    monitor.enabled = True
    step(model, optimizer, trainer, monitor, 2)
    assert [e for e in sent if isinstance(e, HealthStep)]


def test_a_unit_is_dead_when_it_is_zero_for_every_image():
    out = torch.zeros(4, 3, 2, 2)
    out[2, 0, 1, 1] = 0.5            # channel 0 fires once: alive
    assert _dead_share(torch.relu(out)) == pytest.approx(2 / 3)
    assert _dead_share(torch.ones(4, 5)) == 0.0


def test_a_measurement_that_fails_switches_health_off_and_training_goes_on(capsys):
    monitor, model, optimizer, trainer, sent = make_monitor(every=1)

    def broken():
        raise RuntimeError("sparse gradients")

    monitor._measure_before = broken
    step(model, optimizer, trainer, monitor, 1)     # no exception reaches the training loop
    assert not monitor.enabled
    assert "sparse gradients" in capsys.readouterr().err
