"""Hub search: facts per model, most downloaded first; offline gives a clear, quick message."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from demos.advice import search


class FakeApi:
    def __init__(self):
        self.calls = []

    def list_models(self, **kwargs):
        self.calls.append(kwargs)
        return [
            SimpleNamespace(
                id="org/model-a",
                pipeline_tag="text-classification",
                downloads=1_200_000,
                likes=42,
                card_data={"license": "mit"},
                safetensors=SimpleNamespace(total=66_000_000),
                tags=[],
            ),
            SimpleNamespace(
                id="org/model-b",
                pipeline_tag=None,
                downloads=None,
                likes=None,
                card_data=None,
                safetensors=None,
                tags=["license:apache-2.0"],
            ),
        ]


def test_search_returns_key_facts_sorted_by_downloads():
    api = FakeApi()
    found = search.search_models("text-classification", " sentiment ", 5, api=api)
    assert api.calls[0]["sort"] == "downloads" and api.calls[0]["search"] == "sentiment"
    assert api.calls[0]["pipeline_tag"] == "text-classification"
    first, second = found
    assert (first.model_id, first.downloads, first.likes, first.licence, first.parameters) == (
        "org/model-a",
        1_200_000,
        42,
        "mit",
        "66.0M",
    )
    assert second.licence == "apache-2.0" and second.parameters == "?"
    assert first.url.endswith("/org/model-a")


def test_offline_search_is_a_clear_quick_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(search.SearchError, match="offline"):
        search.search_models("text-classification")
    assert time.monotonic() - start < 2


def test_unknown_task_is_refused():
    with pytest.raises(search.SearchError, match="Pick a task"):
        search.search_models("image-to-cheese", api=FakeApi())
