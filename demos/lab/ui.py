"""The lab tab: pick a lesson's scenario, argue your case with its character, get coached.

Widgets and wiring only; the logic lives in :mod:`demos.lab.session`. Nothing heavy is imported
here: models load on first use.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from demos import logs
from demos.config import settings
from demos.course import Scenario, load_course
from demos.lab.backends import send_concurrency
from demos.lab.coach import debrief_markdown, transcript_markdown
from demos.lab.config import LabConfigError, load_config, login_enabled, space_token
from demos.lab.coverage import Coverage
from demos.lab.session import LabBusy, LabEngine, LabError, LabSession
from demos.ui_common import event_api

log = logging.getLogger(__name__)
_MARK = {"covered": "✅", "partial": "🟡", "missing": "⬜"}


def _token(oauth_token: gr.OAuthToken | None) -> str | None:
    """The visitor's own token when signed in, else the Space's secret (never returned anywhere)."""
    if oauth_token is not None and getattr(oauth_token, "token", None):
        return oauth_token.token
    return space_token()


def meter_markdown(coverage: Coverage | None) -> str:
    """The live checklist of the card's points."""
    if coverage is None:
        return "**Points covered:** start the conversation to see them fill in."
    total = len(coverage.points)
    bar = "▰" * coverage.covered + "▱" * (total - coverage.covered)
    lines = [f"**Points covered: {coverage.covered} of {total}** {bar}", ""]
    lines += [f"- {_MARK[p.status]} {p.point}" for p in coverage.points]
    return "\n".join(lines)


def brief_markdown(scenario: Scenario) -> str:
    character = scenario.character
    return (
        f"**{character.name}** · {character.role}  \n*{character.temperament}*\n\n"
        f"**Your brief:** {scenario.brief}"
    )


def status_markdown(session: LabSession | None, notice: str = "") -> str:
    parts = []
    if session is not None and session.backend_label:
        parts.append(f"Character played by the {session.backend_label}.")
    if notice:
        parts.append(notice)
    return " ".join(parts)


def chat_messages(session: LabSession, waiting: str = "") -> list[dict[str, str]]:
    """The conversation as shown; while the reply waits for a place in the local model, its
    empty bubble says so (the status line too), where the learner is looking."""
    chat = session.visible_messages()
    if waiting and chat and chat[-1]["role"] == "assistant" and not chat[-1]["content"]:
        chat[-1]["content"] = f"*⏳ {waiting}*"
    return chat


def _learner_error(exc: Exception) -> gr.Error:
    if isinstance(exc, (LabError, LabConfigError)):
        return logs.refused(str(exc))
    # Only the class name is logged: an exception's text could carry a URL or a header.
    log.error("lab: unexpected %s", type(exc).__name__)
    return gr.Error(
        "The lab hit a problem it did not expect. Please try again in a moment.",
        print_exception=False,
    )


def oauth_available() -> bool:
    """Whether Gradio's sign-in can work here (it needs the ``gradio[oauth]`` extras)."""
    return all(importlib.util.find_spec(name) is not None for name in ("itsdangerous", "authlib"))


def _safe_name(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40] or "lab"


