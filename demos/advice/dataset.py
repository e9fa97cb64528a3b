"""Load advice-vs-venting posts: the project's own files, or any dataset through ``datasets``.

The project's own data (read without ``datasets``: two small JSON-lines files, no cache):

* ``data/posts.jsonl``: posts generated from building blocks, with a template test split;
* ``data/free_written_train.jsonl``: posts written one by one, for training and validation;
* ``data/free_written_eval.jsonl``: posts written one by one, for evaluation only (never trained).

``--dataset`` takes a Hub dataset ID, a local CSV/JSON-lines/Parquet file or folder, or a folder
written by ``save_to_disk``, and reads it with the ``datasets`` library, with the text, label and
split columns named as options and the label values mapped onto advice/venting/neither.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from demos.advice.config import LABELS

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_POSTS = DATA_DIR / "posts.jsonl"
#: Posts written one by one (not from the building blocks): training, and evaluation only.
FREE_TRAIN_POSTS = DATA_DIR / "free_written_train.jsonl"
FREE_EVAL_POSTS = DATA_DIR / "free_written_eval.jsonl"
#: Label values of real datasets that mean advice, venting or neither (compared in lower case).
DEFAULT_LABEL_MAP: dict[str, str] = {
    "advice": "advice",
    "r/advice": "advice",
    "asking": "advice",
    "0": "advice",
    "venting": "venting",
    "vent": "venting",
    "r/vent": "venting",
    "1": "venting",
    "neither": "neither",
    "other": "neither",
    "2": "neither",
}
SPLITS = ("train", "validation", "test")
#: Split names of Hub datasets, mapped onto ours.
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation",
               "dev": "validation", "test": "test"}  # fmt: skip
_BUILDERS = {".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def training_files() -> list[Path]:
    """The project's own data files a default training run reads."""
    return [path for path in (DEFAULT_POSTS, FREE_TRAIN_POSTS) if path.exists()]


class DatasetError(ValueError):
    """The posts could not be read or do not have the expected shape."""


@dataclass
class Posts:
    """Texts and label ids per split; ids index ``label_names`` (advice, venting[, neither])."""

    texts: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    labels: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    label_names: tuple[str, ...] = LABELS
    source: str = ""

    def add(self, split: str, text: str, label: int) -> None:
        self.texts[split].append(text)
        self.labels[split].append(label)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            split: {name: self.labels[split].count(i) for i, name in enumerate(self.label_names)}
            for split in SPLITS
        }


@dataclass
class LabelledRows:
    """(text, label name, split or "") rows before they are turned into :class:`Posts`."""

    rows: list[tuple[str, str, str]]
    source: str


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def project_rows(include_free_written: bool = True, template_share: float = 1.0) -> LabelledRows:
    """The project's training data: the template posts and the free-written training posts.

    ``template_share`` < 1 keeps that share of the template *training* posts (a stable choice,
    by a hash of the text); their validation and test splits are always kept whole.
    """
    rows = [
        (r["text"], r["label"], r["split"])
        for r in read_jsonl(DEFAULT_POSTS)
        if r["split"] != "train" or _bucket(r["text"]) < template_share
    ]
    sources = [DEFAULT_POSTS.name]
    if include_free_written and FREE_TRAIN_POSTS.exists():
        rows += [(r["text"], r["label"], r["split"]) for r in read_jsonl(FREE_TRAIN_POSTS)]
        sources.append(FREE_TRAIN_POSTS.name)
    return LabelledRows(rows, " + ".join(sources))


def free_written_eval(label_names: tuple[str, ...] = LABELS) -> tuple[list[str], list[int]]:
    """The free-written evaluation posts whose label the model has (texts, label ids)."""
    if not FREE_EVAL_POSTS.exists():
        return [], []
    texts, labels = [], []
    for row in read_jsonl(FREE_EVAL_POSTS):
        if row["label"] in label_names:
            texts.append(row["text"])
            labels.append(label_names.index(row["label"]))
    return texts, labels


