"""demos/sessions.py: a session keeps what it changed, and behaves as Gradio's own session does."""

from __future__ import annotations

import gradio as gr
import pytest

from bench.gradio_http import call_sync
from demos import sessions


@pytest.fixture(scope="module")
def small_app():
    """A button that disables itself for its session, and a per-session counter."""
    sessions.install()
    with gr.Blocks() as demo:
        count = gr.State(0)
        shown = gr.Number()
        button = gr.Button("Go")

        def go(n):
            return n + 1, n + 1, gr.Button(interactive=False)

        button.click(go, count, [count, shown, button], api_name="go")
    demo.launch(prevent_thread_lock=True, quiet=True, ssr_mode=False)
    yield demo, count, button
    demo.close()


def test_each_session_keeps_its_own_state_and_replaced_components(small_app):
    demo, count, button = small_app
    url = demo.local_url
    # The REST API shows a gr.State output as null: the count is the Number, the second output.
    assert call_sync(url, "go", [], "alice").data[1] == 1
    assert call_sync(url, "go", [], "alice").data[1] == 2
    assert call_sync(url, "go", [], "bob").data[1] == 1
    holder = demo.server_app.state_holder
    alice, bob = holder["alice"], holder["bob"]
    assert isinstance(alice, sessions.LeanSessionState) and alice._lean
    assert alice.state_data[count._id] == 2 and bob.state_data[count._id] == 1
    # The button each session disabled is its own; the app's shared one is untouched.
    assert alice.blocks_config.blocks[button._id] is not demo.blocks[button._id]
    assert alice.blocks_config.blocks[button._id].interactive is False
    assert demo.blocks[button._id].interactive is not False
    assert set(alice.owned_blocks) == {button._id}
    # Nothing else of the app was copied or rendered for the session.
    assert alice.config_values == {}
    fresh = holder["carol"]
    assert fresh.owned_blocks == {} and fresh.state_data == {}


def test_a_lean_session_has_every_attribute_gradio_gives_one(small_app):
    """A Gradio upgrade that adds to SessionState.__init__ fails here, not in production."""
    demo, *_ = small_app
    original = sessions._ORIGINAL(demo)
    lean = sessions.LeanSessionState(demo)
    assert set(vars(original)) <= set(vars(lean)), set(vars(original)) - set(vars(lean))


def test_an_app_with_render_keeps_gradio_s_full_copy():
    """gr.render adds blocks and events per session: such an app needs Gradio's own session."""
    with gr.Blocks() as demo:
        box = gr.Textbox()

        @gr.render(inputs=box)
        def show(text):
            gr.Markdown(text)

    session = sessions.LeanSessionState(demo)
    assert not session._lean
    assert session.config_values  # Gradio's own per-session config