def build(expose_api: bool = True, *, scenarios: Sequence[Scenario] | None = None) -> None:
    """The lab inside the current Blocks: scenario picker, chat, live coverage meter, debrief.

    ``scenarios`` defaults to the lessons' scenario cards.
    """
    if scenarios is None:
        scenarios = load_course(settings.lessons_dir).scenarios
    config = load_config()
    engine = LabEngine(scenarios, config)
    if not scenarios:
        gr.Markdown("No lesson has a scenario card yet, so the lab has nothing to role-play.")
        return
    first = scenarios[0]
    choices = [(s.title, s.lesson_id) for s in scenarios]

    state = gr.State(None)
    with gr.Row(equal_height=True):
        scenario_pick = gr.Dropdown(
            choices, value=first.lesson_id, label="Scenario", scale=3, elem_id="lab-scenario"
        )
        restart = gr.Button("Start over", variant="secondary", scale=0, min_width=120)
        if login_enabled(config):
            if oauth_available():
                gr.LoginButton(scale=0, min_width=200)
            else:
                log.warning("lab: sign-in needs gradio[oauth] (itsdangerous, authlib); not shown")
    brief = gr.Markdown(brief_markdown(first), elem_id="lab-brief")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                [{"role": "assistant", "content": first.opening}],
                label="Conversation",
                show_label=False,
                height=440,
                # Gradio's "share" button has no accessible name, and a practice conversation
                # is not for posting to the Space's discussions.
                buttons=["copy", "copy_all"],
                elem_id="lab-chat",
            )
            message = gr.Textbox(
                placeholder="Make your case… (Enter sends, Shift+Enter for a new line)",
                show_label=False,
                lines=2,
                max_lines=8,
                elem_id="lab-message",
            )
            with gr.Row():
                send = gr.Button("Send", variant="primary", elem_id="lab-send")
                end = gr.Button("End and get feedback", elem_id="lab-end")
        with gr.Column(scale=2):
            meter = gr.Markdown(meter_markdown(None), elem_id="lab-meter")
            status = gr.Markdown("", elem_id="lab-status")
    debrief = gr.Markdown("", elem_id="lab-debrief")
    download = gr.DownloadButton(
        "Download transcript and feedback (.md)", visible=False, elem_id="lab-download"
    )

    def start_scenario(scenario_id: str, oauth_token: gr.OAuthToken | None = None):
        """Start the chosen scenario: the character opens the conversation."""
        try:
            session = engine.start(scenario_id)
            engine.warm(session, _token(oauth_token))
            scenario = engine.scenario(scenario_id)
        except Exception as exc:
            raise _learner_error(exc) from None
        return (
            session,
            session.visible_messages(),
            brief_markdown(scenario),
            meter_markdown(session.coverage),
            "",
            "",
            gr.DownloadButton(visible=False),
        )

    start_outputs = [state, chatbot, brief, meter, status, debrief, download]
    gr.on(
        [scenario_pick.change, restart.click],
        start_scenario,
        inputs=[scenario_pick],
        outputs=start_outputs,
        **event_api("lab_start", expose_api),
    )

    known_ids = {s.lesson_id for s in scenarios}

    def scenario_from_address(request: gr.Request):
        """Open the scenario named by ``?scenario=<lesson id>`` (the lessons' "Your turn" links)."""
        wanted = request.query_params.get("scenario") if request else None
        if wanted in known_ids and wanted != first.lesson_id:
            return gr.Dropdown(value=wanted)
        return gr.skip()

    # No trigger: runs when the page loads.
    gr.on(
        None,
        scenario_from_address,
        inputs=None,
        outputs=scenario_pick,
        **event_api("lab_scenario_from_address", expose_api, internal=True),
    )

    def send_message(
        text: str,
        scenario_id: str,
        session: LabSession | None,
        oauth_token: gr.OAuthToken | None = None,
    ):
        """Send a message to the character and stream its reply; the coverage meter updates."""
        try:
            if session is None or session.scenario_id != scenario_id:
                session = engine.start(scenario_id)
            if not (text or "").strip():  # an empty Send does nothing, like any chat
                chat, meter_text = session.visible_messages(), meter_markdown(session.coverage)
                yield chat, meter_text, gr.skip(), session, "", gr.skip()
                return
            updates = engine.reply(session, text, _token(oauth_token))
            for index, update in enumerate(updates):
                first = index == 0
                yield (
                    chat_messages(session, update.waiting),
                    meter_markdown(update.coverage),
                    status_markdown(
                        session, " ".join(filter(None, [update.notice, update.waiting]))
                    ),
                    session,
                    "" if first else gr.skip(),
                    gr.Button(interactive=False) if first else gr.skip(),
                )
        except LabBusy as exc:  # the line is full: say so and give the draft back, no error
            yield (
                session.visible_messages(),
                meter_markdown(session.coverage),
                status_markdown(session, str(exc)),
                session,
                text,
                gr.Button(interactive=True),
            )
        except Exception as exc:
            raise _learner_error(exc) from None

    # The first update empties the box and greys Send out (a click during a reply would be
    # ignored); later updates leave both alone, and `then` brings Send back even after an error.
    # Up to the local model's places and line (see backends.send_concurrency): the lab tells
    # each waiting learner their number itself, instead of Gradio's default of two at a time.
    gr.on(
        [message.submit, send.click],
        send_message,
        inputs=[message, scenario_pick, state],
        outputs=[chatbot, meter, status, state, message, send],
        show_progress="minimal",
        show_progress_on=[chatbot],  # the status line stays readable (e.g. a place in line)
        concurrency_limit=send_concurrency(config),
        concurrency_id="lab_send",
        **event_api("lab_send", expose_api),
    ).then(
        lambda: gr.Button(interactive=True),
        outputs=[send],
        **event_api("lab_send_ready", expose_api, internal=True),
    )

    def preview_coverage(
        draft: str,
        scenario_id: str,
        session: LabSession | None,
        oauth_token: gr.OAuthToken | None = None,
    ):
        """Coverage of the points if the draft were sent now."""
        try:
            if session is None or session.scenario_id != scenario_id:
                # The learner started typing in the scenario shown at page load: open it now,
                # so the model has read the persona by the time the message is sent.
                session = engine.start(scenario_id)
                engine.warm(session, _token(oauth_token))
                return meter_markdown(engine.preview(session, draft or "")), session
            return meter_markdown(engine.preview(session, draft or "")), gr.skip()
        except Exception as exc:
            raise _learner_error(exc) from None

    message.change(
        preview_coverage,
        inputs=[message, scenario_pick, state],
        outputs=[meter, state],
        trigger_mode="always_last",
        show_progress="hidden",
        **event_api("lab_preview", expose_api),
    )

    def end_conversation(
        scenario_id: str, session: LabSession | None, oauth_token: gr.OAuthToken | None = None
    ):
        """End the role-play: the coach scores each point, quotes you and suggests one improvement."""
        try:
            if session is None or session.scenario_id != scenario_id:
                session = engine.start(scenario_id)
            result = engine.end(session, _token(oauth_token))
            scenario = engine.scenario(scenario_id)
            document = transcript_markdown(scenario, session.visible_messages(), result)
        except Exception as exc:
            raise _learner_error(exc) from None
        folder = Path(tempfile.mkdtemp(prefix="lab-"))
        path = folder / f"lab-{_safe_name(scenario_id)}-{time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(document, encoding="utf-8")
        return (
            debrief_markdown(result),
            gr.DownloadButton(value=str(path), visible=True),
            meter_markdown(session.coverage),
            session,
        )

    end.click(
        end_conversation,
        inputs=[scenario_pick, state],
        outputs=[debrief, download, meter, state],
        **event_api("lab_end", expose_api),
    )
