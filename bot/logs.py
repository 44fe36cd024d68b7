"""Logging set-up for the bot process: one format, and no secrets or personal data written out.

Three layers keep cadres' data and secrets out of the log, whatever the level:
- libraries that log payloads at DEBUG/INFO (the Telegram library logs every API call with
  its parameters, httpx every URL, SQLAlchemy and aiosqlite SQL parameters and result rows)
  are held at WARNING, and below WARNING only our own packages are let through;
- the database engine hides SQL parameters in its messages and errors (storage/db.py), and
  tracebacks keep their frames and exception types but not the exceptions' messages (a
  ValueError may quote what a cadre typed, a database error the row it refused);
- each record is scrubbed of the settings' secrets, secrets in URLs (a WeCom robot's
  `key=`, an `access_token=`) and mobile numbers before any handler formats it.
`BANGFU_LOG__PERSONAL_DATA=true` lifts the first two, for one debugging session.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.engine import make_url

from bot.config import Settings

REDACTED = "[REDACTED]"

# Loggers of ours (and of libraries that log no payloads) whose INFO and DEBUG records pass.
OWN_LOGGERS = (
    "bangfu",
    "bot",
    "handlers",
    "reminders",
    "storage",
    "core",
    "apscheduler",
    "alembic",
)
# Libraries that log request bodies, URLs, SQL parameters or rows below WARNING.
PAYLOAD_LOGGERS = (
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "aiohttp.client",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "matplotlib",
    "PIL",
)
_URL_SECRET = re.compile(r"(?i)\b(key|access_token|corpsecret|secret|token)=[^&\s\"'<>]+")
# A mainland mobile number standing alone (not inside a longer run of digits).
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


class Redact(logging.Filter):
    """Replaces secrets and mobile numbers in a record's message and traceback text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_SECRET.sub(lambda m: f"{m[1]}={REDACTED}", text)
        return _MOBILE.sub("1**********", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


class OwnBelowWarning(logging.Filter):
    """Below WARNING, only records of our own packages: a library's DEBUG may hold payloads."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        name = record.name
        return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class WithholdExceptionText(logging.Filter):
    """Tracebacks with their frames and exception types, without the exceptions' messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = bare_traceback(record.exc_info[1])
        return True


def bare_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and its causes, each exception's message withheld."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.format_tb(current.__traceback__)
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        parts.append("".join(frames) + f"{name}: [message withheld]")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "Traceback (most recent call last):\n" + "\n\nCaused by:\n".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value in the settings, including the password of the database URL."""
    tg, wc = settings.telegram, settings.wecom
    values = [
        tg.token.get_secret_value(),
        tg.webhook_secret.get_secret_value(),
        wc.secret.get_secret_value(),
        wc.token.get_secret_value(),
        wc.encoding_aes_key.get_secret_value(),
    ]
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return values


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Log to `stream` (stderr) at the configured level and format; returns the handler."""
    config = settings.log
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if config.format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    if not config.personal_data:
        handler.addFilter(OwnBelowWarning())
        handler.addFilter(WithholdExceptionText())
    handler.addFilter(Redact(settings_secrets(settings)))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(config.level)
    floor = logging.DEBUG if config.personal_data else logging.WARNING
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(floor, root.level))
    # httpx logs every request at INFO: one line per long poll is noise even when debugging.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    return handler
