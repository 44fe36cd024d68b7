"""Settings from BANGFU_* environment variables and an optional TOML file.

Nested settings use "__": BANGFU_TELEGRAM__TOKEN, BANGFU_POLICY__BACKDATE_DAYS. The TOML
file is BANGFU_CONFIG (default ./bangfu.toml when present). Environment beats the file.
A wrong value stops start-up with one message naming the setting (`ConfigError`).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import types
import typing
from collections import abc
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.policy import Policy
from core.validated import (
    Field,
    Model,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

# Variables that are not settings but are read under the same prefix.
NOT_SETTINGS = ("BANGFU_CONFIG", "BANGFU_TEST_")


class ConfigError(Exception):
    """A setting is wrong; the message names it and says what is expected."""


class NoDecode:
    """Marks a list or model setting whose environment value is not JSON ("20/min", "a,b")."""


class TelegramSettings(Model):
    enabled: bool = False
    token: SecretStr = SecretStr("")
    # The Bot API base, e.g. http://127.0.0.1:8081/bot for a local Bot API server.
    api_url: str = "https://api.telegram.org/bot"
    file_url: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""  # the public HTTPS URL Telegram posts to
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr = SecretStr("")
    bot_username: str = ""
    poll_timeout: int = Field(default=10, ge=0, le=60)  # long-poll seconds (polling mode)


class WecomSettings(Model):
    enabled: bool = False
    corp_id: str = ""
    agent_id: int = 0
    secret: SecretStr = SecretStr("")
    token: SecretStr = SecretStr("")
    encoding_aes_key: SecretStr = SecretStr("")
    callback_path: str = "/wecom/callback"
    api_url: str = "https://qyapi.weixin.qq.com"


class LogSettings(Model):
    """What the process logs, and how. Personal data stays out unless `personal_data`."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"  # json: one object a line, for log collectors
    # For one debugging session only: lets through library request logs (message texts,
    # names, phone numbers) and SQL parameters. See README "Logs".
    personal_data: bool = False

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class WebSettings(Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    console: bool = True  # the office's web console under /console
    # 32 random bytes, base64: keeps console sign-ins valid across restarts. Empty: a fresh
    # key per start (everyone signs in again after a restart).
    session_key: SecretStr = SecretStr("")
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)


class ScheduleSettings(Model):
    enabled: bool = True
    sweep_time: str = "09:00"  # daily reminder sweep
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: str = "08:30"
    review_day: int = Field(default=1, ge=1, le=28)  # monthly review on this day
    review_time: str = "08:30"
    dispatch_interval_seconds: float = Field(default=2.0, gt=0, le=600)

    @field_validator("sweep_time", "digest_time", "review_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            h, m = (int(x) for x in v.split(":"))
        except ValueError:
            raise ValueError("use HH:MM, e.g. 09:00") from None
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError("use HH:MM, e.g. 09:00")
        return f"{h:02d}:{m:02d}"


_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}


class RateLimit(Model):
    """At most `count` messages in any window of `per_seconds`.

    Written "COUNT/PERIOD" in TOML or the environment: "30/s", "20/min", "1/1s", "20/60s".
    """

    count: int = Field(ge=1, le=100_000)
    per_seconds: float = Field(gt=0, le=86_400)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        count, _, period = v.replace(" ", "").partition("/")
        number = period.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = period[len(number) :] or "s"
        try:
            return {"count": int(count), "per_seconds": float(number or 1) * _UNITS[unit]}
        except (ValueError, KeyError):
            raise ValueError('use COUNT/PERIOD, e.g. "30/s", "20/min", "1/2s"') from None


# NoDecode: the environment gives "20/min", not JSON.
Limit = Annotated[RateLimit, NoDecode]


