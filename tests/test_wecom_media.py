"""Photos members send: media/get against the fake WeCom server, and the media directory."""

from __future__ import annotations

import hashlib
import stat

import aiohttp
import pytest

from bot.channels.wecom.api import WecomApi, WecomError
from bot.channels.wecom.media import PhotoNotSaved, PhotoSaver
from bot.config import ConfigError, load_settings
from bot.media import MAX_BYTES, MediaRefused, MediaStore
from tests.fakes.wecom_api import FakeWecom

GET = "/cgi-bin/media/get"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"x" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"y" * 500


async def _no_sleep(_s: float) -> None:
    return None


@pytest.fixture
async def fake():
    server = await FakeWecom().start()
    yield server
    await server.close()


@pytest.fixture
async def api(fake):
    async with aiohttp.ClientSession() as http:
        yield WecomApi(
            http,
            base_url=fake.url,
            corp_id=fake.corp_id,
            secret=fake.secret,
            agent_id=fake.agent_id,
            sleep=_no_sleep,
        )


async def test_media_get_returns_the_file_and_its_name(fake, api):
    fake.add_media("M1", JPEG)
    media = await api.get_media("M1", max_bytes=MAX_BYTES)
    assert (media.data, media.content_type, media.filename) == (JPEG, "image/jpeg", "M1.jpeg")


async def test_media_get_error_body_is_an_error_not_a_file(fake, api):
    with pytest.raises(WecomError) as exc:
        await api.get_media("NOPE", max_bytes=MAX_BYTES)
    assert exc.value.errcode == 40007


async def test_media_get_refreshes_an_expired_token_once(fake, api):
    fake.add_media("M1", JPEG)
    await api.get_media("M1", max_bytes=MAX_BYTES)
    fake.expire_tokens()
    assert (await api.get_media("M1", max_bytes=MAX_BYTES)).data == JPEG
    assert fake.count("/cgi-bin/gettoken") == 2


async def test_media_get_retries_when_wecom_is_busy(fake, api):
    fake.add_media("M1", JPEG)
    fake.inject[GET] = [-1]
    assert (await api.get_media("M1", max_bytes=MAX_BYTES)).data == JPEG
    assert fake.count(GET) == 2


async def test_media_get_refuses_an_oversized_file(fake, api):
    fake.add_media("BIG", JPEG * 10)
    with pytest.raises(WecomError, match="too large"):
        await api.get_media("BIG", max_bytes=len(JPEG))


async def test_saver_stores_by_content_and_once(fake, api, tmp_path):
    store = MediaStore(tmp_path / "media")
    fake.add_media("A", PNG, "image/png")
    fake.add_media("B", PNG, "image/png")  # the same picture sent twice
    saver = PhotoSaver(api, store)
    first, second = await saver.save("A"), await saver.save("B")
    digest = hashlib.sha256(PNG).hexdigest()
    assert first == second == f"media:{digest}.png"
    path = store.path_of(first)
    assert path == tmp_path / "media" / digest[:2] / f"{digest}.png"
    assert path.read_bytes() == PNG
    assert not stat.S_IMODE(path.stat().st_mode) & stat.S_IROTH  # personal data
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == [path]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"<html>login</html>", "text/html"),  # a proxy's login page, not a photo
        (b"%PDF-1.4 ...", "image/jpeg"),  # says image, is not
        (b"", "image/jpeg"),
    ],
)
async def test_saver_refuses_what_is_not_a_photo(fake, api, tmp_path, data, content_type):
    store = MediaStore(tmp_path / "media")
    fake.add_media("X", data, content_type)
    with pytest.raises(PhotoNotSaved):
        await PhotoSaver(api, store).save("X")
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.*"))


def test_store_refuses_a_file_over_the_limit(tmp_path):
    store = MediaStore(tmp_path, max_bytes=100)
    with pytest.raises(MediaRefused):
        store.save(JPEG, "image/jpeg")


def test_references_outside_the_store_are_not_paths(tmp_path):
    store = MediaStore(tmp_path)
    assert store.path_of("media:../../etc/passwd.jpg") is None
    assert store.path_of("wecom-media:M1") is None


def test_media_dir_setting_and_an_unwritable_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("BANGFU_MEDIA_DIR", str(tmp_path / "photos"))
    assert load_settings().media_dir == str(tmp_path / "photos")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="BANGFU_MEDIA_DIR"):
        MediaStore(blocker / "media").check()
