"""Classify posts (fine-tuned and zero-shot) and run the same text through other pipeline tasks.

Every model comes through :mod:`demos.hub`. Inputs are cleaned first: empty text, binary junk and
oversized posts give a clear :class:`PostError` or a truncation note, never a crash or a hang.
"""

from __future__ import annotations

import difflib
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from demos import hub
from demos.advice.config import (
    LABELS,
    ZERO_SHOT_CANDIDATES,
    hide_paths,
    public_ref,
    settings,
)

#: The tasks of "change two lines": name -> (pipeline task, settings attribute with the model).
OTHER_TASKS: dict[str, tuple[str, str]] = {
    "sentiment": ("text-classification", "sentiment_model"),
    "zero-shot": ("zero-shot-classification", "zero_shot_model"),
    "summarise (T5)": ("summarization", "t5_model"),
}
_BINARY_SHARE = 0.2  # over this share of unprintable characters, the text is not a post


class PostError(ValueError):
    """The text cannot be classified (empty, or binary data); the message says why."""


@dataclass(frozen=True)
class CleanPost:
    text: str
    truncated: bool
    original_chars: int

    def note(self) -> str:
        """A sentence for the page when the post was cut, else an empty string."""
        if not self.truncated:
            return ""
        return (
            f"Your post has {self.original_chars:,} characters; only the first "
            f"{len(self.text):,} were read (and the model sees at most "
            f"{settings().max_length} tokens of them)."
        )


def clean_post(text: str | bytes | None, max_chars: int | None = None) -> CleanPost:
    """Normalise a visitor's text: decode bytes, drop control characters, cap the length.

    Raises :class:`PostError` for empty or whitespace-only text and for binary junk. Emoji and
    right-to-left scripts pass through unchanged.
    """
    if max_chars is None:
        max_chars = settings().max_chars
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text or ""
    original_chars = len(text)
    sample = text[:10_000]
    unprintable = sum(
        1
        for char in sample
        if char == "\ufffd"
        or (unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"})
        and char not in "\n\r\t"
    )
    if sample and unprintable / len(sample) > _BINARY_SHARE:
        raise PostError("This looks like binary data, not a post. Paste some text instead.")
    kept = "".join(
        char
        for char in text[:max_chars]
        if char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cs"}
    ).strip()
    if not kept:
        raise PostError("The post is empty. Type or pick a post first.")
    return CleanPost(kept, original_chars > max_chars, original_chars)


def _softmax_rows(logits) -> list[list[float]]:
    import torch

    return torch.softmax(logits.float(), dim=-1).tolist()


def classify_posts(
    texts: Sequence[str], model_ref: str | None = None, progress: hub.ProgressCallback | None = None
) -> list[dict[str, float]]:
    """Confidences ``{"advice": p, "venting": 1 - p}`` for each (already cleaned) post.

    One padded batch per call, so a list of posts costs about as much as its longest post times
    the batch size, far less than one call each.
    """
    import torch

    ref = model_ref or _require_classifier()
    model, tokenizer = hub.load_model(ref, "sequence-classification", progress=progress)
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=settings().max_length,
        padding=True,
        return_tensors="pt",
    ).to(model.device)
    if "token_type_ids" not in _accepts(model):
        encoded.pop("token_type_ids", None)
    with torch.inference_mode():
        logits = model(**encoded).logits
    id2label = model.config.id2label
    return [
        {str(id2label.get(index, index)): float(p) for index, p in enumerate(row)}
        for row in _softmax_rows(logits)
    ]


def _cap_length(loaded_pipeline):
    """Make ``truncation=True`` cut at what the model can read, even if the tokenizer lacks it."""
    tokenizer = loaded_pipeline.tokenizer
    positions = getattr(loaded_pipeline.model.config, "max_position_embeddings", None) or 512
    if not tokenizer.model_max_length or tokenizer.model_max_length > positions:
        tokenizer.model_max_length = positions
    return loaded_pipeline


def _accepts(model) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _require_classifier() -> str:
    from demos.advice.config import served_classifier

    ref = served_classifier()
    if ref is None:
        raise PostError("No fine-tuned classifier is set up yet: fine-tune one first.")
    return ref


@dataclass(frozen=True)
class ZeroShotResult:
    scores: list[dict[str, float]]
    method: str  # "nli" (the NLI model) or "similarity" (the offline fallback)
    model: str  # the model that scored, as the page names it (never a server path)
    vocabulary: frozenset[str]  # the whole words its tokenizer knows
    fallback_reason: str = ""


