"""Secrets never reach the log, whatever a library puts in its messages."""

from __future__ import annotations

import io
import logging

from bot.config import Settings, TelegramSettings
from bot.logs import REDACTED, Redact, settings_secrets

TOKEN = "123456:AAE-secret-token"


def _logger_with(redact: Redact) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(redact)
    logger = logging.getLogger(f"test_logs.{id(out)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_token_in_message_args_and_traceback_is_redacted() -> None:
    logger, out = _logger_with(Redact([TOKEN]))
    logger.debug("POST http://127.0.0.1/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("send failed")
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count(REDACTED) == 2 and "getMe" in text and "send failed" in text


def test_settings_secrets_cover_token_webhook_secret_and_db_password() -> None:
    settings = Settings(
        database_url="postgresql://bot:db-pass-123@db/bangfu",
        telegram=TelegramSettings(token=TOKEN, webhook_secret="hook-secret-456"),
    )
    found = settings_secrets(settings)
    assert {TOKEN, "hook-secret-456", "db-pass-123"} <= set(found)
