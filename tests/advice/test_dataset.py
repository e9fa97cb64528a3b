"""The project's posts: size, balance, a held-out split that training never sees, the generator,
and the loader's Hub-dataset shape (a local file standing in for a Hub dataset)."""

from __future__ import annotations

import json

import pytest

from demos.advice.data import generate
from demos.advice.dataset import DEFAULT_POSTS, DatasetError, load_posts, parse_label_map


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in DEFAULT_POSTS.read_text(encoding="utf-8").splitlines()]


def test_size_balance_and_splits(rows):
    assert len(rows) >= 800
    test = [r for r in rows if r["split"] == "test"]
    assert len(test) >= 200
    for split in ("train", "test"):
        labels = [r["label"] for r in rows if r["split"] == split]
        share = labels.count("advice") / len(labels)
        assert 0.4 <= share <= 0.6, (split, share)


def test_test_topics_and_texts_never_appear_in_training(rows):
    training = [r for r in rows if r["split"] != "test"]
    test = [r for r in rows if r["split"] == "test"]
    assert not {r["topic"] for r in training} & {r["topic"] for r in test}
    assert not {r["text"] for r in training} & {r["text"] for r in test}
    assert len({r["text"] for r in rows}) == len(rows)


def test_hard_cases_are_present(rows):
    kinds = {r["hard_case"] for r in rows}
    assert {"rhetorical-question", "refuses-advice", "emotional-ask", "no-question-mark"} <= kinds


def test_the_committed_file_is_what_the_seeded_generator_makes(rows):
    made = generate.generate()
    assert [post.text for post in made] == [r["text"] for r in rows]


def test_loader_reads_the_project_posts():
    posts = load_posts()
    assert len(posts.texts["test"]) >= 200
    assert set(posts.labels["train"]) == {0, 1}


def test_hub_shaped_file_with_subreddit_labels_and_no_split(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "body": [f"post number {i} about my week" for i in range(100)],
            "subreddit": ["Advice", "Vent"] * 50,
        }
    )
    path = tmp_path / "reddit.csv"
    frame.to_csv(path, index=False)
    posts = load_posts(
        path,
        text_column="body",
        label_column="subreddit",
        label_map=parse_label_map("Advice=advice,Vent=venting"),
    )
    total = sum(len(posts.texts[s]) for s in ("train", "validation", "test"))
    assert total == 100
    assert posts.texts["test"] and posts.texts["train"]
    # The hash split is stable: the same file gives the same split.
    again = load_posts(
        path,
        text_column="body",
        label_column="subreddit",
        label_map={"Advice": "advice", "Vent": "venting"},
    )
    assert again.texts["test"] == posts.texts["test"]


def test_missing_column_and_bad_label_map_are_clear(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"content": "hi", "label": "advice"}\n')
    with pytest.raises(DatasetError, match="no 'text' column"):
        load_posts(path)
    with pytest.raises(DatasetError, match="must be 'advice' or 'venting'"):
        parse_label_map("Advice=help")
    with pytest.raises(DatasetError, match="no data file"):
        load_posts("./missing.csv")
