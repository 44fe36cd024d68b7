"""Settings: environment and TOML file; a wrong value names the setting."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.startswith("BANGFU_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_toml_file_then_environment_wins(monkeypatch, tmp_path):
    path = tmp_path / "conf.toml"
    path.write_text(
        'database_url = "sqlite:///x.db"\n[policy]\nquota_preset = "融水"\nbackdate_days = 3\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BANGFU_CONFIG", str(path))
    monkeypatch.setenv("BANGFU_POLICY__BACKDATE_DAYS", "5")
    monkeypatch.setenv("BANGFU_TELEGRAM__API_URL", "http://127.0.0.1:8081/bot")
    s = load_settings()
    assert s.policy.quota_preset == "543" and s.policy.quota_for("科级") == 4
    assert s.policy.backdate_days == 5
    assert s.telegram.api_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("BANGFU_POLICY__BACKDATE_DAYS", "lots", "BANGFU_POLICY__BACKDATE_DAYS"),
        ("BANGFU_TIMEZONE", "Mars/Olympus", "BANGFU_TIMEZONE"),
        ("BANGFU_SCHEDULE__SWEEP_TIME", "25:00", "BANGFU_SCHEDULE__SWEEP_TIME"),
        ("BANGFU_POLICY__QUOTA_PRESET", "999", "BANGFU_POLICY__QUOTA_PRESET"),
    ],
)
def test_a_wrong_value_names_the_setting(monkeypatch, var, value, named):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert named in str(err.value) and "配置错误" in str(err.value)


def test_missing_config_file_is_named(monkeypatch):
    monkeypatch.setenv("BANGFU_CONFIG", "/nowhere/bangfu.toml")
    with pytest.raises(ConfigError, match="BANGFU_CONFIG"):
        load_settings()


def test_secrets_do_not_show_in_repr(monkeypatch):
    monkeypatch.setenv("BANGFU_TELEGRAM__TOKEN", "123456:SECRET-TOKEN")
    s = load_settings()
    assert "SECRET-TOKEN" not in repr(s) and "SECRET-TOKEN" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("var", "named"),
    [
        ("BANGFU_TELEGRAM_TOKEN", "BANGFU_TELEGRAM__TOKEN"),
        ("BANGFU_TELEGRAM_API_URL", "BANGFU_TELEGRAM__API_URL"),
        ("BANGFU_SCHEDULE__DIGEST_DAYS", "no such setting"),
    ],
)
def test_a_variable_that_names_no_setting_stops_with_the_right_name(monkeypatch, var, named):
    # Once ignored silently: the bot started without the token the operator had set.
    monkeypatch.setenv(var, "x")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert var in str(err.value) and named in str(err.value)


def test_variables_that_are_not_settings_are_left_alone(monkeypatch):
    monkeypatch.setenv("BANGFU_TEST_PG_URL", "off")
    assert load_settings().telegram.enabled is False


def test_the_cli_says_one_line_naming_the_setting(monkeypatch, capsys):
    import logging

    from bot.cli import main

    monkeypatch.setenv("BANGFU_TELEGRAM__TOKEN", "123456:ABC")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert main(["run"]) == 2  # `run` sets up logging first: put it back for later tests
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "BANGFU_TELEGRAM__ENABLED" in err


def test_environment_reads_rate_limits_and_lists_as_written(monkeypatch):
    monkeypatch.setenv("BANGFU_DISPATCH__TELEGRAM_PER_CHAT", "20/min")
    monkeypatch.setenv("BANGFU_CHANNELS", "bot.channels.telegram_app, tests.toy_channel")
    s = load_settings()
    assert (s.dispatch.telegram_per_chat.count, s.dispatch.telegram_per_chat.per_seconds) == (
        20,
        60.0,
    )
    assert s.channels == ("bot.channels.telegram_app", "tests.toy_channel")


def test_a_whole_table_in_json_then_one_key_of_it(monkeypatch):
    monkeypatch.setenv("BANGFU_POLICY", '{"backdate_days": 4, "quota_preset": "融水"}')
    monkeypatch.setenv("BANGFU_POLICY__BACKDATE_DAYS", "6")
    s = load_settings()
    assert s.policy.backdate_days == 6 and s.policy.quota_preset == "543"


def test_one_key_from_the_environment_keeps_the_files_other_keys(monkeypatch, tmp_path):
    path = tmp_path / "conf.toml"
    path.write_text('[schedule]\nsweep_time = "07:30"\ndigest_day = "fri"\n', encoding="utf-8")
    monkeypatch.setenv("BANGFU_CONFIG", str(path))
    monkeypatch.setenv("BANGFU_SCHEDULE__SWEEP_TIME", "8:05")
    s = load_settings()
    assert (s.schedule.sweep_time, s.schedule.digest_day) == ("08:05", "fri")


def test_values_given_in_code_beat_the_environment(monkeypatch):
    monkeypatch.setenv("BANGFU_DATABASE_URL", "sqlite+aiosqlite:///env.db")
    monkeypatch.setenv("bangfu_timezone", "Asia/Urumqi")  # names in any case
    s = load_settings(database_url="sqlite+aiosqlite:///given.db")
    assert s.database_url == "sqlite+aiosqlite:///given.db" and s.timezone == "Asia/Urumqi"
