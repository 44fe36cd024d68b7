"""Property: whatever a cadre sends, in any order, the bot answers and never crashes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.i18n import t
from core.policy import Policy
from core.types import InboundKind
from handlers.context import Context
from tests.chat import Chat
from tests.seed import seed

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CRASH = t("flow.internal_error", "zh")

KNOWN_DATA = [
    "m:report",
    "m:diary",
    "m:event",
    "m:problem",
    "m:mine",
    "m:resolve",
    "m:undo",
    "m:correct",
    "h:1",
    "h:2",
    "h:5",
    "h:none",
    "h:-1",
    "h:abc",
    "pg:1",
    "pg:-3",
    "c:visit",
    "c:call",
    "c:death",
    "c:bogus",
    "d:0",
    "d:1",
    "d:9",
    "d:x",
    "t:政策",
    "t:done",
    "t:zzz",
    "skip",
    "ok",
    "e:date",
    "e:nope",
    "x",
    "resume",
    "p:1",
    "p:999999999999",
    "rep:h:1",
    "rep:h:5",
    "rep:h:zz",
    # forged or stale data that once crashed a step
    "pg:abc",
    "pg:99999999999999999999",
    "h:²",
    "h:99999999999999999999999",
    "d:99999999",
    "rep:h:²",
]
COMMANDS = [
    "report",
    "diary",
    "event",
    "problem",
    "resolve",
    "mine",
    "undo",
    "correct",
    "leave",
    "back",
    "help",
    "cancel",
    "menu",
    "start",
    "lang",
    "unknown",
]

inbounds = st.one_of(
    st.tuples(
        st.just("text"),
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                [
                    "张三",
                    "今天",
                    "昨天",
                    "11月31日",
                    "2026-02-30",
                    "完成",
                    "跳过",
                    "确认",
                    "今天给张三打了电话",
                    "明天去李四家走访",
                    "取消",
                    "帮助",
                    "5天",
                ]
            ),
            st.text(min_size=2100, max_size=6000, alphabet="啊x "),
            st.text(max_size=20, alphabet="张三电话\x00\ud83d\x07 "),  # unstorable characters
        ),
    ),
    st.tuples(st.just("button"), st.one_of(st.sampled_from(KNOWN_DATA), st.text(max_size=64))),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("unsupported"), st.just("")),
    st.tuples(st.just("photo"), st.text(min_size=1, max_size=30)),
    st.tuples(st.just("location"), st.just("")),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(inbounds, min_size=1, max_size=12))
async def test_random_inputs_never_crash(db, script):
    ctx = Context(db=db, clock=FixedClock(NOW), policy=Policy())
    chat = Chat(ctx, account="fuzz")
    if not hasattr(db, "_fuzz_seeded"):
        s = await seed(db, NOW)
        await chat.command("start", s.code)
        db._fuzz_seeded = True
    for kind, value in script:
        if kind == "text":
            replies = await chat.say(value)
        elif kind == "button":
            replies = await chat.press(value)
        elif kind == "command":
            replies = await chat.command(value)
        elif kind == "photo":
            replies = await chat.send(InboundKind.PHOTO, photo_ref=value)
        elif kind == "location":
            replies = await chat.send(InboundKind.LOCATION, latitude=22.3, longitude=109.9)
        else:
            replies = await chat.send(InboundKind.UNSUPPORTED)
        assert replies, f"no answer to {kind} {value[:30]!r}"
        assert all(CRASH not in r.text for r in replies), f"crashed on {kind} {value[:30]!r}"
        assert all(len(r.text) < 4000 for r in replies)