def zero_shot_side(texts: Sequence[str], progress=None) -> ZeroShotResult:
    """The tab's zero-shot column: the NLI model when it can be loaded, else the offline fallback.

    Only an unreachable Hub (a model that is not on this machine while offline) falls back; any
    other failure of the NLI model is raised, as before.
    """
    from demos.advice import similarity

    reference = settings().zero_shot_model
    try:
        scores = zero_shot_posts(texts, progress=progress)
        words = vocabulary(hub.load_pipeline("zero-shot-classification", reference).tokenizer)
        return ZeroShotResult(scores, "nli", public_ref(reference), words)
    except hub.HubUnavailable as error:
        reason = hide_paths(str(error))
    embedding = settings().embedding_model
    scores = similarity.similarity_zero_shot(texts, embedding, progress)
    words = vocabulary(tokenizer_of(embedding, "base"))
    return ZeroShotResult(scores, "similarity", public_ref(embedding), words, reason)


def zero_shot_plan() -> str:
    """Which zero-shot method a click would use now ("nli" or "similarity"), without loading."""
    try:
        hub.resolve(settings().zero_shot_model)
    except hub.HubUnavailable:
        return "similarity"
    except hub.HubError:
        return "nli"  # a broken setting: the click will say what is wrong with it
    return "nli"


def vocabulary(tokenizer) -> frozenset[str]:
    """Whole lower-case words of a tokenizer's vocabulary (for verdict.check_words).

    Cached by the vocabulary's content, not by model: every model fine-tuned from MiniLM (the
    Space's, each visitor's) shares one entry."""
    key = (len(tokenizer), tuple(tokenizer.convert_ids_to_tokens(list(range(1000, 1016)))))
    with _vocabulary_lock:
        cached = _vocabularies.get(key)
    if cached is None:
        cached = frozenset(
            word.lower().lstrip("\u0120\u2581")
            for word in tokenizer.get_vocab()
            if word.lstrip("\u0120\u2581").isalpha()
        )
        with _vocabulary_lock:
            if len(_vocabularies) >= 4:
                _vocabularies.clear()
            _vocabularies[key] = cached
    return cached


#: A tokenizer with fewer whole words than this is not a language's vocabulary (a test model).
MIN_VOCABULARY = 1000


def reading_vocabulary(candidate: frozenset[str] | None) -> frozenset[str] | None:
    """The vocabulary to judge a post's words by: the scoring model's own if it is a real one,
    else the embedding model's (MiniLM); None when neither is (the check then uses the English
    function words alone)."""
    if candidate is not None and len(candidate) >= MIN_VOCABULARY:
        return candidate
    try:
        words = vocabulary(tokenizer_of(settings().embedding_model, "base"))
    except hub.HubError:
        return None
    return words if len(words) >= MIN_VOCABULARY else None


def tokenizer_of(model_ref: str, kind: str = "sequence-classification"):
    """The tokenizer of a model loaded through the one loader (a cache hit once it is in use)."""
    return hub.load_model(model_ref, kind)[1]


_vocabulary_lock = threading.Lock()
_vocabularies: dict[tuple, frozenset[str]] = {}


def zero_shot_posts(
    texts: Sequence[str],
    model_ref: str | None = None,
    from_visitor: bool = False,
    progress: hub.ProgressCallback | None = None,
) -> list[dict[str, float]]:
    """Zero-shot confidences from an NLI model: no training, only the two label descriptions."""
    classifier = _cap_length(
        hub.load_pipeline(
            "zero-shot-classification",
            model_ref or settings().zero_shot_model,
            progress,
            from_visitor=from_visitor,
        )
    )
    by_hypothesis = {hypothesis: label for label, hypothesis in ZERO_SHOT_CANDIDATES.items()}
    results = classifier(
        list(texts),
        candidate_labels=list(ZERO_SHOT_CANDIDATES.values()),
        hypothesis_template="The writer of this post is {}.",
        truncation=True,
    )
    if isinstance(results, dict):
        results = [results]
    return [
        {by_hypothesis[label]: float(score) for label, score in zip(r["labels"], r["scores"])}
        for r in results
    ]


def default_model(task_name: str) -> str:
    """The configured model of one of :data:`OTHER_TASKS`."""
    if task_name not in OTHER_TASKS:
        raise PostError(f"Unknown task '{task_name}'.")
    return getattr(settings(), OTHER_TASKS[task_name][1])