def load_posts(
    source: str | Path | None = None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str = "split",
    label_map: dict[str, str] | None = None,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
    template_share: float = 1.0,
) -> Posts:
    """Read posts from ``source`` (default: the project's own training data).

    ``source`` is a Hub dataset ID, a local file (.csv, .jsonl, .json, .parquet), a folder of
    such files, or a folder written by ``Dataset.save_to_disk``; all but the default go through
    the ``datasets`` library. Rows whose label is not in ``label_map`` are skipped. Without a
    split (column or dataset split), rows are split by a hash of their text, so the split is
    stable across runs and machines.
    """
    if source is None:
        labelled = project_rows(template_share=template_share)
    else:
        labelled = dataset_rows(str(source), text_column, label_column, split_column)
    mapping = {key.lower(): value for key, value in (label_map or DEFAULT_LABEL_MAP).items()}
    kept: list[tuple[str, str, str]] = []
    for text, raw_label, split in labelled.rows:
        text = (text or "").strip()
        name = mapping.get(str(raw_label).strip().lower())
        if not text or name not in LABELS:
            continue
        if split not in SPLITS:
            split = _hash_split(text, test_fraction, validation_fraction)
        kept.append((text, name, split))
    present = {name for _, name, _ in kept}
    posts = Posts(label_names=tuple(n for n in LABELS if n in present), source=labelled.source)
    for text, name, split in kept:
        posts.add(split, text, posts.label_names.index(name))
    if not posts.texts["train"]:
        raise DatasetError("No training posts were found (check the label values and columns).")
    if len(posts.label_names) < 2:
        raise DatasetError(
            f"Only one label ({', '.join(posts.label_names)}) was found: a classifier needs two "
            "or more (check --label-map)."
        )
    return posts


def dataset_rows(source: str, text_column: str, label_column: str, split_column: str):
    """Rows of a dataset read with the ``datasets`` library (local or from the Hub)."""
    loaded = _load_with_datasets(source)
    import datasets

    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
    rows: list[tuple[str, str, str]] = []
    for split_name, part in parts:
        missing = [c for c in (text_column, label_column) if c not in part.column_names]
        if missing:
            raise DatasetError(
                f"The data has no '{missing[0]}' column (columns: {', '.join(part.column_names)})."
                " Name the right ones with --text-column and --label-column."
            )
        feature = part.features.get(label_column)
        names = getattr(feature, "names", None)  # a ClassLabel: ids stand for these names
        splits = part[split_column] if split_column in part.column_names else None
        for index, (text, label) in enumerate(zip(part[text_column], part[label_column])):
            if names is not None and isinstance(label, int) and 0 <= label < len(names):
                label = names[label]
            split = str(splits[index]) if splits is not None else SPLIT_NAMES.get(split_name, "")
            rows.append((str(text or ""), str(label), split))
    return LabelledRows(rows, source)


def _load_with_datasets(source: str):
    import datasets

    from demos.hub import HubError

    path = Path(source).expanduser()
    try:
        if path.is_dir() and _saved_to_disk(path):
            return datasets.load_from_disk(str(path))
        if path.is_file():
            builder = _BUILDERS.get(path.suffix.lower())
            if builder is None:
                raise DatasetError(f"'{path.name}' is not a .csv, .jsonl, .json or .parquet file.")
            return datasets.load_dataset(builder, data_files=str(path), split="train")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _BUILDERS)
            if not files:
                raise DatasetError(
                    f"The folder '{source}' holds no .csv, .jsonl or .parquet files and was "
                    "not written by save_to_disk."
                )
            builder = _BUILDERS[files[0].suffix.lower()]
            return datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train")
        if source.startswith((".", "/", "~")) or Path(source).suffix.lower() in _BUILDERS:
            raise DatasetError(f"There is no data file at '{source}'.")
        return _load_from_hub(source)
    except (DatasetError, HubError):
        raise
    except (ValueError, OSError) as error:
        raise DatasetError(f"The dataset '{source}' could not be read ({error}).") from error


def _saved_to_disk(path: Path) -> bool:
    return any((path / name).exists() for name in ("state.json", "dataset_dict.json"))


def _load_from_hub(repo_id: str):
    """A Hub dataset, with the Space's offline rule and a sentence for every failure."""
    import datasets

    from demos import hub

    hub.require_hub()  # offline or unreachable: a sentence now, not a long network timeout
    try:
        return datasets.load_dataset(repo_id)
    except Exception as error:  # not found, gated, no data files: one sentence for the learner
        raise DatasetError(
            f"The Hub dataset '{repo_id}' could not be loaded ({type(error).__name__}: {error})."
        ) from error


def _bucket(text: str) -> float:
    """A number in [0, 1] fixed by the text: the same post always lands in the same place."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def _hash_split(text: str, test_fraction: float, validation_fraction: float) -> str:
    bucket = _bucket(text)
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + validation_fraction:
        return "validation"
    return "train"


def parse_label_map(text: str | None) -> dict[str, str] | None:
    """``"Advice=advice,Vent=venting"`` → a label map; empty → None (the default map)."""
    if not text:
        return None
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if "=" not in pair:
            raise DatasetError(f"'{pair}' is not of the form value=advice or value=venting.")
        value, label = (part.strip() for part in pair.split("=", 1))
        if label not in LABELS:
            raise DatasetError(f"'{label}' must be one of {', '.join(LABELS)}.")
        mapping[value] = label
    return mapping
