"""The best epoch and early stopping are decided on validation; the test split is only reported."""

from studio.core.engine.selection import BestEpoch, best_epoch


def _record(epoch, val_acc, test_acc, val_loss=1.0, test_loss=1.0):
    return {"epoch": epoch, "val_acc": val_acc, "val_loss": val_loss, "test_acc": test_acc, "test_loss": test_loss}


# Validation peaks at epoch 2, test at epoch 3: a choice made on test would pick 3.
RECORDS = [_record(1, 0.80, 0.79), _record(2, 0.90, 0.84), _record(3, 0.85, 0.91), _record(4, 0.86, 0.88)]


def test_the_best_epoch_is_chosen_on_val_even_when_test_would_pick_another():
    chosen = best_epoch(RECORDS, "val")
    assert chosen.epoch == 2 and chosen.split == "val"
    assert chosen.test_acc == 0.84 and chosen.val_acc == 0.90   # the report: test at the epoch val chose
    assert best_epoch(RECORDS, "test").epoch == 3                # what the old, optimistic choice gave


def test_observe_says_when_a_new_best_arrives_and_a_tie_goes_to_the_later_epoch():
    chooser = BestEpoch("val")
    flags = [chooser.observe(r) for r in RECORDS + [_record(5, 0.90, 0.70)]]
    assert flags == [True, True, False, False, True]
    assert chooser.epoch == 5


def test_early_stopping_watches_the_validation_loss_not_the_test_loss():
    chooser = BestEpoch("val", patience=2)
    losses = [(1.0, 1.0), (0.9, 0.8), (0.95, 0.7), (0.97, 0.6)]   # val worsens after epoch 2, test improves
    stops = []
    for epoch, (val_loss, test_loss) in enumerate(losses, 1):
        chooser.observe(_record(epoch, 0.5, 0.5, val_loss, test_loss))
        stops.append(chooser.should_stop)
    assert stops == [False, False, False, True]
    assert chooser.stop_reason() == "early stopping: val loss did not improve for 2 epochs"


def test_a_resumed_run_goes_on_choosing_as_before():
    first = best_epoch(RECORDS[:2], "val")
    resumed = BestEpoch("val")
    resumed.restore(first.state())
    for record in RECORDS[2:]:
        resumed.observe(record)
    assert resumed.epoch == best_epoch(RECORDS, "val").epoch == 2


def test_an_old_checkpoint_with_only_best_test_acc_restores_a_test_choice():
    old = BestEpoch("test")
    old.restore({"test_acc": 0.9, "best_test_acc": 0.93})
    assert old.acc == 0.93 and old.test_acc == 0.93
    assert not old.observe(_record(5, None, 0.92))
    ignored = BestEpoch("val")
    ignored.restore({"best_test_acc": 0.93})   # chosen on test before: says nothing about val
    assert ignored.epoch == 0
