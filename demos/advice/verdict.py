"""One word for a post, honestly: advice, venting, neither, not sure, or too few known words.

The classifier's confidences are calibrated (temperature scaling in the training script), so a
threshold on them means something: below ``ADVICE_NOT_SURE_BELOW`` the tab says "not sure".
Before the scores are trusted at all, the post must be made of words the model knows: emoji,
keyboard mashing or another language give a model trained on English posts nothing to read,
and its answer would be a confident-looking guess. No Gradio here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from demos.advice.config import settings

#: Under this share of words the model's vocabulary knows, the post is not read (emoji, noise).
MIN_KNOWN_SHARE = 0.5
#: A post of at least ENGLISH_MIN_WORDS words with fewer English function words than this share,
#: and fewer known words than ENGLISH_KNOWN_SHARE, is in another language. Measured on the
#: project's 1,750 posts with MiniLM's vocabulary: every English post knows 74% or more of its
#: words and nearly all have 12% or more function words; Spanish, French, Italian, German,
#: Portuguese, Dutch, Swedish, Polish, Turkish and Indonesian posts know 54% or less.
MIN_ENGLISH_SHARE = 0.12
ENGLISH_KNOWN_SHARE = 0.65
ENGLISH_MIN_WORDS = 8
#: Words counted (the first ones): enough to judge, cheap on a 20,000-character post.
MAX_WORDS = 300
FUNCTION_WORDS_PATH = Path(__file__).resolve().parent / "data" / "english_function_words.txt"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SUFFIXES = ("'s", "s", "es", "ed", "d", "ing", "ly", "er", "n't")

HEADLINES = {
    "advice": "Asking for advice",
    "venting": "Venting",
    "neither": "Neither advice nor venting",
    "not sure": "Not sure",
    "unreadable": "Too few words it knows",
}


@dataclass(frozen=True)
class Verdict:
    word: str  # a key of HEADLINES
    confidence: float | None  # the top label's confidence, when the scores were read
    explanation: str

    @property
    def headline(self) -> str:
        return HEADLINES[self.word]


@dataclass(frozen=True)
class WordCheck:
    words: int  # letter words looked at
    known_share: float  # share found in the model's vocabulary (1.0 when there was none)
    english_share: float  # share that are common English function words
    vocabulary_checked: bool = True

    @property
    def readable(self) -> bool:
        if self.words == 0 or self.known_share < MIN_KNOWN_SHARE:
            return False
        if self.words < ENGLISH_MIN_WORDS or self.english_share >= MIN_ENGLISH_SHARE:
            return True
        return self.vocabulary_checked and self.known_share >= ENGLISH_KNOWN_SHARE


@functools.cache
def function_words() -> frozenset[str]:
    lines = FUNCTION_WORDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_words(text: str, vocabulary) -> WordCheck:
    """How much of ``text`` a model trained on English posts can read.

    ``vocabulary`` is a set-like of lower-case whole words (a WordPiece tokenizer's vocab
    works). A word counts as known if it, or it without a common English ending, is in it.
    ``None``: no vocabulary to check against; only the English function words count.
    """
    words = [w.lower() for w in _WORD.findall(text)[:MAX_WORDS]]
    if not words:
        return WordCheck(0, 0.0, 0.0)
    english = function_words()
    common = sum(word in english for word in words)
    if vocabulary is None:
        return WordCheck(len(words), 1.0, common / len(words), vocabulary_checked=False)
    known = 0
    for word in words:
        if word in vocabulary or any(
            word.endswith(end) and word[: -len(end)] in vocabulary
            for end in _SUFFIXES
            if len(word) > len(end) + 1
        ):
            known += 1
    return WordCheck(len(words), known / len(words), common / len(words))


def decide(
    scores: dict[str, float] | None,
    words: WordCheck,
    source: str = "the fine-tuned model",
    threshold: float | None = None,
) -> Verdict:
    """The tab's one word for a post, from the confidences of ``source`` and its words."""
    if threshold is None:
        threshold = settings().not_sure_below
    if not words.readable:
        if words.words == 0:
            found = "It has no words at all"
        elif words.known_share < MIN_KNOWN_SHARE:
            found = f"The model knows only {words.known_share:.0%} of its words"
        else:
            found = "It does not read as English"
        return Verdict(
            "unreadable",
            None,
            f"{found} (emoji, symbols, typing noise or another language). The model was "
            "trained on English posts, so any label here would be a guess.",
        )
    if not scores:
        return Verdict("not sure", None, "No model could score this post.")
    label, confidence = max(scores.items(), key=lambda item: item[1])
    if confidence < threshold:
        runner_up = sorted(scores.items(), key=lambda item: -item[1])[1]
        return Verdict(
            "not sure",
            confidence,
            f"{source.capitalize()} leans to {label} ({confidence:.0%}) but not by much "
            f"({runner_up[0]} {runner_up[1]:.0%}); under {threshold:.0%} it does not decide.",
        )
    if label == "neither":
        return Verdict(
            "neither",
            confidence,
            f"{source.capitalize()} reads this as neither a request for advice nor venting "
            f"({confidence:.0%}): news, a joke, a celebration or another kind of question.",
        )
    return Verdict(label, confidence, f"{source.capitalize()}: {label}, {confidence:.0%} sure.")
