"""The lab tab: pick a lesson's scenario, argue your case with its character, get coached.

Widgets and wiring only; the logic lives in :mod:`demos.lab.session`. Nothing heavy is imported
here: models load on first use.

The conversation on the page is the state: every event reads the chat and sends it back,
and the public API and MCP tools (``start_scenario``, ``send_message``, ``preview_coverage``,
``end_conversation``) take the conversation so far as an argument and return JSON.
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from demos import logs
from demos.config import settings
from demos.course import Scenario, load_course
from demos.lab.backends import send_concurrency
from demos.lab.coach import Debrief, debrief_markdown, plain_markdown, transcript_markdown
from demos.lab.config import LabConfigError, load_config, login_enabled, space_token
from demos.lab.coverage import Coverage
from demos.lab.director import script_for
from demos.lab.prompts import prompt_texts
from demos.lab.session import LabBusy, LabEngine, LabError, LabSession
from demos.ui_common import event_api

log = logging.getLogger(__name__)
DEBRIEF_DIR = Path(tempfile.gettempdir()) / "course-lab-debriefs"
DEBRIEF_KEEP = 200  # files kept in DEBRIEF_DIR; older ones are deleted as new ones arrive
DEBRIEF_MAX_AGE_S = 3600.0
_debrief_lock = threading.Lock()

# Keeps ?scenario= in the address bar in step with the picker (and ?tab=lab in the full app), so
# the view can be bookmarked or shared; replaceState: no new history entry per pick.
_ADDRESS_JS = """
(scenario) => {
  try {
    const url = new URL(window.location.href);
    url.searchParams.set("scenario", scenario);
    if (%(in_tab)s) url.searchParams.set("tab", "lab");
    if (url.href !== window.location.href) history.replaceState(history.state, "", url.href);
  } catch (e) {}
  return scenario;
}
"""


def _token(oauth_token: gr.OAuthToken | None) -> str | None:
    """The visitor's own token when signed in, else the Space's secret (never returned anywhere)."""
    if oauth_token is not None and getattr(oauth_token, "token", None):
        return oauth_token.token
    return space_token()


def meter_markdown(scenario: Scenario, coverage: Coverage | None) -> str:
    """Progress before the debrief: how many points, and the topics already covered. The rubric
    itself stays hidden until the debrief (restating it would earn nothing anyway)."""
    total = len(scenario.rubric)
    if coverage is None:
        return f"**Points covered: 0 of {total}**"
    script = script_for(scenario)
    done = [script.point(p.id).topic for p in coverage.points if p.status == "covered"]
    started = sum(p.status == "partial" for p in coverage.points)
    bar = "▰" * len(done) + "▱" * (total - len(done))
    lines = [f"**Points covered: {len(done)} of {total}** {bar}", ""]
    lines += [f"- ✅ {topic}" for topic in done]
    rest = total - len(done)
    if rest:
        hint = f" ({started} touched on)" if started else ""
        lines.append(f"- ⬜ {rest} more to find{hint}: specifics count (names, numbers, an order).")
    return "\n".join(lines)


def brief_markdown(scenario: Scenario) -> str:
    character = scenario.character
    return (
        f"**{character.name}** · {character.role}  \n*{character.temperament}*\n\n"
        f"**Your brief:** {scenario.brief}"
    )


def player_markdown(engine: LabEngine, scenario: Scenario, token: str | None, login: bool) -> str:
    """Who plays the character, in plain words, with how to get the full character."""
    player = engine.player(token)
    texts = prompt_texts().player
    name = scenario.character.name
    if player.voice == "director":
        upgrade = texts["director_upgrade_login"] if login else texts["director_upgrade"]
        return texts["director"].format(name=name, upgrade=upgrade)
    return texts["model"].format(name=name, label=player.label)


def status_markdown(session: LabSession | None, notice: str = "") -> str:
    return plain_markdown(notice) if notice else ""


def chat_for_page(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Messages for the chat widget: text shown exactly as written, never rendered as HTML."""
    return [
        {"role": m["role"], "content": html.escape(m["content"], quote=False)} for m in messages
    ]


def chat_from_page(chat) -> list[dict[str, str]]:
    """The chat widget's value back as plain role/content messages."""
    messages = []
    for item in chat or []:
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(content, dict):
            content = content.get("text") or content.get("value") or ""
        if isinstance(content, str):
            messages.append({"role": item.get("role", ""), "content": html.unescape(content)})
    if messages and messages[-1]["role"] == "assistant":
        if messages[-1]["content"].startswith(WAITING_MARK):
            messages.pop()  # a reply that was still waiting for the local model: not said
    return messages


