"""One finding of the diagnosis: what is wrong, the numbers that show it, and what to change next time."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("problem", "warning", "info")   # "info" is never an alarm: a healthy run may have some


@dataclass
class Finding:
    code: str                     # stable identifier: "diverging", "lr_too_low", "overfitting", ...
    severity: str                 # one of SEVERITIES
    title: str                    # a few words
    text: str                     # what happens, in plain words, with the numbers
    evidence: dict = field(default_factory=dict)    # the numbers the text quotes
    highlight: dict = field(default_factory=dict)   # {"plot": "loss"|"accuracy"|"grad_norm"|"update_ratio"|"dead",
                                                    #  "x": [from, to] in epochs, "layers": [...]}
    action: dict = field(default_factory=dict)      # TrainConfig changes for the next run ({"lr": 0.001})
    action_text: str = ""         # the action in words ("lower the learning rate to 0.001")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_alarm(self) -> bool:
        return self.severity != "info"


def describe_action(action: dict) -> str:
    """{"lr": 0.001, "epochs": 10} -> "lr = 0.001, epochs = 10" (what the Apply button changes)."""
    return ", ".join(f"{key} = {_short(value)}" for key, value in action.items())


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def apply_action(config, action: dict):
    """A copy of a TrainConfig with a finding's suggested changes ("augment.hflip" reaches into the
    augmentation settings); a change the config cannot take is a StudioError, the config untouched."""
    from studio.core.config.train_config import TrainConfig
    from studio.core.errors import StudioError

    data = config.to_dict()
    for key, value in action.items():
        head, _, rest = key.partition(".")
        target = data.get(head) if rest else data
        name = rest or head
        if not isinstance(target, dict) or name not in target:
            raise StudioError(f"The suggestion changes {key!r}, which these settings do not have.")
        target[name] = value
    changed = TrainConfig.from_dict(data)
    changed.validate()
    return changed
