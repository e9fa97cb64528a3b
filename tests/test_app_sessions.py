"""The whole Space in-process: many new sessions cost little memory and stay bounded.

The memory target itself (RSS after 2,000 new sessions) is measured by bench/load.py; here the
stored sessions are counted and the Python memory they keep is traced.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
import urllib.request
from dataclasses import asdict

import pytest

from bench.gradio_http import call_sync, positional
from demos import sessions
from demos.calculator.fields import FRIEND_SCENARIO
from demos.training_loop.loop_config import LoopConfig
from demos.training_loop.ui import SETTING_NAMES, setting_values
from tests.servers import app_in_process

NEW_SESSIONS = 40
# Gradio 6.31's own session kept about 1 MiB here (the config of all ~600 blocks, rendered anew).
MAX_KIB_PER_SESSION = 24


@pytest.fixture(scope="module")
def served():
    with app_in_process() as demo:
        info = json.load(urllib.request.urlopen(demo.local_url + "gradio_api/info"))
        yield demo, info


def _cheap_calls(info):
    """Two endpoints that load no model: the calculator and the training loop's script."""
    friend = {**asdict(FRIEND_SCENARIO), "parameters": ""}  # the calculator's own preset
    loop = dict(zip(SETTING_NAMES, setting_values(LoopConfig()), strict=True))
    return [
        ("estimate", positional(info, "estimate", friend)),
        ("training_loop_script", positional(info, "training_loop_script", loop)),
    ]


def test_new_sessions_keep_little_memory(served):
    demo, info = served
    url, holder = demo.local_url, demo.server_app.state_holder
    calls = _cheap_calls(info)
    for name, data in calls:  # imports and caches that every later call shares
        assert call_sync(url, name, data, "warm-up").ok
    before = len(holder.session_data)
    gc.collect()
    tracemalloc.start()
    try:
        for number in range(NEW_SESSIONS):
            name, data = calls[number % len(calls)]
            reply = call_sync(url, name, data, f"visitor-{number}")
            assert reply.ok, reply
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_session_kib = kept / NEW_SESSIONS / 1024  # 7.7 KiB when measured
    assert per_session_kib < MAX_KIB_PER_SESSION, f"{per_session_kib:.1f} KiB per new session"
    assert len(holder.session_data) == before + NEW_SESSIONS
    assert all(isinstance(s, sessions.LeanSessionState) for s in holder.session_data.values())


def test_a_session_keeps_only_the_components_its_events_changed(served):
    demo, info = served
    holder = demo.server_app.state_holder
    for name, data in _cheap_calls(info):
        assert call_sync(demo.local_url, name, data, "one-visitor").ok
    session = holder["one-visitor"]
    assert session.config_values == {}
    assert len(session.owned_blocks) <= 4, sorted(session.owned_blocks)
