"""Who a fine-tune in place serves: the visitor's session only (freed when the page closes, after
a while unused, or when too many sessions hold one), or everyone for the Space's owner."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from demos.advice import in_place


def fake_model(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


@pytest.fixture
def sessions(tmp_path):
    return in_place.SessionModels(tmp_path / "sessions")


def test_only_the_spaces_owner_or_a_duplicates_setting_may_replace(monkeypatch):
    monkeypatch.delenv("ADVICE_REPLACE_MODEL", raising=False)
    monkeypatch.delenv("ADVICE_OWNERS", raising=False)
    monkeypatch.setenv("SPACE_AUTHOR_NAME", "jane")
    assert in_place.may_replace_served("jane")
    assert not in_place.may_replace_served(None)  # anonymous
    assert not in_place.may_replace_served("mallory")
    monkeypatch.setenv("ADVICE_OWNERS", "co-teacher, ta")
    assert in_place.may_replace_served("ta") and not in_place.may_replace_served("student")
    monkeypatch.delenv("SPACE_AUTHOR_NAME")
    monkeypatch.delenv("ADVICE_OWNERS")
    assert not in_place.may_replace_served("")  # off a Space nobody signs in as the owner
    monkeypatch.setenv("ADVICE_REPLACE_MODEL", "anyone")
    assert in_place.may_replace_served(None)


def test_a_sessions_model_is_its_own_and_freed_when_the_page_closes(sessions):
    folder = fake_model(sessions.new_folder("abc"))
    sessions.add("abc", folder)
    assert sessions.model_of("abc") == str(folder)
    assert sessions.model_of("other") is None and sessions.model_of(None) is None
    assert sessions.free("abc") and not folder.exists()
    assert sessions.model_of("abc") is None and not sessions.free("abc")


def test_unused_models_expire_and_the_oldest_go_beyond_the_limit(sessions, monkeypatch):
    monkeypatch.setenv("ADVICE_SESSION_MODELS", "2")
    monkeypatch.setenv("ADVICE_SESSION_TTL", "1800")
    folders = {}
    for name in ("first", "second", "third"):
        folders[name] = fake_model(sessions.new_folder(name))
        sessions.add(name, folders[name])
        time.sleep(0.01)
    assert len(sessions) == 2 and not folders["first"].exists()
    assert sessions.model_of("first") is None and sessions.model_of("third")
    monkeypatch.setenv("ADVICE_SESSION_TTL", "0")
    time.sleep(0.01)
    sessions.expire()
    assert len(sessions) == 0 and not folders["second"].exists() and not folders["third"].exists()


def test_session_names_cannot_escape_the_folder(sessions):
    folder = sessions.new_folder("../../etc/passwd")
    assert folder.parent.parent == sessions.root and ".." not in folder.parts


def test_the_tab_frees_a_sessions_model_on_unload(monkeypatch, tmp_path):
    from demos.advice import ui

    store = in_place.SessionModels(tmp_path / "sessions")
    monkeypatch.setattr(in_place, "sessions", store)
    folder = fake_model(store.new_folder("visitor"))
    store.add("visitor", folder)
    ui._free_session(SimpleNamespace(session_hash="visitor"))
    assert not folder.exists() and store.model_of("visitor") is None


def test_an_owners_fine_tune_targets_the_served_folder(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(
        in_place.background,
        "start",
        lambda output, purpose, on_done=None: started.append((str(output), purpose)) or "job",
    )
    monkeypatch.setenv("ADVICE_OUTPUT_DIR", str(tmp_path / "served"))
    monkeypatch.setenv("SPACE_AUTHOR_NAME", "jane")
    monkeypatch.delenv("ADVICE_REPLACE_MODEL", raising=False)
    assert in_place.start_fine_tune("s1", "jane") == ("job", True)
    assert in_place.start_fine_tune("s2", None) == ("job", False)
    assert started[0] == (str(tmp_path / "served"), "owner")
    assert started[1][1] == "visitor" and str(tmp_path / "served") not in started[1][0]
