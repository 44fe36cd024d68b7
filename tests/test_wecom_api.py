"""The app API client and the "wecom" sender against the fake WeCom server on loopback."""

from __future__ import annotations

import aiohttp
import pytest

from bot.channels.base import SendError
from bot.channels.wecom.api import WecomApi, WecomError
from bot.channels.wecom.sender import AppSender
from core.types import Button, Reply
from tests.fakes.wecom_api import FakeWecom

SEND = "/cgi-bin/message/send"
TOKEN = "/cgi-bin/gettoken"


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def _no_sleep(_s: float) -> None:
    return None


@pytest.fixture
async def fake():
    server = await FakeWecom().start()
    yield server
    await server.close()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def ticker():
    return Ticker()


def _api(fake: FakeWecom, http, ticker, secret: str | None = None) -> WecomApi:
    return WecomApi(
        http,
        base_url=fake.url,
        corp_id=fake.corp_id,
        secret=secret or fake.secret,
        agent_id=fake.agent_id,
        monotonic=ticker,
        sleep=_no_sleep,
    )


async def test_token_is_fetched_once_and_reused(fake, http, ticker):
    api = _api(fake, http, ticker)
    await api.send_text("zhangsan", "一")
    await api.send_text("zhangsan", "二")
    assert fake.count(TOKEN) == 1
    assert fake.texts_to("zhangsan") == ["一", "二"]


async def test_token_is_refreshed_before_it_expires(fake, http, ticker):
    api = _api(fake, http, ticker)
    await api.send_text("zhangsan", "一")
    ticker.t = 7200 - 299  # inside the 5-minute margin
    await api.send_text("zhangsan", "二")
    assert fake.count(TOKEN) == 2
    first, second = [c.query["access_token"] for c in fake.calls if c.path == SEND]
    assert first != second


@pytest.mark.parametrize("kind", ["expired", "invalid"])
async def test_rejected_token_is_refreshed_once_and_the_message_delivered(fake, http, ticker, kind):
    api = _api(fake, http, ticker)
    await api.send_text("zhangsan", "一")
    if kind == "expired":
        fake.expire_tokens()  # WeCom answers 42001
    else:
        fake._tokens.clear()  # WeCom answers 40014
    await api.send_text("zhangsan", "二")
    assert fake.texts_to("zhangsan") == ["一", "二"]
    assert fake.count(TOKEN) == 2


async def test_bad_secret_is_not_retried_in_a_loop(fake, http, ticker):
    api = _api(fake, http, ticker, secret="wrong")
    sender = AppSender(api)
    for _ in range(5):
        with pytest.raises(SendError) as exc:
            await sender.send("zhangsan", Reply(text="你好"))
        assert not exc.value.permanent and exc.value.retry_after == 300
    assert fake.count(TOKEN) == 1  # 40001 remembered; no gettoken storm
    assert fake.count(SEND) == 0
    ticker.t = 61  # after the pause, one new attempt
    with pytest.raises(SendError):
        await sender.send("zhangsan", Reply(text="你好"))
    assert fake.count(TOKEN) == 2


async def test_busy_is_retried_with_backoff(fake, http, ticker):
    fake.inject[SEND] = [-1, -1]
    await _api(fake, http, ticker).send_text("zhangsan", "你好")
    assert fake.texts_to("zhangsan") == ["你好"]
    assert fake.count(SEND) == 3


async def test_rate_limit_tells_the_dispatcher_to_wait(fake, http, ticker):
    fake.inject[SEND] = [45009]
    with pytest.raises(SendError) as exc:
        await AppSender(_api(fake, http, ticker)).send("zhangsan", Reply(text="你好"))
    assert exc.value.retry_after == 60 and not exc.value.permanent
    assert fake.count(SEND) == 1  # not hammered


async def test_unknown_member_is_reported_blocked(fake, http, ticker):
    with pytest.raises(SendError) as exc:
        await AppSender(_api(fake, http, ticker)).send("wangwu", Reply(text="你好"))
    assert exc.value.blocked and exc.value.permanent


async def test_refused_content_is_permanent(fake, http, ticker):
    fake.inject[SEND] = [45002]
    with pytest.raises(SendError) as exc:
        await AppSender(_api(fake, http, ticker)).send("zhangsan", Reply(text="x"))
    assert exc.value.permanent and not exc.value.blocked


async def test_unreachable_server_is_a_retryable_error(http, ticker):
    api = WecomApi(
        http,
        base_url="http://127.0.0.1:9",
        corp_id="c",
        secret="s",
        agent_id=1,
        monotonic=ticker,
        sleep=_no_sleep,
    )
    with pytest.raises(SendError) as exc:
        await AppSender(api).send("zhangsan", Reply(text="你好"))
    assert not exc.value.permanent and exc.value.retry_after is None
    assert "corpsecret" not in str(exc.value) and "127.0.0.1" not in str(exc.value)


