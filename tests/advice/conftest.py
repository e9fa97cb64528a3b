"""Tiny random models for the advice demos, and environment pointing the demos at them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hub.conftest import (
    fresh_hub_state,  # noqa: F401 (autouse: every test starts with an empty model cache)
    save_tiny_classifier,
    save_tiny_nli,
    save_tiny_t5,
)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("advice-models")
    return {
        "classifier": save_tiny_classifier(root / "classifier"),
        "nli": save_tiny_nli(root / "nli"),
        "sentiment": save_tiny_classifier(root / "sentiment", labels=("NEGATIVE", "POSITIVE")),
        "t5": save_tiny_t5(root / "t5"),
    }


@pytest.fixture
def advice_env(monkeypatch, tiny_models, tmp_path) -> dict[str, Path]:
    """The demos configured with tiny models; fine-tunes go to a temporary folder."""
    monkeypatch.setenv("ADVICE_MODEL", str(tiny_models["classifier"]))
    monkeypatch.setenv("ADVICE_ZERO_SHOT_MODEL", str(tiny_models["nli"]))
    monkeypatch.setenv("ADVICE_SENTIMENT_MODEL", str(tiny_models["sentiment"]))
    monkeypatch.setenv("ADVICE_T5_MODEL", str(tiny_models["t5"]))
    monkeypatch.setenv("ADVICE_BASE_MODEL", str(tiny_models["classifier"]))
    monkeypatch.setenv("ADVICE_OUTPUT_DIR", str(tmp_path / "fine-tuned"))
    return {**tiny_models, "output": tmp_path / "fine-tuned"}
