"""Settings every test shares (never touch the network, never phone home) and the served app.

``app_url`` runs the Space as `python app.py` in a subprocess on a free port. A test module
that needs settings (a model path, a backend) overrides the module-scoped ``app_env`` fixture;
each module gets its own server so settings never leak between tools.
"""

import os
import sys
from pathlib import Path

import pytest

from tests.servers import free_port, serving, without_known_races

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# The Space trains its own classifier after start-up (minutes of CPU): tests that want it say so.
os.environ.setdefault("ADVICE_BACKGROUND_TRAINING", "off")
# The lab's local model multiplies batched steps in bf16 on CPUs that have it in hardware, which
# depends on the machine running the tests: off, so replies compare exactly with ``generate`` on
# any CI machine; tests/lab/test_batched_bf16.py turns it on where it tests it.
os.environ.setdefault("LAB_CPU_BF16", "off")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """Extra environment for the app under test; override in a module to configure a tool."""
    return {}


@pytest.fixture(scope="module")
def app_log_path(tmp_path_factory) -> Path:
    """Where ``app_url``'s server writes its log (stdout and stderr)."""
    return tmp_path_factory.mktemp("app") / "app.log"


@pytest.fixture(scope="module")
def app_url(app_env, app_log_path):
    """Start `python app.py` on a free port and yield its base URL; stop it afterwards."""
    port = free_port()
    log_path = app_log_path
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        **app_env,
    }
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "app.py"]
    with serving(command, ready_url=url + "/config", log_path=log_path, env=env, cwd=ROOT):
        yield url
    app_log = log_path.read_text()
    # A traceback in the server log means a visitor somewhere saw an error we did not handle.
    errors = without_known_races(app_log)
    assert "Traceback (most recent call last)" not in errors, errors[-4000:]
    # Secrets handed to the app never reach its logs.
    for name, value in app_env.items():
        if name.endswith(("_TOKEN", "_SECRET")) and value:
            assert value not in app_log, f"{name} appears in the app's log"
