"""Logging set-up for the bot process: one format, and secrets never written out.

Some libraries log URLs that carry secrets (every Bot API URL contains the bot token), so
each record is redacted before any handler formats it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.config import Settings

REDACTED = "[REDACTED]"


class Redact(logging.Filter):
    """Replaces each secret in a record's message (and traceback text) with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

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


def setup_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, with the settings' secrets redacted."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact = Redact(settings_secrets(settings))
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # httpx logs every request at INFO: one line per long poll is noise.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
