"""Photos a member sends: fetched from WeCom (which deletes them after three days) and kept.

The callback calls `PhotoSaver.save(media_id)` before the message reaches the core, so the
core only ever sees a durable reference ("media:<sha256>.<ext>").
"""

from __future__ import annotations

import asyncio
import logging

from bot.channels.wecom.api import WecomApi, WecomError
from bot.media import MediaRefused, MediaStore

log = logging.getLogger(__name__)


class PhotoNotSaved(Exception):
    """The photo could not be fetched or stored; the reason is logged, not shown."""


class PhotoSaver:
    def __init__(self, api: WecomApi, store: MediaStore) -> None:
        self.api = api
        self.store = store

    async def save(self, media_id: str) -> str:
        """Download the photo behind `media_id` into the media directory; its reference."""
        if not media_id:
            raise PhotoNotSaved("no media id")
        try:
            media = await self.api.get_media(media_id, max_bytes=self.store.max_bytes)
            # File writes (and fsync) off the event loop: other members keep being served.
            return await asyncio.to_thread(self.store.save, media.data, media.content_type)
        except WecomError as exc:
            log.warning("wecom photo not fetched: errcode=%s %s", exc.errcode, exc.errmsg[:60])
            raise PhotoNotSaved("fetch") from None
        except MediaRefused as exc:
            log.warning("wecom photo refused: %s", exc)
            raise PhotoNotSaved("refused") from None
        except OSError as exc:
            # A full disk or wrong permissions: the admin must act, every photo will fail.
            log.error("wecom photo not stored in %s: %s", self.store.root, exc.strerror)
            raise PhotoNotSaved("disk") from None