WAITING_MARK = "⏳ "  # starts the bubble of a reply waiting for a place (never a real reply)


def chat_messages(session: LabSession, waiting: str = "") -> list[dict[str, str]]:
    """The conversation as shown; while the reply waits for a place in the local model, its
    empty bubble says so (the status line too), where the learner is looking."""
    chat = session.visible_messages()
    if waiting and chat and chat[-1]["role"] == "assistant" and not chat[-1]["content"]:
        chat[-1]["content"] = WAITING_MARK + waiting
    return chat


def _learner_error(exc: Exception) -> gr.Error:
    if isinstance(exc, (LabError, LabConfigError)):
        return logs.refused(html.escape(str(exc), quote=False))
    # Only the class name is logged: an exception's text could carry a URL or a header.
    log.error("lab: unexpected %s", type(exc).__name__)
    return gr.Error(
        "The lab hit a problem it did not expect. Please try again in a moment.",
        print_exception=False,
    )


def oauth_available() -> bool:
    """Whether Gradio's sign-in can work here (it needs the ``gradio[oauth]`` extras)."""
    return all(importlib.util.find_spec(name) is not None for name in ("itsdangerous", "authlib"))


def debrief_file(document: str) -> str:
    """Write ``document`` into the lab's one bounded folder and return its path.

    Gradio copies a download into its own cache, so the folder only has to hold the file until
    then: it keeps the newest :data:`DEBRIEF_KEEP` files younger than an hour.
    """
    with _debrief_lock:
        DEBRIEF_DIR.mkdir(parents=True, exist_ok=True)
        now = time.time()
        files = sorted(DEBRIEF_DIR.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True)
        for index, old in enumerate(files):
            if index >= DEBRIEF_KEEP - 1 or now - old.stat().st_mtime > DEBRIEF_MAX_AGE_S:
                old.unlink(missing_ok=True)
        path = (
            DEBRIEF_DIR / f"lab-debrief-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.md"
        )
        path.write_text(document, encoding="utf-8")
    return str(path)


def _coverage_json(scenario: Scenario, coverage: Coverage | None) -> dict:
    script = script_for(scenario)
    covered = [p for p in (coverage.points if coverage else ()) if p.status == "covered"]
    return {
        "covered": len(covered),
        "total": len(scenario.rubric),
        "topics_covered": [script.point(p.id).topic for p in covered],
    }


def _debrief_json(debrief: Debrief, markdown: str) -> dict:
    return {
        "score": round(debrief.score, 3),
        "covered": debrief.covered,
        "total": len(debrief.feedback),
        "judged_by": debrief.judge,
        # "performance", "thin" or "vague" when the whole conversation lowered the verdicts, else ""
        "lowered": debrief.lowered,
        "points": [
            {
                "point": f.point,
                "status": f.status,
                "quote": f.quote,
                "evidence": f.evidence,
                "improvement": f.improvement,
            }
            for f in debrief.feedback
        ],
        "debrief_markdown": markdown,
    }