def run_other_task(
    task_name: str,
    text: str,
    model_ref: str | None = None,
    progress: hub.ProgressCallback | None = None,
) -> str | dict[str, float]:
    """The same post through another task; a dict of confidences or a generated text.

    ``model_ref`` is a visitor's pick: it must be on the allowlist (else
    :class:`demos.hub.ModelNotAllowed`); empty means the configured model.
    """
    configured = default_model(task_name)
    chosen = (model_ref or "").strip() or configured
    from_visitor = chosen != configured
    post = clean_post(text)
    if task_name == "zero-shot":
        return zero_shot_posts([post.text], chosen, from_visitor, progress)[0]
    if task_name == "sentiment":
        classifier = hub.load_pipeline("text-classification", chosen, from_visitor=from_visitor)
        scores = classifier(post.text, top_k=None, truncation=True)
        return {str(item["label"]): float(item["score"]) for item in scores}
    if from_visitor:
        hub.check_allowed(chosen)
    return summarise(post.text, chosen, progress=progress) or "(the model generated nothing)"


def summarise(
    text: str,
    model_ref: str | None = None,
    max_new_tokens: int = 48,
    progress: hub.ProgressCallback | None = None,
) -> str:
    """A short summary from a T5-family model (T5 reads the task from a text prefix)."""
    import torch

    model, tokenizer = hub.load_model(
        model_ref or settings().t5_model, "seq2seq-lm", progress=progress
    )
    encoded = tokenizer(
        "summarize: " + text, truncation=True, max_length=512, return_tensors="pt"
    ).to(model.device)
    encoded.pop("token_type_ids", None)
    with torch.inference_mode():
        generated = model.generate(**encoded, max_new_tokens=max_new_tokens, num_beams=1)
    return tokenizer.decode(generated[0], skip_special_tokens=True).strip()


# ----------------------------------------------------------------------------- code shown


def pipeline_code(task_name: str, model_id: str) -> str:
    """The few lines of code behind a result, for the learner to copy (never a server path)."""
    local = not model_id or not hub.is_hub_id(model_id)
    model_id = public_ref(model_id)
    if task_name == "fine-tuned":
        where = "# the folder `python -m demos.advice.train` writes\n" if local else ""
        return (
            "from transformers import pipeline\n"
            f"{where}"
            f'classify = pipeline("text-classification", model="{model_id}")\n'
            "classify(post)"
        )
    if task_name == "similarity":
        return (
            "from sentence_transformers import SentenceTransformer, util\n"
            f'model = SentenceTransformer("{model_id}")\n'
            'labels = {"advice": "What should I do? I need advice.", "venting": "I just need to vent."}\n'
            "scores = util.cos_sim(model.encode(post), model.encode(list(labels.values())))"
        )
    if task_name == "zero-shot":
        labels = ", ".join(f'"{h}"' for h in ZERO_SHOT_CANDIDATES.values())
        return (
            "from transformers import pipeline\n"
            f'classify = pipeline("zero-shot-classification", model="{model_id}")\n'
            f"classify(post, candidate_labels=[{labels}])"
        )
    if task_name == "sentiment":
        return (
            "from transformers import pipeline\n"
            f'classify = pipeline("text-classification", model="{model_id}")\n'
            "classify(post)"
        )
    # transformers 5 dropped the summarization pipeline: T5 is called through generate().
    return (
        "from transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n"
        f'tokenizer = AutoTokenizer.from_pretrained("{model_id}")\n'
        f'model = AutoModelForSeq2SeqLM.from_pretrained("{model_id}")\n'
        'ids = model.generate(**tokenizer("summarize: " + post, return_tensors="pt"))\n'
        "tokenizer.decode(ids[0], skip_special_tokens=True)"
    )


def code_difference(task_name: str, model_ref: str | None = None) -> tuple[str, str]:
    """(code of ``task_name``, unified diff against the fine-tuned classifier's code)."""
    current = settings()
    model_id = (model_ref or "").strip() or default_model(task_name)
    base = pipeline_code("fine-tuned", current.classifier or "your-name/advice-classifier")
    base = "\n".join(line for line in base.splitlines() if not line.startswith("#"))
    code = pipeline_code(task_name, model_id)
    diff = difflib.unified_diff(
        base.splitlines(), code.splitlines(), "advice classifier", task_name, lineterm="", n=0
    )
    return code, "\n".join(diff)


def hub_page(model_ref: str) -> str:
    """A Markdown link to the model's Hub page, or where a local model comes from (no paths)."""
    if hub.is_hub_id(model_ref):
        return f"[{model_ref} on the Hub]({hub.hub_endpoint()}/{model_ref})"
    return f"Local folder `{public_ref(model_ref)}`"


def label_names() -> tuple[str, ...]:
    return LABELS
