"""The county office's web console: ledgers (台账), look-ups and exports, server-rendered.

`console_app(...)` builds an aiohttp sub-application mounted at /console by `bangfu run`
(on the bot's web port) and by `bangfu web` (alone). Every page is scoped to the signed-in
account's unit subtree; anything outside it answers 404.
"""
