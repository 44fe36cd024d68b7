"""A wrong setting is refused with the same message as when pydantic validated the settings.

The operator reads `配置错误 / bad setting BANGFU_…: <message>` at start-up (the bot, every
admin command). These messages were pydantic's; the settings are now validated without it
(core/validated.py), and each line below is what the pydantic version said for that input,
copied from a run of it: the setting named by its path, the wording unchanged.
"""

from __future__ import annotations

import os

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("BANGFU_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


ENV_CASES = [
    ("BANGFU_DATABASE_POOL_SIZE", "", "BANGFU_DATABASE_POOL_SIZE: Input should be a valid integer, unable to parse string as an integer"),
    ("BANGFU_DATABASE_POOL_SIZE", "0", "BANGFU_DATABASE_POOL_SIZE: Input should be greater than or equal to 1"),
    ("BANGFU_DATABASE_POOL_SIZE", "100000", "BANGFU_DATABASE_POOL_SIZE: Input should be less than or equal to 200"),
    ("BANGFU_TELEGRAM__POLL_TIMEOUT", "inf", "BANGFU_TELEGRAM__POLL_TIMEOUT: Input should be a valid integer, unable to parse string as an integer"),
    ("BANGFU_LANGUAGE", "", "BANGFU_LANGUAGE: Input should be 'zh' or 'en'"),
    ("BANGFU_LOG__LEVEL", "", "BANGFU_LOG__LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    ("BANGFU_LOG__PERSONAL_DATA", "", "BANGFU_LOG__PERSONAL_DATA: Input should be a valid boolean, unable to interpret input"),
    ("BANGFU_TIMEZONE", "x", "BANGFU_TIMEZONE: Value error, unknown time zone 'x', e.g. Asia/Shanghai"),
    ("BANGFU_SCHEDULE__SWEEP_TIME", "", "BANGFU_SCHEDULE__SWEEP_TIME: Value error, use HH:MM, e.g. 09:00"),
    ("BANGFU_SCHEDULE__DISPATCH_INTERVAL_SECONDS", "", "BANGFU_SCHEDULE__DISPATCH_INTERVAL_SECONDS: Input should be a valid number, unable to parse string as a number"),
    ("BANGFU_SCHEDULE__DISPATCH_INTERVAL_SECONDS", "0", "BANGFU_SCHEDULE__DISPATCH_INTERVAL_SECONDS: Input should be greater than 0"),
    ("BANGFU_DISPATCH__MARGIN_SECONDS", "nan", "BANGFU_DISPATCH__MARGIN_SECONDS: Input should be less than or equal to 60"),
    ("BANGFU_DISPATCH__BACKOFF_MAX_SECONDS", "5", "BANGFU_DISPATCH: Value error, backoff_max_seconds must be >= backoff_base_seconds"),
    ("BANGFU_DISPATCH__TELEGRAM_OVERALL", "x", 'BANGFU_DISPATCH__TELEGRAM_OVERALL: Value error, use COUNT/PERIOD, e.g. "30/s", "20/min", "1/2s"'),
    ("BANGFU_DISPATCH__TELEGRAM_OVERALL", "0", "BANGFU_DISPATCH__TELEGRAM_OVERALL__COUNT: Input should be greater than or equal to 1"),
    ("BANGFU_POLICY", "notjson", "BANGFU_POLICY: Input should be a valid dictionary or instance of Policy"),
    ("BANGFU_POLICY__QUOTA_PRESET", "x", "BANGFU_POLICY__QUOTA_PRESET: Value error, unknown quota preset 'x' (known: 865321, 543, 一包三, 博白, 融水, 利州)"),
    ("BANGFU_POLICY__QUOTAS", '{"a": "x"}', "BANGFU_POLICY__QUOTAS__A: Input should be a valid integer, unable to parse string as an integer"),
    ("BANGFU_POLICY__QUIET_START", "25:00", "BANGFU_POLICY__QUIET_START: Input should be in a valid time format, hour value is outside expected range of 0-23"),
    ("BANGFU_POLICY__QUIET_START", "融水", "BANGFU_POLICY__QUIET_START: Input should be in a valid time format, invalid character in hour"),
    ("BANGFU_POLICY__QUIET_START", "86400", "BANGFU_POLICY__QUIET_START: Input should be in a valid time format, invalid time separator, expected `:`"),
    ("BANGFU_POLICY__STAGES__MONTHLY_CONTACT_DAYS", '["a"]', "BANGFU_POLICY__STAGES__MONTHLY_CONTACT_DAYS: Input should be a valid integer, unable to parse string as an integer"),
    ("BANGFU_POLICY__FESTIVALS", '[{"name": "x"}]', "BANGFU_POLICY__FESTIVALS: Value error, 节日 x: give exactly one of lunar date, solar term, 除夕"),
    ("BANGFU_POLICY__FARMING_SEASONS", '[{"name": "y", "start_term": "a", "end_term": "清明"}]', "BANGFU_POLICY__FARMING_SEASONS__START_TERM: Value error, unknown solar term 'a' (节气, e.g. 清明, 芒种, 秋分)"),
    ("BANGFU_POLICY__SCORE__GRADES", '{"优秀": "x"}', "BANGFU_POLICY__SCORE__GRADES__优秀: Input should be a valid number, unable to parse string as a number"),
    ("BANGFU_POLICY__PLANS__HELP_KINDS", "[]", "BANGFU_POLICY__PLANS__HELP_KINDS: Value error, help_kinds: a non-empty list of names of 1 to 20 characters"),
    ("BANGFU_POLICY__CATEGORIES__QUOTA_PRESET", "x", "BANGFU_POLICY__CATEGORIES__QUOTA_PRESET: Value error, unknown category quota preset 'x' (known: 保康, 保康2012)"),
]  # fmt: skip

FILE_CASES = [
    ("database_url = 5\n", "BANGFU_DATABASE_URL: Input should be a valid string"),
    ("database_pool_size = 1.5\n", "BANGFU_DATABASE_POOL_SIZE: Input should be a valid integer, got a number with a fractional part"),
    ("database_pool_size = [1, 2]\n", "BANGFU_DATABASE_POOL_SIZE: Input should be a valid integer"),
    ("channels = 5\n", "BANGFU_CHANNELS: Input should be a valid tuple"),
    ("bogus = 1\n", "BANGFU_BOGUS: Extra inputs are not permitted"),
    ("timezone = 5\nbogus = 1\n", "BANGFU_TIMEZONE: Input should be a valid string"),
    ("telegram = 'x'\n", "BANGFU_TELEGRAM: Input should be a valid dictionary or instance of TelegramSettings"),
    ("[log]\npersonal_data = 1.5\n", "BANGFU_LOG__PERSONAL_DATA: Input should be a valid boolean"),
    ("[dispatch]\ntelegram_overall = 5\n", "BANGFU_DISPATCH__TELEGRAM_OVERALL: Input should be a valid dictionary or instance of RateLimit"),
    ("[dispatch]\ntelegram_overall = {a = 1}\n", "BANGFU_DISPATCH__TELEGRAM_OVERALL__COUNT: Field required"),
    ("[policy.score]\nweights = {x = 1}\n", "BANGFU_POLICY__SCORE__WEIGHTS: Value error, unknown indicator 'x' (known: contact, visit, event, diary, appeal, satisfaction, deeds)"),
    ("[policy.categories]\nallowed = ['a']\nquota_preset = '保康'\n", "BANGFU_POLICY__CATEGORIES: Value error, quota category '贫困户' is not in allowed"),
    ('[policy.categories]\nallowed = ["保康", "保康"]\n', "BANGFU_POLICY__CATEGORIES__ALLOWED: Value error, a name is listed twice"),
    ("[policy.occasions]\ndays_before = [61]\n", "BANGFU_POLICY__OCCASIONS__DAYS_BEFORE: Value error, days_before must be between 0 and 60"),
]  # fmt: skip


@pytest.mark.parametrize(("var", "value", "said"), ENV_CASES)
def test_a_wrong_environment_value_is_refused_as_before(monkeypatch, var, value, said):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == f"配置错误 / bad setting {said}"


@pytest.mark.parametrize(("toml", "said"), FILE_CASES)
def test_a_wrong_file_value_is_refused_as_before(tmp_path, toml, said):
    (tmp_path / "bangfu.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == f"配置错误 / bad setting {said}"


def test_values_are_coerced_as_before(monkeypatch, tmp_path):
    """Text from the environment becomes numbers, flags and times as pydantic made them."""
    (tmp_path / "bangfu.toml").write_text(
        "[policy]\nquiet_start = 22:30:00\n[policy.stages]\nmonthly_contact_days = [27, 20, 20]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BANGFU_DATABASE_POOL_SIZE", " 1_2 ")
    monkeypatch.setenv("BANGFU_INVITE_TTL_HOURS", "48.0")
    monkeypatch.setenv("BANGFU_TELEGRAM__ENABLED", "Yes")
    monkeypatch.setenv("BANGFU_WEB__CONSOLE", "off")
    monkeypatch.setenv("BANGFU_DISPATCH__MARGIN_SECONDS", "1e-1")
    monkeypatch.setenv("BANGFU_POLICY__QUIET_END", "06:45:30.5")
    monkeypatch.setenv("BANGFU_LOG__LEVEL", "debug")
    s = load_settings()
    assert (s.database_pool_size, s.invite_ttl_hours) == (12, 48)
    assert (s.telegram.enabled, s.web.console, s.dispatch.margin_seconds) == (True, False, 0.1)
    assert str(s.policy.quiet_start) == "22:30:00"
    assert str(s.policy.quiet_end) == "06:45:30.500000"
    assert s.policy.stages.monthly_contact_days == [20, 27]
    assert s.log.level == "DEBUG"
