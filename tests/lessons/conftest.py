"""A session-wide fake Hugging Face cache, so lesson code can load real Hub IDs offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demos.course import LESSONS_DIR
from tests.lessons.fake_hub import build_fake_hub_cache


@pytest.fixture(scope="session")
def fake_hub_cache(tmp_path_factory) -> Path:
    """HF_HUB_CACHE folder holding tiny models saved under the Hub IDs the lessons use."""
    cache = tmp_path_factory.mktemp("hf") / "hub"
    corpus = [path.read_text(encoding="utf-8") for path in sorted(LESSONS_DIR.glob("*.md"))]
    build_fake_hub_cache(cache, corpus)
    return cache


@pytest.fixture(scope="session")
def lesson_env(fake_hub_cache: Path) -> dict[str, str]:
    """Environment for a subprocess running lesson code: offline, fake cache, two threads."""
    env = dict(os.environ)
    env.update(
        HF_HOME=str(fake_hub_cache.parent / "home"),
        HF_HUB_CACHE=str(fake_hub_cache),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="2",
        MKL_NUM_THREADS="2",
        PYTHONUNBUFFERED="1",
    )
    return env