def warm() -> None:
    """Load the sentence encoder (MiniLM) when the lab's tab opens: the meter and the guard need
    it for the first message, and the visitor is still reading the brief."""
    from demos.lab.config import minilm_reference
    from demos.lab.coverage import get_embedder

    try:
        get_embedder(minilm_reference(load_config()))
    except Exception as exc:  # the first message will say what is wrong
        log.warning("lab: warm-up failed (%s)", type(exc).__name__)


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
    show_login = login_enabled(config) and oauth_available()
    if login_enabled(config) and not show_login:
        log.warning("lab: sign-in needs gradio[oauth] (itsdangerous, authlib); not shown")

    player = gr.Markdown(
        player_markdown(engine, first, space_token(), show_login),
        elem_id="lab-player",
        elem_classes=["lab-player"],
    )
    with gr.Row(equal_height=True):
        scenario_pick = gr.Dropdown(
            choices, value=first.lesson_id, label="Scenario", scale=3, elem_id="lab-scenario"
        )
        restart = gr.Button("Start over", variant="secondary", scale=0, min_width=120)
        if show_login:
            gr.LoginButton(scale=0, min_width=200)
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                chat_for_page([{"role": "assistant", "content": first.opening}]),
                label="Conversation",
                show_label=False,
                height=380,
                render_markdown=False,  # with the text escaped: a visitor's HTML is shown, not run
                # Gradio's "share" button has no accessible name, and a practice conversation
                # is not for posting to the Space's discussions.
                buttons=["copy", "copy_all"],
                elem_id="lab-chat",
                elem_classes=["tool-result"],
            )
            with gr.Group(elem_id="lab-send-bar", elem_classes=["tool-action"]):
                # lines=1 with max_lines>1: Enter sends, Shift+Enter adds a line, the box grows.
                message = gr.Textbox(
                    placeholder="Make your case… (Enter sends, Shift+Enter for a new line)",
                    show_label=False,
                    lines=1,
                    max_lines=8,
                    elem_id="lab-message",
                )
                with gr.Row(equal_height=True):
                    send = gr.Button("Send", variant="primary", elem_id="lab-send")
                    end = gr.Button("End and get feedback", elem_id="lab-end")
        with gr.Column(scale=2):
            brief = gr.Markdown(brief_markdown(first), elem_id="lab-brief")
            meter = gr.Markdown(meter_markdown(first, None), elem_id="lab-meter")
            status = gr.Markdown("", elem_id="lab-status")
    debrief = gr.Markdown("", elem_id="lab-debrief")
    download = gr.DownloadButton(
        "Download transcript and feedback (.md)", visible=False, elem_id="lab-download"
    )

    # ------------------------------------------------------------------ the page's events

    def ui_start(scenario_id: str, oauth_token: gr.OAuthToken | None = None):
        try:
            token = _token(oauth_token)
            session = engine.start(scenario_id)
            engine.warm(session, token)
            scenario = engine.scenario(scenario_id)
        except Exception as exc:
            raise _learner_error(exc) from None
        return (
            chat_for_page(session.visible_messages()),
            brief_markdown(scenario),
            meter_markdown(scenario, session.coverage),
            "",
            "",
            gr.DownloadButton(visible=False),
            player_markdown(engine, scenario, token, show_login),
        )

    gr.on(
        [scenario_pick.change, restart.click],
        ui_start,
        inputs=[scenario_pick],
        outputs=[chatbot, brief, meter, status, debrief, download, player],
        **event_api("lab_start_ui", expose_api, internal=True),
    )
    scenario_pick.change(
        None,
        inputs=[scenario_pick],
        js=_ADDRESS_JS % {"in_tab": "true" if expose_api else "false"},
        **event_api("lab_address", expose_api, internal=True),
    )

    known_ids = {s.lesson_id for s in scenarios}

    def scenario_from_address(request: gr.Request, oauth_token: gr.OAuthToken | None = None):
        """Open the scenario named by ``?scenario=<lesson id>`` (the lessons' "Your turn" links),
        and say who plays for this visitor (signed in: the hosted model)."""
        wanted = request.query_params.get("scenario") if request else None
        scenario = engine.scenario(wanted) if wanted in known_ids else first
        player_text = player_markdown(engine, scenario, _token(oauth_token), show_login)
        if wanted in known_ids and wanted != first.lesson_id:
            return gr.Dropdown(value=wanted), player_text
        return gr.skip(), player_text

    # No trigger: runs when the page loads.
    gr.on(
        None,
        scenario_from_address,
        inputs=None,
        outputs=[scenario_pick, player],
        **event_api("lab_scenario_from_address", expose_api, internal=True),
    )

    # The session of each page's reply in progress (by Gradio's session hash), so that End can
    # stop it or take it out of the local model's line; the conversation itself stays on the page.
    in_flight: dict[str, LabSession] = {}
    in_flight_lock = threading.Lock()

    def ui_send(
        text: str,
        scenario_id: str,
        chat,
        request: gr.Request,
        oauth_token: gr.OAuthToken | None = None,
    ):
        if not (text or "").strip():  # an empty Send does nothing, like any chat
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        key = getattr(request, "session_hash", None) or ""
        session = None
        try:
            session = engine.resume(scenario_id, chat_from_page(chat))
            scenario = engine.scenario(scenario_id)
            with in_flight_lock:
                in_flight[key] = session
            for update in engine.reply(session, text, _token(oauth_token)):
                yield (
                    chat_for_page(chat_messages(session, update.waiting)),
                    meter_markdown(scenario, update.coverage),
                    status_markdown(
                        session, " ".join(filter(None, [update.notice, update.waiting]))
                    ),
                    gr.skip(),
                )
        except LabBusy as exc:  # the line is full: say so and give the draft back, no error
            yield (
                chat_for_page(session.visible_messages()),
                meter_markdown(scenario, session.coverage),
                status_markdown(session, str(exc)),
                text,
            )
        except Exception as exc:
            raise _learner_error(exc) from None
        finally:
            with in_flight_lock:
                if session is not None and in_flight.get(key) is session:
                    del in_flight[key]

    def take_message(text: str):
        """Empty the box and grey Send out at once; the reply then works on the taken text."""
        if not (text or "").strip():
            return gr.skip(), "", gr.skip()
        return "", text, gr.Button(interactive=False)

    # Taking the message is its own quick step, so the box is empty even when the reply comes
    # back at once (fast updates reach the page together, and only the last one would count);
    # `then` brings Send back even after an error. Up to the local model's places and line run
    # at once (see backends.send_concurrency): the lab tells each waiting learner their number
    # itself, instead of Gradio's default of one at a time.
    taken = gr.State("")
    gr.on(
        [message.submit, send.click],
        take_message,
        inputs=[message],
        outputs=[message, taken, send],
        queue=False,
        show_progress="hidden",
        **event_api("lab_take_ui", expose_api, internal=True),
    ).then(
        ui_send,
        inputs=[taken, scenario_pick, chatbot],
        outputs=[chatbot, meter, status, message],
        show_progress="minimal",
        show_progress_on=[chatbot],  # the status line stays readable (e.g. a place in line)
        concurrency_limit=send_concurrency(config),
        concurrency_id="lab_send",
        **event_api("lab_send_ui", expose_api, internal=True),
    ).then(
        lambda: gr.Button(interactive=True),
        outputs=[send],
        **event_api("lab_send_ready", expose_api, internal=True),
    )

    def ui_preview(draft: str, scenario_id: str, chat):
        if not (draft or "").strip():
            # Nothing to preview; a late answer must not undo the meter of a message just sent.
            return gr.skip()
        try:
            session = engine.resume(scenario_id, chat_from_page(chat))
            scenario = engine.scenario(scenario_id)
            return meter_markdown(scenario, engine.preview(session, draft or ""))
        except Exception as exc:
            raise _learner_error(exc) from None

    # `input`: only the learner's typing, not the box being emptied when a message is sent (that
    # preview, answered late, would put back the meter of before the message).
    message.input(
        ui_preview,
        inputs=[message, scenario_pick, chatbot],
        outputs=[meter],
        trigger_mode="always_last",
        show_progress="hidden",
        **event_api("lab_preview_ui", expose_api, internal=True),
    )

    def ui_end(
        scenario_id: str, chat, request: gr.Request, oauth_token: gr.OAuthToken | None = None
    ):
        try:
            token = _token(oauth_token)
            conversation = chat_from_page(chat)
            with in_flight_lock:
                live = in_flight.get(getattr(request, "session_hash", None) or "")
            if live is not None and live.scenario_id == scenario_id:
                # A reply is being written or waits for a place: stop it (its place frees up at
                # the model's next step), and judge what the learner has seen and said.
                live.ended = True
                conversation = [m for m in live.visible_messages() if m["content"]]
            session = engine.resume(scenario_id, conversation)
            result = engine.end(session, token)
            scenario = engine.scenario(scenario_id)
            document = transcript_markdown(scenario, session.visible_messages(), result)
            path = debrief_file(engine.safe_document(document, token))
        except Exception as exc:
            raise _learner_error(exc) from None
        return (
            debrief_markdown(result),
            gr.DownloadButton(value=path, visible=True),
            meter_markdown(scenario, session.coverage),
        )

    end.click(
        ui_end,
        inputs=[scenario_pick, chatbot],
        outputs=[debrief, download, meter],
        scroll_to_output=True,
        **event_api("lab_end_ui", expose_api, internal=True),
    )

    if expose_api:
        _public_api(engine)


