"""The hosted backend against a real OpenAI-compatible server (`transformers serve` on SmolLM2),
and the fall-back when the hosted one fails, without leaking the token."""

from __future__ import annotations

import logging

import pytest

from demos.lab import backends
from demos.lab.config import load_config
from demos.lab.session import LabEngine

from .conftest import FAKE_TOKEN, free_port

pytestmark = pytest.mark.slow


def test_remote_backend_streams_from_the_server(remote_env):
    backend = backends.RemoteBackend(load_config(), token=None)
    stream = backend.stream(
        [
            {"role": "system", "content": "You are Sam, a tech lead."},
            {"role": "user", "content": "Hi!"},
        ],
        max_new_tokens=10,
        time_limit_s=60,
        temperature=0.7,
    )
    pieces = list(stream)
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert stream.tokens == len(pieces)


def test_auto_uses_the_hosted_model_when_a_server_is_configured(remote_env, scenarios):
    engine = LabEngine(scenarios, load_config())
    session = engine.start(scenarios[1].lesson_id)
    assert backends.backend_order(engine.config, None) == ["remote", "local"]
    updates = list(
        engine.reply(session, "A small open model from the Hub, run as a nightly batch.")
    )
    assert session.backend_label.startswith("hosted model")
    assert session.messages[-1]["content"]
    assert not any("unavailable" in u.notice for u in updates)
    # The hosted model gets its steering inside the system prompt, so no hidden line is kept.
    assert all(m["role"] != "system" for m in session.messages)


def test_a_failing_hosted_model_falls_back_to_local_and_says_so(
    local_env, hub_online, monkeypatch, scenarios, caplog, capfd
):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("LAB_BACKEND", "auto")
    monkeypatch.setenv("LAB_REMOTE_BASE_URL", dead)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    caplog.set_level(logging.DEBUG)
    engine = LabEngine(scenarios, load_config())
    session = engine.start(scenarios[0].lesson_id)
    updates = list(engine.reply(session, "We should wait for the release.", FAKE_TOKEN))
    assert "unavailable" in updates[-1].notice and "cannot be reached" in updates[-1].notice
    # The local stand-in cannot word a move, so the scenario's own lines carry on.
    assert session.backend_label == "the scenario's script" and session.voice == "director"
    assert session.messages[-1]["content"]
    # The next turn goes straight to the script (no second wait on the dead server).
    updates = list(engine.reply(session, "And then a pilot.", FAKE_TOKEN))
    assert "unavailable" not in updates[-1].notice
    out, err = capfd.readouterr()
    assert FAKE_TOKEN not in out + err + caplog.text
    assert FAKE_TOKEN not in repr(session) and FAKE_TOKEN not in repr(
        backends.RemoteBackend(engine.config, FAKE_TOKEN)
    )


def test_remote_errors_become_learner_phrases():
    class Response:
        def __init__(self, status):
            self.status_code = status

    class HTTPError(Exception):
        def __init__(self, status):
            super().__init__(f"{status} for url with token {FAKE_TOKEN}")
            self.response = Response(status)

    assert backends._remote_reason(HTTPError(402)) == "the monthly quota is used up"
    assert backends._remote_reason(HTTPError(429)).startswith("too many requests")
    assert backends._remote_reason(HTTPError(401)) == "the token was refused"
    assert FAKE_TOKEN not in backends._remote_reason(HTTPError(500))
