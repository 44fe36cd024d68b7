"""Replies as JSON payloads, for outbox rows and anything else that stores a message."""

from __future__ import annotations

import base64
from typing import Any

from core.reminder_text import REMINDER, render_reminder
from core.types import Button, Reply


def reply_to_payload(reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        payload["buttons"] = [
            [{"label": b.label, "data": b.data} for b in row] for row in reply.buttons
        ]
    if reply.image_png is not None:
        payload["image_b64"] = base64.b64encode(reply.image_png).decode("ascii")
    return payload


def payload_to_reply(payload: dict[str, Any]) -> Reply:
    """The reply a payload stores; a reminder stored as its facts is rendered now."""
    if REMINDER in payload:
        payload = render_reminder(payload[REMINDER])
    rows = [
        [Button(label=str(b["label"]), data=str(b["data"])) for b in row]
        for row in payload.get("buttons", [])
    ]
    image = payload.get("image_b64")
    return Reply(
        text=str(payload.get("text", "")),
        buttons=tuple(tuple(r) for r in rows if r),
        image_png=base64.b64decode(image) if image else None,
    )
