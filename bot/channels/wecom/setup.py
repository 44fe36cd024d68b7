"""The self-built app's settings checked, and its API client built from them.

Apart from the channel so that `bangfu wecom check|sync` need not import the bot around it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.wecom.api import PlainHttp, WecomApi
from bot.channels.wecom.crypto import aes_key
from bot.config import ConfigError

if TYPE_CHECKING:
    import aiohttp

    from bot.config import WecomSettings


def bad_setting(name: str, what: str) -> ConfigError:
    return ConfigError(f"配置错误 / bad setting BANGFU_WECOM__{name}: {what}")


def check_wecom_settings(settings: WecomSettings) -> None:
    """Refuse to start WeCom with settings that cannot work, naming the setting."""
    if not settings.corp_id:
        raise bad_setting("CORP_ID", "required (我的企业 → 企业信息 → 企业ID)")
    if settings.agent_id <= 0:
        raise bad_setting("AGENT_ID", "required (应用管理 → 自建应用 → AgentId)")
    for name, value in (("SECRET", settings.secret), ("TOKEN", settings.token)):
        if not value.get_secret_value():
            raise bad_setting(name, "required")
    try:
        aes_key(settings.encoding_aes_key.get_secret_value())
    except ValueError as exc:
        raise bad_setting("ENCODING_AES_KEY", str(exc)) from None
    if not settings.callback_path.startswith("/"):
        raise bad_setting("CALLBACK_PATH", "a path such as /wecom/callback")
    if not settings.api_url.startswith(("https://", "http://")):
        raise bad_setting("API_URL", "a URL such as https://qyapi.weixin.qq.com")


def api_for(settings: WecomSettings, session: aiohttp.ClientSession | PlainHttp) -> WecomApi:
    """The self-built app's API client for these settings, on `session`."""
    return WecomApi(
        session,
        base_url=settings.api_url,
        corp_id=settings.corp_id,
        secret=settings.secret.get_secret_value(),
        agent_id=settings.agent_id,
    )
