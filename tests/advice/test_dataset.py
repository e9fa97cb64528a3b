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
    assert set(posts.labels["train"]) == {0, 1, 2}
    assert posts.label_names == ("advice", "venting", "neither")
    fewer = load_posts(template_share=0.4)
    assert len(fewer.texts["train"]) < len(posts.texts["train"])
    assert fewer.texts["test"] == posts.texts["test"]  # the test split stays whole
    assert load_posts(template_share=0.4).texts["train"] == fewer.texts["train"]  # stable


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
    with pytest.raises(DatasetError, match="must be one of advice, venting, neither"):
        parse_label_map("Advice=help")
    with pytest.raises(DatasetError, match="no data file"):
        load_posts("./missing.csv")


def _reddit_rows(count: int = 60) -> dict[str, list]:
    return {
        "body": [f"post number {i} about my week" for i in range(count)],
        "subreddit": ["Advice", "Vent", "CasualConversation"] * (count // 3),
    }


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_local_files_through_the_datasets_library(tmp_path, suffix):
    import pandas as pd

    frame = pd.DataFrame(_reddit_rows())
    path = tmp_path / f"reddit{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    posts = load_posts(
        path,
        text_column="body",
        label_column="subreddit",
        label_map=parse_label_map("Advice=advice,Vent=venting,CasualConversation=neither"),
    )
    assert posts.label_names == ("advice", "venting", "neither")
    assert sum(len(t) for t in posts.texts.values()) == 60 and posts.source == str(path)


def test_a_dataset_saved_with_save_to_disk_keeps_its_splits_and_class_names(tmp_path):
    import datasets

    features = datasets.Features(
        {"body": datasets.Value("string"), "kind": datasets.ClassLabel(names=["vent", "advice"])}
    )
    rows = {"body": [f"post {i}" for i in range(40)], "kind": [i % 2 for i in range(40)]}
    saved = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(rows, features=features),
            "test": datasets.Dataset.from_dict(
                {"body": ["a test post", "another one"], "kind": [0, 1]}, features=features
            ),
        }
    )
    saved.save_to_disk(tmp_path / "saved")
    posts = load_posts(tmp_path / "saved", text_column="body", label_column="kind")
    assert posts.label_names == ("advice", "venting")
    assert posts.texts["test"] == ["a test post", "another one"]
    assert posts.labels["test"] == [1, 0]  # class ids mapped through their names
    assert len(posts.texts["train"]) == 40
    single = datasets.Dataset.from_dict(rows, features=features)
    single.save_to_disk(tmp_path / "single")
    assert sum(map(len, load_posts(tmp_path / "single", text_column="body",
                                   label_column="kind").texts.values())) == 40  # fmt: skip


def test_dataset_errors_are_sentences(tmp_path, monkeypatch):
    import pandas as pd

    path = tmp_path / "reddit.csv"
    pd.DataFrame(_reddit_rows()).to_csv(path, index=False)
    with pytest.raises(DatasetError, match="no 'text' column.*--text-column"):
        load_posts(path)
    with pytest.raises(DatasetError, match="Only one label"):
        load_posts(path, text_column="body", label_column="subreddit",
                   label_map={"Advice": "advice"})  # fmt: skip
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no .csv"):
        load_posts(tmp_path / "empty")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from demos.hub import HubUnavailable

    with pytest.raises(HubUnavailable, match="offline"):
        load_posts("someone/reddit-advice-vs-vent")
