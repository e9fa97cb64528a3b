"""The free-written posts: enough of them, all three labels, varied, and no evaluation post that
is a near-copy of a training post (template or free-written), or of another evaluation post."""

from __future__ import annotations

import itertools
import re

import pytest

from demos.advice.dataset import (
    DEFAULT_POSTS,
    FREE_EVAL_POSTS,
    FREE_TRAIN_POSTS,
    free_written_eval,
    load_posts,
    read_jsonl,
)

_WORDS = re.compile(r"[a-z0-9']+")


def shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def evaluation() -> list[dict]:
    return read_jsonl(FREE_EVAL_POSTS)


@pytest.fixture(scope="module")
def training() -> list[dict]:
    return read_jsonl(FREE_TRAIN_POSTS)


def test_at_least_300_evaluation_posts_of_all_three_labels(evaluation):
    assert len(evaluation) >= 300
    for label in ("advice", "venting", "neither"):
        assert sum(r["label"] == label for r in evaluation) >= 90, label


def test_posts_vary_in_length_and_form(evaluation, training):
    for rows in (evaluation, training):
        lengths = [len(r["text"].split()) for r in rows]
        assert min(lengths) <= 5 and max(lengths) >= 100  # one line to several paragraphs
        assert sum("\n\n" in r["text"] for r in rows) >= 5
        assert sum(r["text"] == r["text"].lower() for r in rows) >= 10  # all lower case
        assert sum(len(r["text"].split()) <= 12 for r in rows) >= 15


def test_no_evaluation_post_is_a_near_copy_of_a_training_post(evaluation, training):
    templates = read_jsonl(DEFAULT_POSTS)
    six_grams = set().union(*(shingles(r["text"], 6) for r in training + templates))
    for row in evaluation:
        shared = shingles(row["text"], 6) & six_grams
        assert len(shared) <= 2, (row["text"][:80], shared)
    train_texts = {r["text"].strip().lower() for r in training + templates}
    assert not {r["text"].strip().lower() for r in evaluation} & train_texts


@pytest.mark.parametrize("which", ["evaluation", "training", "across"])
def test_no_two_free_written_posts_overlap_much(which, evaluation, training):
    rows = {"evaluation": evaluation, "training": training}.get(which)
    pairs = (
        itertools.combinations(rows, 2)
        if rows is not None
        else itertools.product(evaluation, training)
    )
    grams = {}
    for a, b in pairs:
        ga = grams.setdefault(id(a), shingles(a["text"], 3))
        gb = grams.setdefault(id(b), shingles(b["text"], 3))
        overlap = len(ga & gb) / max(1, len(ga | gb))
        assert overlap <= 0.15, (a["text"][:60], b["text"][:60], overlap)


def test_default_training_data_has_three_labels_and_free_written_validation():
    posts = load_posts()
    assert posts.label_names == ("advice", "venting", "neither")
    assert posts.labels["validation"].count(2) >= 10  # "neither" posts to calibrate on
    free_texts = {r["text"] for r in read_jsonl(FREE_TRAIN_POSTS)}
    assert free_texts & set(posts.texts["train"]) and free_texts & set(posts.texts["validation"])
    evaluation_texts = set(free_written_eval()[0])
    everything = {t for split in posts.texts.values() for t in split}
    assert not evaluation_texts & everything


def test_two_label_models_are_evaluated_on_their_labels_only():
    texts, labels = free_written_eval(("advice", "venting"))
    assert texts and set(labels) == {0, 1}
    assert len(texts) < len(free_written_eval()[0])
