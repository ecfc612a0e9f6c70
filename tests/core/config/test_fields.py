"""The field table is the one description of the training options: it covers TrainConfig exactly,
its defaults are TrainConfig's, and its limits are what validation enforces."""

import dataclasses

import pytest

from studio.core.config.fields import BY_NAME, FIELDS, GROUPS, get_value, problems
from studio.core.config.model_options import format_options, parse_options
from studio.core.config.presets import PRESETS, get_preset
from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.errors import StudioError


def test_the_table_names_every_config_field_once():
    expected = {f.name for f in dataclasses.fields(TrainConfig) if f.name != "augment"}
    expected |= {f"augment.{f.name}" for f in dataclasses.fields(AugmentConfig)}
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    assert set(names) == expected


def test_every_row_has_help_a_known_group_and_a_default_its_limits_accept():
    for f in FIELDS:
        assert f.help and f.group in GROUPS, f.name
        if f.name != "data_dir":
            assert f.accepts(f.default()), f.name
        if f.choices:
            assert set(f.titles) == set(f.choices), f.name


def test_val_fraction_is_in_the_table_with_its_limits():
    f = BY_NAME["val_fraction"]
    assert (f.default(), f.low, f.high, f.option) == (0.1, 0, 0.5, "--val-fraction")
    assert f.accepts(0) and f.accepts(0.5) and not f.accepts(0.51) and not f.accepts(-0.1)
    assert problems(TrainConfig(val_fraction=0.7)) == [f.problem]


@pytest.mark.parametrize("name, bad", [("lr", 0.0), ("lr", float("nan")), ("epochs", 0), ("epochs", 2.5),
                                       ("batch_size", True), ("optimizer", "adagrad"), ("momentum", 1.0),
                                       ("augment.rotation", 181.0), ("augment.crop_padding", -1),
                                       ("seed", -1), ("normalize", "seed999"), ("model_options", [1])])
def test_validation_refuses_what_the_table_limits_refuse(name, bad):
    config = TrainConfig()
    owner, _, key = name.rpartition(".")
    setattr(config.augment if owner else config, key, bad)
    assert BY_NAME[name].problem in config.problems()
    with pytest.raises(StudioError, match="Invalid training settings"):
        config.validate()


def test_the_defaults_and_every_preset_are_valid():
    assert TrainConfig().problems() == []
    for preset in PRESETS:
        assert preset.apply().problems() == [], preset.name


def test_a_non_mapping_augmentation_is_named_not_a_crash():
    config = TrainConfig()
    config.augment = "lots"
    assert config.problems() == ["augmentation settings must be a mapping"]


def test_get_value_reads_dotted_names():
    config = TrainConfig(augment=AugmentConfig(rotation=12.0))
    assert get_value(config, "augment.rotation") == 12.0 and get_value(config, "lr") == TrainConfig().lr


def test_model_options_text_is_read_by_one_parser():
    text = 'conv_channels=[8, 16], kernel_size=5, activation=tanh, names="a,b", extra={"x": 1, "y": 2}'
    options = parse_options(text)
    assert options == {"conv_channels": [8, 16], "kernel_size": 5, "activation": "tanh", "names": "a,b",
                       "extra": {"x": 1, "y": 2}}
    assert parse_options(format_options(options)) == options
    assert parse_options("") == {} and parse_options(" , ") == {}
    with pytest.raises(StudioError, match="NAME=VALUE"):
        parse_options("kernel_size")


def test_preset_titles_name_the_lectures_by_topic_not_by_seed():
    for preset in PRESETS:
        assert "seed" not in preset.title.lower() and "seed " not in preset.source.lower(), preset.name
    assert get_preset("seed001-cifarcnn").title.startswith("Lecture: CNN basics on CIFAR-10")
