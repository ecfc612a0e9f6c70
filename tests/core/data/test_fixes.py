"""Data fixes: relabel and exclude images of a folder dataset without touching the folder."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from studio.core.data import load_dataset
from studio.core.data.fixes import (DataFixes, fixes_for_run, freeze_fixes, image_key, read_fixes,
                                    run_fixes_path, write_fixes)
from studio.core.errors import DatasetError

CLASSES = {"circle": 0, "square": 1, "stripe": 2}


def make_folder(root, per_class=10, size=24):
    """Real PNGs of three drawable shapes, each with its own noise."""
    rng = np.random.default_rng(0)
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
            yy, xx = np.mgrid[:size, :size]
            if name == "circle":
                pixels[(yy - 12) ** 2 + (xx - 12) ** 2 < 49] = 230
            elif name == "square":
                pixels[6:18, 6:18] = 230
            else:
                pixels[:, ::4] = 230
            Image.fromarray(pixels).save(root / name / f"{name}_{i:02d}.png")
    return root


def folder_hashes(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_fixes_round_trip_and_statuses(tmp_path):
    fixes = DataFixes(dataset="folder:/x")
    fixes.mark_relabel("circle\\a.png", "square")
    fixes.mark_exclude("./square/b.png")
    assert fixes.status("circle/a.png") == "relabelled as square"
    assert fixes.status("square/b.png") == "excluded"
    fixes.mark_exclude("circle/a.png")   # a later mark replaces the earlier one
    assert fixes.status("circle/a.png") == "excluded" and "circle/a.png" not in fixes.relabel
    path = write_fixes(tmp_path / "run" / "data_fixes.json", fixes)
    again = read_fixes(path)
    assert again.exclude == {"circle/a.png", "square/b.png"} and again.relabel == {}
    assert again.dataset == "folder:/x"
    fixes.clear("square/b.png")
    assert fixes.status("square/b.png") == ""


def test_unusable_fixes_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DatasetError, match="cannot be read"):
        read_fixes(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DatasetError, match="not a CNN Studio data fixes file"):
        read_fixes(bad)
    bad.write_text(json.dumps({"format": "cnn-studio data fixes", "exclude": "all"}))
    with pytest.raises(DatasetError, match="list of image paths"):
        read_fixes(bad)
    with pytest.raises(DatasetError, match="does not exist"):
        read_fixes(tmp_path / "missing.json")
    with pytest.raises(DatasetError, match="folder datasets"):
        load_dataset("mnist-sample", fixes=str(bad))


def test_loader_applies_exclusions_and_relabels_after_the_split(tmp_path):
    root = make_folder(tmp_path / "shapes")
    before = folder_hashes(root)
    plain = load_dataset(f"folder:{root}", image_size=16)
    assert plain.test.files is not None and len(plain.test.files) == len(plain.test)
    test_keys = [image_key(root, f) for f in plain.test.files]
    train_keys = [image_key(root, f) for f in plain.train.files]
    fixes = DataFixes(dataset=plain.name)
    fixes.mark_exclude(test_keys[0])
    fixes.mark_exclude(train_keys[0])
    fixes.mark_relabel(train_keys[1], "stripe")
    fixes.mark_relabel(test_keys[1], "circle")
    path = write_fixes(tmp_path / "run" / "data_fixes.json", fixes)

    fixed = load_dataset(f"folder:{root}", image_size=16, fixes=str(path))
    assert len(fixed.train) == len(plain.train) - 1 and len(fixed.test) == len(plain.test) - 1
    fixed_test = [image_key(root, f) for f in fixed.test.files]
    assert fixed_test == test_keys[1:]      # the same test images, minus the excluded one
    assert fixed.classes[int(fixed.test.labels[0])] == "circle"
    i = [image_key(root, f) for f in fixed.train.files].index(train_keys[1])
    assert fixed.classes[int(fixed.train.labels[i])] == "stripe"
    assert fixed.fixes == "2 excluded, 2 relabelled" and "data fixes" in fixed.source
    assert folder_hashes(root) == before    # the user's images are never touched


def test_relabel_to_an_unknown_class_is_an_error(tmp_path):
    root = make_folder(tmp_path / "shapes", per_class=3)
    fixes = DataFixes()
    fixes.mark_relabel("circle/circle_00.png", "triangle")
    path = write_fixes(tmp_path / "f.json", fixes)
    with pytest.raises(DatasetError, match="triangle"):
        load_dataset(f"folder:{root}", image_size=16, fixes=str(path))


def test_fixes_for_run_start_from_the_fixes_the_run_used(tmp_path):
    first = DataFixes(dataset="folder:/d")
    first.mark_exclude("a/1.png")
    frozen = freeze_fixes(tmp_path / "run1", first)
    assert frozen.name.startswith("data_fixes-") and read_fixes(frozen).exclude == {"a/1.png"}
    run2 = tmp_path / "run2"
    run2.mkdir()
    assert fixes_for_run(run2, {"data_fixes": str(frozen)}).exclude == {"a/1.png"}
    assert len(fixes_for_run(run2, {"dataset": "folder:/d"})) == 0
    write_fixes(run_fixes_path(run2), DataFixes())
    assert len(fixes_for_run(run2, {"data_fixes": str(frozen)})) == 0   # its own file wins


@pytest.mark.slow
def test_retrain_with_fixes_counts_reflect_them_and_the_folder_is_unchanged(tmp_path):
    from studio.core import runs
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer

    root = make_folder(tmp_path / "shapes")
    before = folder_hashes(root)
    config = TrainConfig(dataset=f"folder:{root}", image_size=16, model="lenet5", epochs=1, batch_size=8,
                         val_fraction=0, snapshots=0)
    first = Trainer(config, runs_dir=tmp_path / "runs")
    assert first.fit().status == "done"
    bundle = first.bundle
    fixes = fixes_for_run(first.run_dir, runs.read_run(first.run_dir).config)
    for f in bundle.train.files[:2]:
        fixes.mark_exclude(image_key(root, f))
    fixes.mark_exclude(image_key(root, bundle.test.files[0]))
    fixes.mark_relabel(image_key(root, bundle.train.files[5]), "circle")
    write_fixes(run_fixes_path(first.run_dir), fixes)

    retrain = TrainConfig.from_dict({**config.to_dict(), "data_fixes": str(freeze_fixes(first.run_dir, fixes))})
    second = Trainer(retrain, runs_dir=tmp_path / "runs")
    assert second.fit().status == "done"
    start = lambda run: next(r for r in runs.read_metrics(run) if r["event"] == "fit_start")  # noqa: E731
    assert start(first.run_dir)["train_size"] == 24 and start(first.run_dir)["test_size"] == 6
    assert start(second.run_dir)["train_size"] == 22 and start(second.run_dir)["test_size"] == 5
    assert runs.read_run(second.run_dir).config["data_fixes"].startswith(str(first.run_dir))
    counts = second.bundle.train.class_counts(3)
    assert sum(counts) == 22 and counts != bundle.train.class_counts(3)
    assert folder_hashes(root) == before
