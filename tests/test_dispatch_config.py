"""The dispatch section of the settings: limits written as "COUNT/PERIOD", clear errors."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray bangfu.toml


def test_defaults_are_the_platform_limits():
    d = load_settings().dispatch
    assert (d.telegram_overall.count, d.telegram_overall.per_seconds) == (30, 1)
    assert (d.telegram_per_chat.count, d.telegram_per_chat.per_seconds) == (1, 1)
    assert (d.telegram_per_group.count, d.telegram_per_group.per_seconds) == (20, 60)
    assert (d.wecom_robot_per_key.count, d.wecom_robot_per_key.per_seconds) == (20, 60)


def test_limits_from_environment_and_toml(monkeypatch, tmp_path):
    monkeypatch.setenv("BANGFU_DISPATCH__TELEGRAM_PER_GROUP", "10/min")
    (tmp_path / "bangfu.toml").write_text(
        '[dispatch]\nwecom_app_overall = "5/2s"\nmax_attempts = 3\n'
    )
    d = load_settings().dispatch
    assert (d.telegram_per_group.count, d.telegram_per_group.per_seconds) == (10, 60)
    assert (d.wecom_app_overall.count, d.wecom_app_overall.per_seconds) == (5, 2)
    assert d.max_attempts == 3


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("BANGFU_DISPATCH__TELEGRAM_PER_CHAT", "fast", "BANGFU_DISPATCH__TELEGRAM_PER_CHAT"),
        ("BANGFU_DISPATCH__TELEGRAM_PER_CHAT", "0/s", "BANGFU_DISPATCH__TELEGRAM_PER_CHAT"),
        ("BANGFU_DISPATCH__MAX_ATTEMPTS", "0", "BANGFU_DISPATCH__MAX_ATTEMPTS"),
        ("BANGFU_DISPATCH__LEASE_SECONDS", "30", "BANGFU_DISPATCH"),  # < 2 × max_wait
    ],
)
def test_bad_values_stop_with_the_setting_named(monkeypatch, var, value, named):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()
