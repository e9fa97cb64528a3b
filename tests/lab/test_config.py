"""Settings from the environment, sign-in visibility, which token is used, ZeroGPU wrapping."""

from __future__ import annotations

import pytest

from demos.lab import backends
from demos.lab.config import LabConfigError, load_config, login_enabled


def test_defaults_without_any_setting(monkeypatch):
    for name in (
        "LAB_BACKEND",
        "LAB_REMOTE_BASE_URL",
        "LAB_MAX_NEW_TOKENS",
        "LAB_JUDGE",
        "LAB_LOGIN",
    ):
        monkeypatch.delenv(name, raising=False)
    config = load_config()
    assert config.backend == "auto" and config.judge == "auto"
    assert config.max_new_tokens == 120 and config.context_tokens == 2048
    assert "token" not in repr(config).lower() or "tokens" in repr(config).lower()
    assert backends.backend_order(config, None) == ["local"]
    assert backends.backend_order(config, "hf_x") == ["remote", "local"]


def test_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "cloud")
    with pytest.raises(LabConfigError, match="LAB_BACKEND"):
        load_config()
    monkeypatch.setenv("LAB_BACKEND", "local")
    monkeypatch.setenv("LAB_MAX_NEW_TOKENS", "lots")
    with pytest.raises(LabConfigError, match="LAB_MAX_NEW_TOKENS"):
        load_config()
    monkeypatch.setenv("LAB_MAX_NEW_TOKENS", "999999")
    assert load_config().max_new_tokens == 4096  # clamped


def test_sign_in_shows_only_where_it_can_work(monkeypatch):
    monkeypatch.delenv("LAB_LOGIN", raising=False)
    monkeypatch.delenv("SYSTEM", raising=False)
    monkeypatch.delenv("OAUTH_CLIENT_ID", raising=False)
    assert not login_enabled(load_config())  # off a Space, Gradio's mock needs a logged-in machine
    monkeypatch.setenv("SYSTEM", "spaces")
    assert not login_enabled(load_config())  # a Space without hf_oauth in its README
    monkeypatch.setenv("OAUTH_CLIENT_ID", "client-id")
    assert login_enabled(load_config())
    monkeypatch.setenv("LAB_LOGIN", "off")
    assert not login_enabled(load_config())


def test_the_visitors_own_token_wins_over_the_spaces(monkeypatch):
    from gradio import OAuthToken

    from demos.lab.ui import _token

    monkeypatch.setenv("HF_TOKEN", "hf_space")
    assert _token(None) == "hf_space"
    assert (
        _token(OAuthToken(token="hf_visitor", scope="inference-api", expires_at=0)) == "hf_visitor"
    )
    monkeypatch.delenv("HF_TOKEN")
    assert _token(None) is None


def test_zerogpu_wraps_generation_in_spaces_gpu(monkeypatch):
    pytest.importorskip("spaces")
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert backends._generation_function(60) is backends._stream_local
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    wrapped = backends._generation_function(60)
    assert callable(wrapped)  # off a Space, spaces.GPU hands the function back unchanged


def test_the_ui_module_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, demos.lab.ui; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_sign_in_button_is_built_when_enabled(monkeypatch, scenarios):
    import gradio as gr

    from demos.lab import ui

    monkeypatch.setenv("LAB_LOGIN", "on")
    # Off a Space, Gradio mocks sign-in with the machine's own Hub account (a network call to
    # whoami); a fixed profile stands in, since only the lab's decision to show the button is tested.
    monkeypatch.setattr("gradio.oauth._get_mocked_oauth_info", lambda: {"userinfo": {}})
    with gr.Blocks() as demo:
        ui.build(scenarios=scenarios)
    shown = any(isinstance(block, gr.LoginButton) for block in demo.blocks.values())
    # Without the gradio[oauth] extras the button would break the app, so it is left out.
    assert shown == ui.oauth_available()
    monkeypatch.setenv("LAB_LOGIN", "off")
    with gr.Blocks() as demo:
        ui.build(scenarios=scenarios)
    assert not any(isinstance(block, gr.LoginButton) for block in demo.blocks.values())


def test_who_words_the_moves(monkeypatch, tmp_path):
    """LAB_VOICE=auto: the director alone with the small CPU stand-in, a model of 1B+ otherwise;
    the default GPU model is an instruction-tuned 1-4B model."""
    import json

    from demos.lab.config import (
        DEFAULT_GPU_MODEL,
        local_model_is_capable,
        model_parameters,
    )

    assert 1e9 <= model_parameters(DEFAULT_GPU_MODEL) <= 4e9
    assert "instruct" in DEFAULT_GPU_MODEL.lower()
    monkeypatch.setenv("HUB_DEVICE", "cpu")
    for name in ("LAB_CPU_MODEL", "LAB_VOICE"):
        monkeypatch.delenv(name, raising=False)
    assert load_config().voice == "auto"
    assert not local_model_is_capable(load_config())  # SmolLM2-135M by default
    small = tmp_path / "small"
    small.mkdir()
    (small / "config.json").write_text(
        json.dumps(
            {
                "hidden_size": 576,
                "num_hidden_layers": 30,
                "intermediate_size": 1536,
                "num_attention_heads": 9,
                "num_key_value_heads": 3,
                "vocab_size": 49152,
            }
        )
    )
    assert 1.2e8 < model_parameters(str(small)) < 1.5e8
    monkeypatch.setenv("LAB_CPU_MODEL", str(small))
    assert not local_model_is_capable(load_config())
    monkeypatch.setenv("LAB_CPU_MODEL", "Qwen/Qwen2.5-3B-Instruct")
    assert local_model_is_capable(load_config())
    monkeypatch.setenv("HUB_DEVICE", "cuda")
    monkeypatch.delenv("LAB_CPU_MODEL")
    assert local_model_is_capable(load_config())
    monkeypatch.setenv("LAB_VOICE", "loud")
    with pytest.raises(LabConfigError, match="LAB_VOICE"):
        load_config()
