"""Settings a Space duplicator may change, read from the environment in this one place.

CALCULATOR_HUB_TIMEOUT_S   seconds to wait for the Hub when reading a model's size (default 5)
CALCULATOR_DATA_DIR        folder holding gpus.yaml, platforms.yaml, models.yaml (default: the package's data/)
CALCULATOR_LOCAL_MODEL_DIRS  folders (":"-separated) whose model subfolders visitors may name (default: none)
HF_HUB_OFFLINE             when "1", the calculator never calls the Hub (huggingface_hub's own variable)
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"


def hub_timeout_s() -> float:
    """Seconds to wait for the Hub before reporting it unreachable."""
    try:
        return max(0.5, float(os.environ.get("CALCULATOR_HUB_TIMEOUT_S", "5")))
    except ValueError:
        return 5.0


def data_dir() -> Path:
    """Folder of the YAML reference tables."""
    return Path(os.environ.get("CALCULATOR_DATA_DIR") or DEFAULT_DATA_DIR)


def hub_offline() -> bool:
    """True when the Hub must not be called (HF_HUB_OFFLINE set to a true value)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def local_model_dirs() -> list[Path]:
    """Folders whose model subfolders a visitor may name in the model field (CALCULATOR_LOCAL_MODEL_DIRS).

    Several folders are separated by the platform's path separator (":" on Linux). Empty (the
    default): visitors can only pick built-in models and Hub IDs.
    """
    raw = os.environ.get("CALCULATOR_LOCAL_MODEL_DIRS", "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]