async def test_buttons_become_cards_of_at_most_six(fake, http, ticker):
    rows = [[Button(f"农户{i}", f"hh:{i}")] for i in range(13)] + [[Button("取消", "cancel")]]
    reply = Reply.with_buttons("选择要报告的农户", rows)
    await AppSender(_api(fake, http, ticker)).send("zhangsan", reply)
    cards = fake.cards_to("zhangsan")
    assert [len(c["button_list"]) for c in cards] == [5, 5, 4]
    keys = [b["key"] for c in cards for b in c["button_list"]]
    assert keys == [f"hh:{i}" for i in range(13)] + ["cancel"]
    assert cards[0]["main_title"]["title"] == "选择要报告的农户"
    assert cards[0]["main_title"]["desc"] == "第 1/3 页"
    assert len({c["task_id"] for c in cards}) == 3


async def test_long_prompt_goes_as_text_before_the_card(fake, http, ticker):
    text = "本月还需联系：\n" + "\n".join(f"{i}. 农户{i} 旧门村" for i in range(30))
    reply = Reply.with_buttons(text, [[Button("确认", "ok"), Button("取消", "cancel")]])
    await AppSender(_api(fake, http, ticker)).send("zhangsan", reply)
    sent = fake.texts_to("zhangsan")
    assert sent[0] == text and sent[1] == "请选择："
    assert [b["key"] for b in fake.cards_to("zhangsan")[0]["button_list"]] == ["ok", "cancel"]


async def test_long_text_is_split_under_2048_bytes(fake, http, ticker):
    text = "\n".join(
        f"第{i}行：今天走访了农户，了解到玉米收成不错，还需要帮助联系销路。" for i in range(100)
    )
    await AppSender(_api(fake, http, ticker)).send("zhangsan", Reply(text=text))
    parts = fake.texts_to("zhangsan")
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == text


async def test_clicked_card_is_disabled_once(fake, http, ticker):
    api = _api(fake, http, ticker)
    sender = AppSender(api)
    await sender.send(
        "zhangsan", Reply.with_buttons("走访还是电话？", [[Button("走访", "k:visit")]])
    )
    code = fake.response_code_of(fake.cards_to("zhangsan")[0]["task_id"])
    assert await sender.disable_card("zhangsan", code) is True
    assert fake.card_updates[0]["button"]["replace_name"] == "已选择 ✓"
    assert await sender.disable_card("zhangsan", code) is False  # single-use code


async def test_image_is_uploaded_then_sent(fake, http, ticker):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    await AppSender(_api(fake, http, ticker)).send(
        "zhangsan", Reply(text="本周图表", image_png=png)
    )
    kinds = [m["msgtype"] for m in fake.sent]
    assert kinds == ["text", "image"]
    assert fake.count("/cgi-bin/media/upload") == 1


async def test_markdown_message(fake, http, ticker):
    await _api(fake, http, ticker).send_markdown("zhangsan", "**本周**")
    assert fake.sent[0]["markdown"]["content"] == "**本周**"


async def test_errcode_is_surfaced(fake, http, ticker):
    with pytest.raises(WecomError) as exc:
        await _api(fake, http, ticker).send_text("zhangsan", "")
    assert exc.value.errcode == 44004


async def test_card_texts_follow_each_members_language(fake, http, ticker):
    languages = {"zhangsan": "en", "lisi": None}  # lisi is not bound: the default applies

    async def language_of(userid: str) -> str | None:
        return languages[userid]

    sender = AppSender(_api(fake, http, ticker), lang="zh", language_of=language_of)
    text = "本月还需联系：\n" + "\n".join(f"{i}. 农户{i} 旧门村" for i in range(30))
    rows = [[Button(f"农户{i}", f"hh:{i}")] for i in range(8)]
    for user in ("zhangsan", "lisi"):
        await sender.send(user, Reply.with_buttons(text, rows))
    assert [c["main_title"]["title"] for c in fake.cards_to("zhangsan")] == [
        "Please choose:",
        "More options",
    ]
    assert [c["main_title"]["title"] for c in fake.cards_to("lisi")] == ["请选择：", "更多选项"]
    code = fake.response_code_of(fake.cards_to("zhangsan")[0]["task_id"])
    assert await sender.disable_card("zhangsan", code) is True
    assert fake.card_updates[-1]["button"]["replace_name"] == "Chosen ✓"
