"""Load advice-vs-venting posts: the project's own file, a local CSV/JSONL/Parquet file, or a Hub
dataset in the same shape (a text column and a label column, optionally a split column)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from demos.advice.config import LABELS

DEFAULT_POSTS = Path(__file__).resolve().parent / "data" / "posts.jsonl"
#: Label values of real datasets that mean "advice" or "venting" (compared in lower case).
DEFAULT_LABEL_MAP: dict[str, str] = {
    "advice": "advice",
    "r/advice": "advice",
    "asking": "advice",
    "0": "advice",
    "venting": "venting",
    "vent": "venting",
    "r/vent": "venting",
    "1": "venting",
}
SPLITS = ("train", "validation", "test")
_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


class DatasetError(ValueError):
    """The posts could not be read or do not have the expected shape."""


@dataclass
class Posts:
    """Texts and label ids (0 = advice, 1 = venting) per split."""

    texts: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    labels: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    source: str = ""

    def add(self, split: str, text: str, label: int) -> None:
        self.texts[split].append(text)
        self.labels[split].append(label)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            split: {name: self.labels[split].count(index) for index, name in enumerate(LABELS)}
            for split in SPLITS
        }


def load_posts(
    source: str | Path | None = None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str = "split",
    label_map: dict[str, str] | None = None,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
) -> Posts:
    """Read posts from ``source`` (default: the project's posts.jsonl).

    ``source`` is a local file (.jsonl, .json, .csv, .parquet) or a Hub dataset ID, whose data
    files are downloaded with huggingface_hub. Rows whose label is not in ``label_map`` are
    skipped. Without a split column, rows are split by a hash of their text, so the split is
    stable across runs and machines.
    """
    import pandas as pd

    path = Path(source) if source else DEFAULT_POSTS
    frames = [_read_table(file) for file in _data_files(source, path)]
    table = pd.concat(frames, ignore_index=True)
    for column in (text_column, label_column):
        if column not in table.columns:
            raise DatasetError(
                f"The data has no '{column}' column (columns: {', '.join(map(str, table.columns))})."
            )
    mapping = {key.lower(): value for key, value in (label_map or DEFAULT_LABEL_MAP).items()}
    posts = Posts(source=str(source or path))
    for row in table.itertuples(index=False):
        record = row._asdict() if hasattr(row, "_asdict") else dict(zip(table.columns, row))
        text = str(record.get(text_column) or "").strip()
        label_name = mapping.get(str(record.get(label_column)).strip().lower())
        if not text or label_name not in LABELS:
            continue
        split = str(record.get(split_column) or "") if split_column in table.columns else ""
        if split not in SPLITS:
            split = _hash_split(text, test_fraction, validation_fraction)
        posts.add(split, text, LABELS.index(label_name))
    if not posts.texts["train"]:
        raise DatasetError("No training posts were found (check the label values and columns).")
    return posts


def _hash_split(text: str, test_fraction: float, validation_fraction: float) -> str:
    bucket = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + validation_fraction:
        return "validation"
    return "train"


def _data_files(source: str | Path | None, path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES)
        if files:
            return files
        raise DatasetError(f"The folder '{path}' holds no .jsonl, .csv or .parquet files.")
    if source is None or str(source).startswith((".", "/", "~")):
        raise DatasetError(f"There is no data file at '{source}'.")
    return _download_hub_dataset(str(source))


def _download_hub_dataset(repo_id: str) -> list[Path]:
    """Download a Hub dataset's data files (CSV/JSONL/Parquet) with huggingface_hub."""
    from huggingface_hub import HfApi, hf_hub_download

    from demos import hub

    hub.require_hub()
    files = [
        name
        for name in HfApi().list_repo_files(repo_id, repo_type="dataset")
        if name.endswith(_SUFFIXES) and not name.startswith(".")
    ]
    if not files:
        raise DatasetError(f"The Hub dataset '{repo_id}' has no CSV, JSONL or Parquet files.")
    return [Path(hf_hub_download(repo_id, name, repo_type="dataset")) for name in files]


def _read_table(file: Path):
    import pandas as pd

    if file.suffix == ".parquet":
        try:
            return pd.read_parquet(file)
        except ImportError as error:
            raise DatasetError(
                "Reading Parquet files needs pyarrow (pip install pyarrow)."
            ) from error
    if file.suffix == ".csv":
        return pd.read_csv(file)
    if file.suffix == ".jsonl":
        return pd.read_json(file, lines=True)
    data = json.loads(file.read_text(encoding="utf-8"))
    return pd.DataFrame(data if isinstance(data, list) else data.get("data", []))


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
            raise DatasetError(f"'{label}' must be 'advice' or 'venting'.")
        mapping[value] = label
    return mapping