class DispatchSettings(Model):
    """The outbox dispatcher: platform limits, retries and the claim lease.

    Limits are per process: with several dispatcher processes, divide them among them.
    """

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_seconds: float = Field(default=10.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    # A claimed row not finished within the lease (the worker died) is claimed again.
    lease_seconds: float = Field(default=300.0, ge=10, le=86_400)
    # A row that would wait longer than this for its rate limit goes back to the queue.
    max_wait_seconds: float = Field(default=20.0, ge=0, le=3600)
    batch_size: int = Field(default=100, ge=1, le=10_000)
    concurrency: int = Field(default=8, ge=1, le=256)
    telegram_overall: Limit = RateLimit.model_validate("30/s")
    telegram_per_chat: Limit = RateLimit.model_validate("1/s")
    telegram_per_group: Limit = RateLimit.model_validate("20/min")
    wecom_robot_per_key: Limit = RateLimit.model_validate("20/min")
    wecom_app_overall: Limit = RateLimit.model_validate("600/min")
    wecom_app_per_user: Limit = RateLimit.model_validate("30/min")
    # Seconds added to every window: the platform's clock and ours are not the same clock.
    margin_seconds: float = Field(default=0.25, ge=0, le=60)
    # An answer to a cadre is retried in place (with backoff) this long, then goes to the
    # outbox and is sent later, in order.
    reply_deadline_seconds: float = Field(default=15.0, ge=0, le=600)
    # A day's reminder round is derived as it is sent (reminders/rounds.py): the next batch
    # of cadres' reminders when fewer than this many wait to be sent.
    reminders_ahead: int = Field(default=500, ge=1, le=100_000)

    @property
    def history_seconds(self) -> float:
        """How far back sends still count against some limit."""
        limits = (
            self.telegram_overall,
            self.telegram_per_chat,
            self.telegram_per_group,
            self.wecom_robot_per_key,
            self.wecom_app_overall,
            self.wecom_app_per_user,
        )
        return max(lim.per_seconds for lim in limits) + self.margin_seconds

    @model_validator(mode="after")
    def _consistent(self) -> DispatchSettings:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds must be >= backoff_base_seconds")
        if self.max_wait_seconds * 2 >= self.lease_seconds:
            raise ValueError("lease_seconds must be more than twice max_wait_seconds")
        return self


class Settings(Model):
    """Every setting. `Settings(**values)` reads the TOML file and the BANGFU_* environment
    (values given beat the environment, which beats the file), as pydantic-settings did with
    env_prefix="BANGFU_" and env_nested_delimiter="__" — read here by a few lines instead of
    that package, whose import was a tenth of an admin command's start."""

    forbid_extra = True

    def __init__(self, **values: Any) -> None:
        merged = _read_toml()
        _deep_update(merged, _read_env(type(self), os.environ))
        _deep_update(merged, values)
        super().__init__(**merged)

    database_url: str = "sqlite+aiosqlite:///bangfu.db"
    # PostgreSQL only: the schema to use (search_path), when several deployments share
    # one database; empty means the server's default (public). The bot, `bangfu db
    # upgrade` and every admin command use it (bot/database.py); ignored on SQLite.
    database_schema: str = ""
    # PostgreSQL only: connections a process keeps for handling (as many again may open
    # under load) and, as many again, for conversation locks: up to 3× this per process.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    log: LogSettings = Field(default_factory=LogSettings)
    # Photos kept as evidence (WeCom deletes a sent photo after three days). Back it up
    # together with the database: contacts.photo_refs point into it.
    media_dir: str = "./media"
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    wecom: WecomSettings = Field(default_factory=WecomSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    policy: Policy = Field(default_factory=Policy)
    # The parts `bangfu run` builds, as importable modules with a `plug(host)` (or
    # "module:function"); a channel whose own settings leave it off builds nothing.
    # One line here adds a channel or a service. Comma-separated in the environment.
    channels: Annotated[tuple[str, ...], NoDecode] = (
        "bot.channels.telegram_app",
        "bot.channels.wecom.channel",
    )
    services: Annotated[tuple[str, ...], NoDecode] = (
        "bot.services",
        "bot.metrics",
        "webconsole.serve",
    )

    @field_validator("channels", "services", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(name.strip() for name in v.split(",") if name.strip())
        return v

    @field_validator("database_schema")
    @classmethod
    def _schema_name(cls, v: str) -> str:
        # Used unquoted in search_path, pg_dump's --schema and CREATE SCHEMA.
        if v and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", v):
            raise ValueError(
                f"{v!r} is not a schema name: lowercase letters, digits and _, up to 63"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}, e.g. Asia/Shanghai") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _toml_path() -> Path | None:
    explicit = os.environ.get("BANGFU_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"配置文件不存在 / config file not found: BANGFU_CONFIG={explicit}")
        return path
    default = Path("bangfu.toml")
    return default if default.is_file() else None


def _read_toml() -> dict[str, Any]:
    path = _toml_path()
    if path is None:
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _deep_update(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Merge `more` into `into`, nested tables key by key (pydantic-settings' deep_update)."""
    for key, value in more.items():
        old = into.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged = dict(old)
            _deep_update(merged, value)
            into[key] = merged
        else:
            into[key] = value


def _read_env(model: type[Model], environ: typing.Mapping[str, str]) -> dict[str, Any]:
    """BANGFU_A__B=v → {"a": {"b": v}} for the settings of `model` (names in any case).

    A value for a list, table or model setting is JSON unless the setting is NoDecode; what
    does not parse is passed on as text, so validation names the setting.
    """
    out: dict[str, Any] = {}
    # Shorter names first: BANGFU_POLICY (a whole table) before BANGFU_POLICY__X inside it.
    for var, value in sorted(environ.items(), key=lambda kv: len(kv[0])):
        name = var.lower()
        if not name.startswith("bangfu_"):
            continue
        path = name.removeprefix("bangfu_").split("__")
        if path[0] not in model.model_fields:
            continue
        decoded = _decode(_field_at(model, path), value)
        here = out
        for key in path[:-1]:
            nested = here.get(key)
            if not isinstance(nested, dict):
                nested = here[key] = {}
            here = nested
        old = here.get(path[-1])
        if isinstance(old, dict) and isinstance(decoded, dict):
            _deep_update(decoded, old)
        here[path[-1]] = decoded
    return out


def _field_at(model: Any, path: list[str]) -> Any:
    """The field that `path` names under `model`, or None."""
    field = None
    for part in path:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        field = fields[part]
        model = field.annotation
    return field


def _decode(field: Any, value: str) -> Any:
    if field is None or NoDecode in field.metadata or not _complex(field.annotation):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _complex(annotation: Any) -> bool:
    """A list, tuple, set, table or model (alone or in a union), as pydantic-settings sees it."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_complex(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is Annotated:
        return _complex(typing.get_args(annotation)[0])
    kind = origin or annotation
    if not isinstance(kind, type) or issubclass(kind, str | bytes):
        return False
    containers = (list, tuple, set, frozenset, dict, abc.Mapping, abc.Sequence)
    return issubclass(kind, Model) or issubclass(kind, containers)


def _known(path: list[str]) -> bool:
    """Whether BANGFU_A__B names a setting: each part a field of the model above it."""
    model: Any = Settings
    for part in path:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return False
        model = fields[part].annotation
    return True


def _unknown_variable(env: dict[str, str]) -> str | None:
    """The first BANGFU_* variable that names no setting (a typo is ignored silently else)."""
    for var in sorted(env):
        if not var.startswith("BANGFU_") or var.startswith(NOT_SETTINGS):
            continue
        path = var.removeprefix("BANGFU_").lower().split("__")
        if not _known(path):
            return var
    return None


def _suggest(var: str) -> str:
    """BANGFU_TELEGRAM_TOKEN → BANGFU_TELEGRAM__TOKEN when that is a setting."""
    head, _, rest = var.removeprefix("BANGFU_").partition("_")
    if rest and _known([head.lower(), rest.lower()]):
        return f"BANGFU_{head}__{rest}"
    return ""


def _check_names(env: dict[str, str]) -> None:
    var = _unknown_variable(env)
    if var is None:
        return
    better = _suggest(var)
    hint = f"，应为 {better} / did you mean {better}?" if better else " / no such setting"
    raise ConfigError(f"配置错误 / unknown setting {var}: 没有这个设置{hint}")


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    name = "BANGFU_" + "__".join(str(p).upper() for p in err["loc"] if not isinstance(p, int))
    return f"配置错误 / bad setting {name}: {err['msg']}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and TOML file; raises ConfigError naming the setting."""
    _check_names(dict(os.environ))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
