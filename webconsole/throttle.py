"""Sign-in throttling: too many failures for one account name or one address → wait.

Counted per submitted name whether or not the account exists, so the answer does not
tell an attacker which names are real. Kept in memory: one process serves the console.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta

from core.clock import Clock

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(
        self, clock: Clock, *, per_account: int = PER_ACCOUNT, per_address: int = PER_ADDRESS
    ) -> None:
        self.clock = clock
        self.limits = {"account": per_account, "address": per_address}
        self._fails: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[datetime]:
        q = self._fails[key]
        since = self.clock.now() - WINDOW
        while q and q[0] <= since:
            q.popleft()
        return q

    def wait_minutes(self, account: str, address: str) -> int:
        """0 when a try is allowed now, else the minutes until the oldest failure ages out."""
        wait = timedelta(0)
        for kind, value in (("account", account.strip().lower()), ("address", address)):
            q = self._recent((kind, value))
            if len(q) >= self.limits[kind]:
                wait = max(wait, q[0] + WINDOW - self.clock.now())
        return 0 if wait <= timedelta(0) else int(wait.total_seconds() // 60) + 1

    def failed(self, account: str, address: str) -> None:
        now = self.clock.now()
        if len(self._fails) > MAX_KEYS:  # many names tried: forget those gone quiet
            for key in [k for k in self._fails if not self._recent(k)]:
                del self._fails[key]
        self._fails[("account", account.strip().lower())].append(now)
        self._fails[("address", address)].append(now)

    def succeeded(self, account: str) -> None:
        self._fails.pop(("account", account.strip().lower()), None)