def _public_api(engine: LabEngine) -> None:
    """The lab as API endpoints and MCP tools: the conversation is an argument, JSON comes back.

    Conversations are lists of ``{"role": "user"|"assistant", "content": "..."}`` messages (or a
    ``You: ... / <name>: ...`` transcript); start with an empty one.
    """
    ids = ", ".join(sorted(engine.scenarios))

    def _resume(scenario: str, conversation):
        scenario = scenario or next(iter(engine.scenarios))
        return engine.resume(scenario, conversation), engine.scenario(scenario)

    def start_scenario(scenario: str = "", oauth_token: gr.OAuthToken | None = None) -> str:
        try:
            session, card = _resume(scenario, None)
            player = engine.player(_token(oauth_token))
        except Exception as exc:
            raise _learner_error(exc) from None
        character = card.character
        return json.dumps(
            {
                "scenario": card.lesson_id,
                "title": card.title,
                "character": {
                    "name": character.name,
                    "role": character.role,
                    "temperament": character.temperament,
                },
                "brief": card.brief,
                "played_by": player.label,
                "conversation": session.visible_messages(),
                "coverage": _coverage_json(card, session.coverage),
                "next": "Call send_message with your message, this scenario and the conversation.",
            },
            ensure_ascii=False,
        )

    start_scenario.__doc__ = f"""Start a role-play scenario of the course's Lab: a character opens the conversation.

    Args:
        scenario: the scenario's id, one of: {ids}. Empty: the first one.

    Returns:
        JSON with the scenario, the character, your brief, who plays the character, the
        conversation so far (the character's opening) and the coverage count.
    """

    def send_message(
        message: str,
        scenario: str = "",
        conversation: list[dict] | str | None = None,
        oauth_token: gr.OAuthToken | None = None,
    ) -> str:
        try:
            session, card = _resume(scenario, conversation)
            token = _token(oauth_token)
            for _ in engine.reply(session, message, token):
                pass
        except Exception as exc:
            raise _learner_error(exc) from None
        return json.dumps(
            {
                "reply": session.messages[-1]["content"],
                "conversation": session.visible_messages(),
                "coverage": _coverage_json(card, session.coverage),
                "notice": " ".join(session.notices),
                "played_by": session.backend_label,
            },
            ensure_ascii=False,
        )

    send_message.__doc__ = f"""Send the learner's message to the scenario's character and get its reply.

    Args:
        message: what the learner says to the character.
        scenario: the scenario's id, one of: {ids}.
        conversation: the conversation so far, as returned by the previous call: a list of
            {{"role": "user" or "assistant", "content": "..."}} messages, or a transcript with
            "You:" and "<character name>:" lines. Empty: the scenario has just started.

    Returns:
        JSON with the character's reply, the whole conversation (pass it to the next call) and
        how many points the learner has covered so far.
    """

    def preview_coverage(
        draft: str, scenario: str = "", conversation: list[dict] | str | None = None
    ) -> str:
        try:
            session, card = _resume(scenario, conversation)
            coverage = engine.preview(session, draft)
        except Exception as exc:
            raise _learner_error(exc) from None
        return json.dumps({"coverage": _coverage_json(card, coverage)}, ensure_ascii=False)

    preview_coverage.__doc__ = f"""How many points the conversation would cover if the draft were sent now.

    Args:
        draft: a message not sent yet.
        scenario: the scenario's id, one of: {ids}.
        conversation: the conversation so far (list of role/content messages, or a transcript).

    Returns:
        JSON with the count of covered points and their topics.
    """

    def end_conversation(
        scenario: str = "",
        conversation: list[dict] | str | None = None,
        oauth_token: gr.OAuthToken | None = None,
    ) -> str:
        try:
            session, card = _resume(scenario, conversation)
            result = engine.end(session, _token(oauth_token))
        except Exception as exc:
            raise _learner_error(exc) from None
        return json.dumps(_debrief_json(result, debrief_markdown(result)), ensure_ascii=False)

    end_conversation.__doc__ = f"""End the role-play: the coach scores each point, quotes the learner and suggests improvements.

    Args:
        scenario: the scenario's id, one of: {ids}.
        conversation: the whole conversation (list of role/content messages, or a transcript).

    Returns:
        JSON with the score, who judged, and per point its status, the learner's quote, the
        evidence found and one improvement; "lowered" says why the whole conversation lowered
        the offline verdicts ("thin": specific on one point at most, "vague": tentative advice,
        "performance": talk for the grader; "" when not); plus the debrief as Markdown.
    """

    for fn, name in (
        (start_scenario, "lab_start"),
        (send_message, "lab_send"),
        (preview_coverage, "lab_preview"),
        (end_conversation, "lab_end"),
    ):
        # A message shares the page's group: the local model's places and line (issue 16).
        group = (
            dict(concurrency_limit=send_concurrency(engine.config), concurrency_id="lab_send")
            if name == "lab_send"
            else {}
        )
        gr.api(fn, **event_api(name, True), **group)
