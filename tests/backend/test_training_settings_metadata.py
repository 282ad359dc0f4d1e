"""Every training setting describes how a form shows it, and the description is consistent."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from backend.document.training_config import (
    ADVANCED,
    BASIC,
    EDITORS,
    HIDDEN,
    SCHEDULE_PARAMS,
    SCHEDULES,
    TrainingConfig,
    is_visible,
    setting_fields,
)
from backend.training.optimizers import schedule_curve


def test_every_field_has_a_setting_with_a_label_and_a_known_editor() -> None:
    names = [f.name for f in fields(TrainingConfig)]
    described = setting_fields()
    assert [name for name, _, _ in described] == names
    for name, info, default in described:
        assert info.label, name
        assert info.group in (BASIC, ADVANCED, HIDDEN), name
        assert info.kind(default) in EDITORS, name
        if info.group != HIDDEN:
            assert info.section, f"{name} has no section"
            assert info.help or info.editor == "params", f"{name} has no help text"


@pytest.mark.parametrize("name", [n for n, i, _ in setting_fields() if i.choices])
def test_each_choice_is_a_valid_value(name: str) -> None:
    info = next(i for n, i, _ in setting_fields() if n == name)
    for value, label in info.choices:
        assert label
        if name != "metrics":  # metrics: suggestions, any Keras name may be typed
            replace(TrainingConfig(), **{name: value}).validate()


def test_visible_when_names_real_fields_and_values() -> None:
    config = TrainingConfig()
    for name, info, _ in setting_fields():
        for other, values in info.visible_when:
            assert hasattr(config, other), f"{name}: visible_when names {other!r}"
            assert values
    momentum = next(i for n, i, _ in setting_fields() if n == "momentum")
    assert not is_visible(TrainingConfig(optimizer="adam"), momentum)
    assert is_visible(TrainingConfig(optimizer="sgd"), momentum)


def test_schedule_params_describe_every_schedule_and_their_defaults_drive_the_curve() -> None:
    assert set(SCHEDULE_PARAMS) == set(SCHEDULES)
    for schedule, params in SCHEDULE_PARAMS.items():
        defaults = {p.key: p.default for p in params}
        explicit = TrainingConfig(schedule=schedule, schedule_params=defaults, epochs=12)
        implicit = TrainingConfig(schedule=schedule, epochs=12)
        # the form's defaults are the trainer's: an untouched editor changes nothing
        assert schedule_curve(explicit) == schedule_curve(implicit), schedule
        for p in params:
            assert p.minimum <= p.default <= p.maximum, (schedule, p.key)
