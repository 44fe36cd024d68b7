"""WeCom errcodes → the dispatcher's SendError (wait, retry later, give up, blocked)."""

from __future__ import annotations

from bot.channels.base import SendError
from bot.channels.wecom.api import BUSY, SECRET_INVALID, TOKEN_INVALID, WecomError

# Seconds to wait: WeCom sends no retry-after, so these follow its documented windows.
RETRY_AFTER = {45009: 60.0, 45033: 5.0, BUSY: 5.0}
# The member left, was removed from the app's visible range or never existed.
USER_GONE = {81013, 60111, 40003, 46004}
# The group robot was removed, disabled, or taken out of its group.
ROBOT_GONE = {93000, 93004, 93008}
# Set-up mistakes an admin fixes (secret, IP allow-list, permissions): retry, but slowly.
CONFIG = SECRET_INVALID | TOKEN_INVALID | {60020, 48002, 40056, 41004}
CONFIG_RETRY_AFTER = 300.0


def to_send_error(err: WecomError, *, robot: bool = False) -> SendError:
    """What the dispatcher should do about a failed send."""
    message = f"wecom errcode={err.errcode}" if err.errcode is not None else f"wecom {err.errmsg}"
    code = err.errcode
    label = "network" if code is None else str(code)
    if code in RETRY_AFTER:
        return SendError(message, retry_after=RETRY_AFTER[code], code=label)
    if code is None:
        return SendError(message, code=label)  # network or HTTP trouble: back off
    if code in (ROBOT_GONE if robot else USER_GONE):
        return SendError(message, permanent=True, blocked=True, code=label)
    if code in CONFIG:
        return SendError(message, retry_after=CONFIG_RETRY_AFTER, code=label)
    return SendError(message, permanent=True, code=label)  # WeCom refused the content itself
