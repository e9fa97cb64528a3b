"""demos/hub.py: resolving, the allowlist, the cache, offline behaviour, device and progress."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from demos import hub
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_importing_hub_does_not_import_torch_or_transformers():
    code = "import sys, demos.hub; print(any(m in sys.modules for m in ('torch', 'transformers')))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_local_folder_resolves_to_itself(tiny_classifier):
    resolved = hub.resolve(str(tiny_classifier))
    assert resolved.is_local
    assert resolved.location == str(tiny_classifier.resolve())


def test_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(hub.ModelNotFound, match="no config.json"):
        hub.resolve(tmp_path)


def test_missing_path_is_a_clear_error():
    with pytest.raises(hub.ModelNotFound, match="no model folder"):
        hub.resolve("./does/not/exist")


@pytest.mark.parametrize("bad", ["", "   ", "not a model id!", "a/b/c/d", "x" * 300])
def test_malformed_references_are_refused(bad):
    with pytest.raises(hub.HubError):
        hub.resolve(bad)


def test_visitor_cannot_pick_a_model_off_the_allowlist():
    with pytest.raises(hub.ModelNotAllowed, match="not on this Space's list"):
        hub.resolve("evil-org/remote-code-model", from_visitor=True)
    assert issubclass(hub.ModelNotAllowed, ValueError)


def test_visitor_local_path_needs_the_allowlist(tiny_classifier, monkeypatch):
    with pytest.raises(hub.ModelNotAllowed):
        hub.resolve(tiny_classifier, from_visitor=True)
    monkeypatch.setenv("HUB_ALLOWLIST", f"foo/bar, {tiny_classifier}")
    assert hub.resolve(tiny_classifier, from_visitor=True).is_local
    assert hub.is_allowed("foo/bar")


def test_a_loaded_model_is_still_not_a_visitors_pick(tiny_classifier):
    hub.load_model(tiny_classifier)  # the operator's configured model, now cached
    with pytest.raises(hub.ModelNotAllowed):
        hub.load_model(tiny_classifier, from_visitor=True)
    with pytest.raises(hub.ModelNotAllowed):
        hub.load_pipeline("text-classification", tiny_classifier, from_visitor=True)


def test_registered_models_are_allowed(tiny_classifier):
    assert not hub.is_allowed(tiny_classifier)
    hub.register_allowed(tiny_classifier, None)
    assert hub.is_allowed(str(tiny_classifier))
    # The same folder written another way is the same model.
    assert hub.is_allowed(str(tiny_classifier) + "/")


def test_default_demo_models_are_allowed():
    assert hub.is_allowed("distilbert/distilbert-base-uncased-finetuned-sst-2-english")


def test_offline_hub_id_not_cached_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailable, match="offline"):
        hub.load_model("some-org/not-cached-model")
    assert time.monotonic() - start < 5
    assert not hub.hub_reachable()


def test_unreachable_hub_gives_a_quick_clear_message(monkeypatch, tmp_path):
    # A port nobody listens on: the probe is refused at once, instead of a minute-long download.
    closed_port = free_port()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setattr(hub, "_cached_snapshot", lambda repo_id, gguf_file: None)
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailable, match="cannot be reached"):
        hub.load_pipeline("text-classification", "some-org/some-model")
    assert time.monotonic() - start < 5


def test_offline_cached_hub_id_resolves_to_the_cache(monkeypatch, tiny_classifier):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "_cached_snapshot", lambda repo_id, gguf_file: str(tiny_classifier))
    resolved = hub.resolve("some-org/cached-model")
    assert resolved.is_local and resolved.location == str(tiny_classifier)


def test_load_model_returns_model_and_tokenizer_in_eval_mode(tiny_classifier):
    stages: list[tuple[float, str]] = []
    model, tokenizer = hub.load_model(
        tiny_classifier, progress=lambda fraction, desc: stages.append((fraction, desc))
    )
    assert not model.training
    assert model.config.id2label[0] == "advice"
    assert tokenizer("i need advice")["input_ids"][0] == tokenizer.cls_token_id
    assert stages[0][0] == 0.0 and stages[-1] == (1.0, "Model ready")
    assert [fraction for fraction, _ in stages] == sorted(fraction for fraction, _ in stages)
    assert str(model.device) == "cpu"


def test_cache_returns_the_same_object(tiny_classifier):
    first = hub.load_model(tiny_classifier)
    second = hub.load_model(str(tiny_classifier))
    assert first[0] is second[0]
    assert hub.is_loaded("sequence-classification", tiny_classifier)
    hub.clear_cache(tiny_classifier)
    assert hub.load_model(tiny_classifier)[0] is not first[0]


def test_concurrent_first_requests_load_once(tiny_classifier, monkeypatch):
    import transformers

    calls = []
    original = transformers.AutoModelForSequenceClassification.from_pretrained

    def slow_from_pretrained(*args, **kwargs):
        calls.append(1)
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(
        transformers.AutoModelForSequenceClassification, "from_pretrained", slow_from_pretrained
    )
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(hub.load_model(tiny_classifier)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(result[0] is results[0][0] for result in results)


def test_trust_remote_code_is_refused(tiny_classifier):
    with pytest.raises(ValueError, match="trust_remote_code"):
        hub.load_model(tiny_classifier, trust_remote_code=True)
    with pytest.raises(ValueError, match="trust_remote_code"):
        hub.load_pipeline("text-classification", tiny_classifier, trust_remote_code=True)


def test_trust_remote_code_is_false_in_every_from_pretrained_call(tiny_classifier, monkeypatch):
    import transformers

    seen = []
    original = transformers.AutoTokenizer.from_pretrained

    def spy(*args, **kwargs):
        seen.append(kwargs.get("trust_remote_code"))
        return original(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", spy)
    hub.load_model(tiny_classifier)
    assert seen == [False]


def test_causal_lm_from_a_plain_folder_generates(tiny_causal_lm):
    import torch

    model, tokenizer = hub.load_model(tiny_causal_lm, "causal-lm")
    inputs = tokenizer("i need help", return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 3


def test_gguf_file_argument_reaches_from_pretrained(tiny_causal_lm, monkeypatch):
    import transformers

    seen = {}

    def fake(location, **kwargs):
        seen[kwargs.get("gguf_file")] = location
        raise RuntimeError("stop here")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", fake)
    gguf = tiny_causal_lm.parent / "weights.Q4.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(RuntimeError, match="stop here"):
        hub.load_model(gguf, "causal-lm")
    assert seen == {"weights.Q4.gguf": str(tiny_causal_lm.parent.resolve())}


def test_unknown_kind_is_refused(tiny_classifier):
    with pytest.raises(ValueError, match="Unknown model kind"):
        hub.load_model(tiny_classifier, "image-generation")  # type: ignore[arg-type]


def test_load_pipeline_classifies(tiny_classifier):
    stages = []
    classify = hub.load_pipeline(
        "text-classification", tiny_classifier, lambda f, d: stages.append(d)
    )
    result = classify("i need advice")
    assert result[0]["label"] in {"advice", "venting"}
    assert hub.load_pipeline("text-classification", tiny_classifier) is classify
    assert stages[-1] == "Model ready"


def test_device_follows_hub_device(monkeypatch):
    monkeypatch.setenv("HUB_DEVICE", "cuda:1")
    assert hub.pick_device() == "cuda:1"
    monkeypatch.setenv("HUB_DEVICE", "auto")
    import torch

    assert hub.pick_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_broken_progress_callback_does_not_break_loading(tiny_classifier):
    def broken(fraction, desc):
        raise RuntimeError("progress bar gone")

    model, _ = hub.load_model(tiny_classifier, progress=broken)
    assert model is not None


@pytest.mark.gpu
def test_model_goes_to_the_gpu(tiny_classifier):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    model, _ = hub.load_model(tiny_classifier)
    assert model.device.type == "cuda"
