"""Library calls off the event loop, under the request deadline.

The work runs in a worker thread (`anyio.to_thread.run_sync`) and is awaited with `asyncio.wait_for`.
`abandon_on_cancel=True` matters: without it a timed-out request would still wait for the thread.
A thread that is abandoned finishes its call in the background; its result is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from rag.api.errors import ApiError

T = TypeVar("T")


def timeout_error(seconds: float, what: str) -> ApiError:
    return ApiError(504, f"{what} did not finish within {seconds:g} s (CADRES_REQUEST_TIMEOUT)")


async def run_work(
    fn: Callable[..., T], *args: Any, timeout: float, what: str = "the request", **kw: Any
) -> T:
    call = functools.partial(fn, *args, **kw)
    try:
        return await asyncio.wait_for(
            anyio.to_thread.run_sync(call, abandon_on_cancel=True), timeout
        )
    except TimeoutError:
        raise timeout_error(timeout, what) from None


class _Done(Exception):
    """StopIteration cannot cross a thread boundary (or an await) cleanly."""


def _next(it: Iterator) -> Any:
    try:
        return next(it)
    except StopIteration:
        raise _Done from None


class ThreadedStream:
    """Iterate a synchronous generator from async code, one `next()` per worker-thread call.

    The whole iteration shares one deadline; `first()` is awaited before the HTTP response starts,
    so bad questions, a missing store or a slow retrieval still get a proper status code.
    """

    def __init__(self, make: Callable[[], Any], *, timeout: float, what: str = "the answer"):
        self._make = make
        self._it: Iterator | None = None
        self.timeout = timeout
        self.what = what
        self.deadline = time.monotonic() + timeout
        self.done = False

    def _step(self) -> Any:
        if self._it is None:
            self._it = iter(self._make())
        return _next(self._it)

    async def next(self) -> Any:
        """The next item; raises StopAsyncIteration at the end, ApiError(504) past the deadline."""
        if self.done:
            raise StopAsyncIteration
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise timeout_error(self.timeout, self.what)
        try:
            return await asyncio.wait_for(
                anyio.to_thread.run_sync(self._step, abandon_on_cancel=True), remaining
            )
        except _Done:
            self.done = True
            raise StopAsyncIteration from None
        except TimeoutError:
            raise timeout_error(self.timeout, self.what) from None

    def __aiter__(self):
        return self

    async def __anext__(self) -> Any:
        return await self.next()

    async def aclose(self) -> None:
        """Close the generator (runs its cleanup); a thread still inside it is left to finish."""
        it, self._it, self.done = self._it, None, True
        close = getattr(it, "close", None)
        if close is None:
            return

        def _close() -> None:
            with contextlib.suppress(Exception):  # "generator already executing" after a timeout
                close()

        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_close)
