"""Login throttling for Gradio's auth: each failure waits, and repeated failures lock the name out for a while."""
from __future__ import annotations

import asyncio
import hmac
import logging
import time

log = logging.getLogger("app")


def login_guard(users: list[tuple[str, str]], max_failures: int = 5, lockout_s: float = 60.0,
                delay_s: float = 1.0, clock=time.monotonic):
    """An async auth callable for demo.launch(auth=…).

    Every wrong password waits delay_s (without blocking the server: Gradio awaits coroutine functions);
    after max_failures in a row a user name is refused for lockout_s, doubling on each further lockout, even
    with the right password. Unknown names count too, so guessing names gains nothing.
    """
    accounts = dict(users)
    failures: dict[str, int] = {}
    locked_until: dict[str, float] = {}
    lockouts: dict[str, int] = {}

    async def auth(username: str, password: str) -> bool:  # a plain coroutine function: Gradio checks for one
        now = clock()
        if locked_until.get(username, 0) > now:
            log.warning("登录被拒：用户 %r 因多次失败被锁定，还剩 %.0f 秒", username, locked_until[username] - now)
            await asyncio.sleep(delay_s)
            return False
        want = accounts.get(username)
        ok = want is not None and hmac.compare_digest(password.encode(), want.encode())
        if ok:
            failures.pop(username, None)
            lockouts.pop(username, None)
            return True
        failures[username] = failures.get(username, 0) + 1
        if failures[username] >= max_failures:
            lockouts[username] = lockouts.get(username, 0) + 1
            locked_until[username] = now + lockout_s * 2 ** (lockouts[username] - 1)
            failures[username] = 0
            log.warning("登录失败 %d 次：用户 %r 锁定 %.0f 秒", max_failures, username, locked_until[username] - now)
        await asyncio.sleep(delay_s)
        return False

    return auth
