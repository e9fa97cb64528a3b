"""Per-visitor session state that costs what the visitor changed, not a copy of the whole app.

Gradio 6.31 keeps one ``SessionState`` per ``session_hash`` (every page load, every REST call
without one, every ``gradio_client.Client``) and keeps up to 10,000 of them. Its constructor
copies the app's block table and renders the config of *every* block of the app into
``config_values``, then keeps each input and output value a call touches in it too: all of that
only so that ``gr.DeepLinkButton`` can later write "the page as this visitor sees it" to disk.
For this course (about 600 blocks, lessons as Markdown) that is about 1 MiB per session, kept
until 10,000 newer sessions push it out: about 10 GiB on a Space.

``LeanSessionState`` keeps what a session really owns: the values of its ``gr.State``
components and the components an event replaced for it (``gr.Button(interactive=False)``, ...),
in a small dict layered over the app's shared block table. It falls back to Gradio's own
behaviour for an app that uses ``gr.render`` (which adds blocks and events per session) or a
``gr.DeepLinkButton`` (which needs the per-session config).
"""

from __future__ import annotations

import collections
import datetime
import os
import sys
from typing import Any

from gradio import blocks as gradio_blocks
from gradio import state_holder
from gradio.blocks import BlocksConfig
from gradio.components import DeepLinkButton, State

_ORIGINAL = state_holder.SessionState


def needs_full_copy(blocks) -> bool:
    """True when a session must own a full copy of the app's config (Gradio's default)."""
    return bool(blocks.renderables) or any(
        isinstance(block, DeepLinkButton) for block in blocks.blocks.values()
    )


def _layered_config(shared: BlocksConfig) -> BlocksConfig:
    """A BlocksConfig whose block table writes go to a private dict over the shared one.

    Events (``fns``) and renderables stay shared: without ``gr.render`` nothing changes them
    after start-up.
    """
    layered = BlocksConfig.__new__(BlocksConfig)
    layered.__dict__.update(shared.__dict__)
    layered.blocks = collections.ChainMap({}, shared.blocks)
    return layered


class LeanSessionState(_ORIGINAL):
    def __init__(self, blocks):
        self._lean = not needs_full_copy(blocks)
        if not self._lean:
            super().__init__(blocks)
            return
        self._blocks = blocks
        self.blocks_config = _layered_config(blocks.default_config)
        self.config_values: dict[int, Any] = {}  # never filled: only deep links read it
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, tuple] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def __setitem__(self, key: int, value: Any):
        if not self._lean:
            return super().__setitem__(key, value)
        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value

    def _update_config(self, key: int):
        if not self._lean:
            super()._update_config(key)

    def _update_value_in_config(self, key: int, value: Any):
        if not self._lean:
            super()._update_value_in_config(key, value)

    @property
    def components(self):
        if not self._lean:
            yield from super().components
            return
        for key, block in self.blocks_config.blocks.items():
            if key in self._blocks.blocks:
                config = self.blocks_config.config_for_block(key, [], block)
                if config:
                    yield config

    @property
    def owned_blocks(self) -> dict:
        """The components this session replaced (empty for Gradio's own full copy)."""
        return self.blocks_config.blocks.maps[0] if self._lean else {}


def install() -> None:
    """Make every new Gradio session of this process a ``LeanSessionState`` (idempotent).

    ``StateHolder`` (one session per ``session_hash``), ``Blocks.process_api`` (calls without a
    session) and the MCP server's fast path each construct ``SessionState`` by name; gradio.mcp
    copies the name when it is imported, so it is patched here only if it is already loaded.
    """
    for module in (state_holder, gradio_blocks, sys.modules.get("gradio.mcp")):
        if module is not None:
            module.SessionState = LeanSessionState
