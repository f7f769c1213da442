"""The shared corpus store (tests/corpus_store.py), registered once per session."""

from __future__ import annotations

import inspect

import pytest


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """Mark the async tests of LangChain's standard suite for pytest-asyncio (strict mode here).

    Runs inside pytest-asyncio's own wrapper, so the mark is in place when it converts the item.
    """
    outcome = yield
    items = outcome.get_result()
    for item in items if isinstance(items, list) else [items] if items is not None else []:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(getattr(item, "obj", None)):
            item.add_marker(pytest.mark.asyncio)
