"""The model-demos tab: advice or venting (zero-shot beside fine-tuned), change two lines, search.

Widgets and wiring only; the logic lives in service.py (classifying), background.py (the
Space's own training run), in_place.py (visitors' fine-tunes), inference.py and search.py.
"""

from __future__ import annotations

import html
import json
import os
import time
import weakref

import gradio as gr

from demos import hub
from demos.advice import background, in_place, inference, search, service
from demos.advice.config import hide_paths, public_ref, served_classifier, settings
from demos.advice.dataset import DEFAULT_POSTS, FREE_EVAL_POSTS
from demos.ui_common import event_api

MAX_BATCH = 16
POLL_S = 2.0
_unload_registered: weakref.WeakSet = weakref.WeakSet()


def _error(message: str) -> gr.Error:
    """A message for the visitor; demos/logs.py logs it as one line, without a traceback."""
    return gr.Error(message)


def example_posts(count: int = 9) -> list[str]:
    """Posts the model never trained on: a few from the template test split, and free-written
    ones of each label (neither included), alternating."""
    picked: dict[str, list[str]] = {}
    for path, split in ((FREE_EVAL_POSTS, None), (DEFAULT_POSTS, "test")):
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if split and row.get("split") != split:
                    continue
                bucket = picked.setdefault(row["label"], [])
                if len(bucket) < count // 3 + 1 and len(row["text"]) < 400:
                    bucket.append(row["text"])
    mixed = [post for group in zip(*picked.values()) for post in group]
    return mixed[:count]


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


# ----------------------------------------------------------------------------- text on the page


def _zero_shot_markdown(method: str | None = None, model: str = "", reason: str = "") -> str:
    method = method or inference.zero_shot_plan()
    if method == "similarity":
        name = model or public_ref(settings().embedding_model)
        why = " (the NLI model cannot be reached from here)" if not reason else f": {reason}"
        return (
            f"**Zero-shot, offline fallback**: similarity of the post to a few sentences "
            f"describing each label, with the MiniLM sentence model `{name}`. The NLI model "
            f"`{public_ref(settings().zero_shot_model)}` is used whenever it can be loaded{why}"
        )
    return f"**Zero-shot** (no training, an NLI model): {inference.hub_page(settings().zero_shot_model)}"


def _zero_shot_code(method: str | None = None) -> str:
    method = method or inference.zero_shot_plan()
    if method == "similarity":
        return inference.pipeline_code("similarity", settings().embedding_model)
    return inference.pipeline_code("zero-shot", settings().zero_shot_model)


def _fine_tuned_markdown(session: str | None = None) -> str:
    ref = service.served_to(session)
    if ref is None:
        status = background.space_status()
        if status.running:
            return (
                "**Fine-tuned**: this Space is training its own classifier right now with "
                "`python -m demos.advice.train` (progress above)."
            )
        return (
            "**Fine-tuned**: no model yet. Open *Fine-tune your own* below: the project's "
            "training script runs on this Space's CPU."
        )
    whose = "your own fine-tune (only you see it)" if service.is_own_model(session) else None
    where = inference.hub_page(ref) if hub.is_hub_id(ref) else f"`{public_ref(ref)}`"
    if whose:
        return f"**Fine-tuned**: {whose}, trained with `python -m demos.advice.train`."
    return f"**Fine-tuned** on the project's posts with `python -m demos.advice.train`: {where}"


def _fine_tuned_code(session: str | None = None) -> str:
    return inference.pipeline_code("fine-tuned", service.served_to(session) or "")


def _percent(value) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "n/a"


def _evaluation_markdown(session: str | None = None) -> str:
    """How good the served model is: the template test split beside the free-written posts."""
    found = service.metrics(service.served_to(session))
    if not found:
        return ""
    rows = [
        f"| template test split ({found.get('test_posts', '?')} posts, same generator as "
        f"training) | {_percent(found.get('test_accuracy'))} |",
    ]
    if found.get("free_written_accuracy") is not None:
        rows.append(
            f"| free-written posts ({found.get('free_written_posts', '?')}, written one by one, "
            f"never trained on) | {_percent(found.get('free_written_accuracy'))} |"
        )
    baseline = found.get("free_written_zero_shot_accuracy")
    if baseline is not None:
        rows.append(f"| the same posts, zero-shot fallback (no training) | {_percent(baseline)} |")
    calibration = ""
    if found.get("calibration"):
        c = found["calibration"]
        calibration = (
            f"\n\nConfidences are calibrated (temperature {c['temperature']:.2f}, fitted on the "
            f"validation posts): expected calibration error on the free-written posts "
            f"{_percent(c.get('ece_free_before'))} before, {_percent(c.get('ece_free_after'))} "
            f"after. Under {settings().not_sure_below:.0%} the tab says *not sure*."
        )
    return (
        "**How good is the fine-tuned model?** (from its model card)\n\n"
        "| evaluated on | accuracy |\n|---|---|\n" + "\n".join(rows) + calibration
    )


def _progress_html(fraction: float, text: str) -> str:
    percent = max(0, min(100, round(fraction * 100)))
    return (
        f'<div class="advice-progress"><progress max="100" value="{percent}" '
        f'aria-label="Training progress">{percent}%</progress>'
        f"<p>{html.escape(text)}</p></div>"
    )


def _training_html() -> str:
    """The Space's own training run, as the tab shows it ("" when there is nothing to say)."""
    status = background.space_status()
    if status.running:
        left = status.remaining_s()
        eta = f" About {left:.0f} s left." if left is not None else ""
        return _progress_html(
            status.fraction,
            f"Training this Space's own classifier in the background (low priority, one core): "
            f"{status.message}.{eta}",
        )
    if status.state == "failed":
        return f'<p class="advice-training-failed">{html.escape(status.error)}</p>'
    return ""


def _verdict_markdown(outcome: service.Outcome) -> str:
    if outcome.verdict is None:
        return ""
    v = outcome.verdict
    return f"### {v.headline}\n{v.explanation}"


def _label(scores):
    return scores if scores else None


# ----------------------------------------------------------------------------- events


def _classify_one(post: str, request: gr.Request, progress=gr.Progress()):  # noqa: B008
    session = _session(request)
    (outcome,) = service.classify_many([post], [session], progress)
    method = outcome.zero_shot_method or None
    return (
        _verdict_markdown(outcome),
        _label(outcome.zero_shot),
        _label(outcome.fine_tuned),
        outcome.note,
        _zero_shot_markdown(method, outcome.zero_shot_model),
        _zero_shot_code(method),
        _fine_tuned_markdown(session),
        _fine_tuned_code(session),
    )


def _classify_batch_event(posts: list[str], request: gr.Request) -> tuple[list, ...]:
    """Batched endpoint: several visitors' posts in one forward pass per model."""
    requests = request if isinstance(request, list) else [request] * len(posts)
    outcomes = service.classify_many(posts, [_session(r) for r in requests])
    return (
        [_verdict_markdown(o) for o in outcomes],
        [_label(o.zero_shot) for o in outcomes],
        [_label(o.fine_tuned) for o in outcomes],
        [o.note for o in outcomes],
    )


def _poll(post: str, seen: str, request: gr.Request):
    """Timer tick: the Space's own training run; when it ends, the model and the post's labels."""
    session = _session(request)
    status = background.space_status()
    state = status.state
    keep_ticking = state == "running" or (
        state == "idle" and served_classifier() is None and settings().background_training
    )
    finished_now = seen == "running" and state != "running"
    unchanged = [gr.skip()] * 4
    if finished_now and (post or "").strip():
        outcome = service.classify_many([post], [session])[0]
        labels = [
            _verdict_markdown(outcome),
            _label(outcome.zero_shot),
            _label(outcome.fine_tuned),
            outcome.note,
        ]
    else:
        labels = unchanged
    return (
        _training_html(),
        _fine_tuned_markdown(session),
        _fine_tuned_code(session),
        _evaluation_markdown(session),
        state,
        gr.Timer(active=keep_ticking),
        *labels,
    )


def _on_load(request: gr.Request):
    background.first_page_served()
    session = _session(request)
    return (
        _training_html(),
        _zero_shot_markdown(),
        _zero_shot_code(),
        _fine_tuned_markdown(session),
        _fine_tuned_code(session),
        _evaluation_markdown(session),
    )


def _fine_tune(request: gr.Request, profile: gr.OAuthProfile | None):
    """Fine-tune with the project's script on this Space's CPU: a model for this session only,
    or (for the Space's owner) the one every visitor is served."""
    session = _session(request)
    username = getattr(profile, "username", None) if profile is not None else None
    waited = False
    while True:
        try:
            job, replaces = in_place.start_fine_tune(session, username)
            break
        except in_place.TrainingBusy as error:
            if not waited:
                waited = True
                yield _progress_html(0, f"{error} Waiting for it…"), gr.skip(), gr.skip(), gr.skip()
            time.sleep(POLL_S)
        except OSError as error:
            message = hide_paths(f"The fine-tune could not start ({error.strerror or error}).")
            yield f"<p>{html.escape(message)}</p>", gr.skip(), gr.skip(), gr.skip()
            return
    whose = (
        "the model every visitor is served (you are this Space's owner)"
        if replaces
        else "a model for you only: other visitors keep the Space's model, and yours is "
        "deleted when you leave"
    )
    while job.state == "running":
        status = job.status()
        yield (
            _progress_html(status.fraction, f"Fine-tuning {whose}: {status.message}."),
            gr.skip(),
            gr.skip(),
            gr.skip(),
        )
        time.sleep(1.0)
    status = job.wait()
    if status.state != "done":
        text = f"Fine-tuning failed: {status.error}"
    else:
        found = service.metrics(job.output) or {}
        text = (
            f"Done in {status.elapsed_s:.0f} s: {whose}. Template test split "
            f"{_percent(found.get('test_accuracy'))}, free-written posts "
            f"{_percent(found.get('free_written_accuracy'))}. Classify a post to try it."
        )
    yield (
        f"<p>{html.escape(text)}</p>",
        _fine_tuned_markdown(session),
        _fine_tuned_code(session),
        _evaluation_markdown(session),
    )


def _free_session(request: gr.Request) -> None:
    in_place.sessions.free(_session(request))


def _other_task(
    task_name: str,
    post: str,
    model_ref: str | None,
    progress=gr.Progress(),  # noqa: B008 (Gradio injects it)
):
    """The same post through another pipeline task: scores or text, the code, the diff and a
    note. The code is shown even when the model cannot run here (offline), with the reason."""
    try:
        code, diff = inference.code_difference(task_name, model_ref)
    except inference.PostError as error:
        raise _error(str(error)) from None
    try:
        result = inference.run_other_task(task_name, post, model_ref, progress)
    except hub.ModelNotAllowed as error:  # the code still shows what the change would be
        return None, "", code, diff, f"⚠️ {error}"
    except inference.PostError as error:
        return None, "", code, diff, f"⚠️ {error}"
    except hub.HubError as error:
        return None, "", code, diff, f"⚠️ This model cannot run here: {hide_paths(str(error))}"
    except Exception as error:  # a model failing on odd input: a sentence, not a traceback
        note = f"⚠️ The model could not process this text ({type(error).__name__})."
        return None, "", code, diff, note
    if isinstance(result, dict):
        return result, "", code, diff, ""
    return None, result, code, diff, ""


def _search(task: str, query: str, limit: float):
    try:
        found = search.search_models(task, query, int(limit))
    except search.SearchError as error:  # a sentence where the results go, no error pills
        return [], f"⚠️ {error}"
    rows = [
        [f.model_id, f.task, f.downloads, f.likes, f.licence, f.parameters, f.url] for f in found
    ]
    return rows, f"{len(rows)} models for **{task}**, most downloaded first."


# ----------------------------------------------------------------------------- layout


def build(expose_api: bool = True) -> None:
    """Create the model-demos tab's components inside the current Blocks context."""
    examples = example_posts()
    gr.Markdown(
        "## Advice or venting?\nType a post or pick one the models never saw. A zero-shot "
        "model and one fine-tuned on this project's posts answer; news, jokes and good news "
        "are *neither*."
    )
    with gr.Row(equal_height=False, elem_classes="advice-main"):
        with gr.Column(scale=1, min_width=300):
            post = gr.Textbox(
                label="Post", lines=5, max_lines=12, placeholder="Write a Reddit-style post..."
            )
            pick = gr.Dropdown(
                choices=[(t[:90] + ("..." if len(t) > 90 else ""), t) for t in examples],
                label="Or pick a post the model never saw",
                value=None,
            )
            with gr.Row(elem_classes=["tool-action"]):
                classify_button = gr.Button("Classify", variant="primary")
        with gr.Column(scale=1, min_width=300, elem_classes=["tool-result", "advice-result"]):
            verdict = gr.Markdown(elem_classes="advice-verdict")
            with gr.Row(equal_height=False):
                zero_shot_label = gr.Label(
                    label="Zero-shot", num_top_classes=3, elem_classes="advice-zero-shot"
                )
                fine_tuned_label = gr.Label(
                    label="Fine-tuned", num_top_classes=3, elem_classes="advice-fine-tuned"
                )
            note = gr.Markdown(elem_classes="advice-note")
            training = gr.HTML(_training_html(), elem_classes="advice-training")
    with gr.Row(equal_height=False):
        with gr.Column():
            zero_shot_info = gr.Markdown(elem_classes="advice-zero-shot-info")
            zero_shot_code = gr.Code(
                language="python",
                label="The code",
                interactive=False,
                elem_classes="advice-zero-shot-code",
            )
        with gr.Column():
            fine_tuned_info = gr.Markdown(elem_classes="advice-fine-tuned-info")
            fine_tuned_code = gr.Code(
                language="python",
                label="The code",
                interactive=False,
                elem_classes="advice-fine-tuned-code",
            )
    evaluation = gr.Markdown(elem_classes="advice-evaluation")
    with gr.Accordion("Fine-tune your own (runs on this Space's CPU)", open=False):
        gr.Markdown(
            f"Runs `python -m demos.advice.train` ({service.fine_tune_limits()}); one run at "
            "a time. Your model is yours alone: other visitors keep the Space's model, and "
            "yours is deleted when you close the page. Only the Space's owner, signed in, "
            "replaces the model everyone is served."
        )
        if _login_enabled():
            gr.LoginButton(size="sm")
        train_button = gr.Button("Fine-tune now")
        train_status = gr.HTML(elem_classes="advice-train-status")
    seen = gr.State("")
    timer = gr.Timer(POLL_S)

    pick.change(
        lambda text: text or "", pick, post, **event_api("advice_pick", expose_api, internal=True)
    )
    label_outputs = [verdict, zero_shot_label, fine_tuned_label, note]
    classify_button.click(
        _classify_one,
        post,
        [*label_outputs, zero_shot_info, zero_shot_code, fine_tuned_info, fine_tuned_code],
        **event_api("advice_classify", expose_api),
    )
    # The same work as a batched endpoint: concurrent API callers share forward passes.
    gr.on(
        triggers=[post.submit],
        fn=_classify_batch_event,
        inputs=post,
        outputs=label_outputs,
        batch=True,
        max_batch_size=MAX_BATCH,
        **event_api("advice_classify_batch", expose_api),
    )
    train_button.click(
        _fine_tune,
        None,
        [train_status, fine_tuned_info, fine_tuned_code, evaluation],
        concurrency_limit=1,
        concurrency_id="advice-fine-tune",
        show_progress="hidden",
        **event_api("advice_fine_tune", expose_api),
    )
    timer.tick(
        _poll,
        [post, seen],
        [training, fine_tuned_info, fine_tuned_code, evaluation, seen, timer, *label_outputs],
        show_progress="hidden",
        **event_api("advice_training_status", expose_api, internal=True),
    )
    gr.on(
        triggers=None,
        fn=_on_load,
        inputs=None,
        outputs=[
            training,
            zero_shot_info,
            zero_shot_code,
            fine_tuned_info,
            fine_tuned_code,
            evaluation,
        ],
        show_progress="hidden",
        **event_api("advice_model_info", expose_api, internal=True),
    )
    _when_served(gr.context.Context.root_block)

    gr.Markdown("## Change two lines\nThe same post through another task of `pipeline()`.")
    with gr.Row():
        task = gr.Radio(list(inference.OTHER_TASKS), value="sentiment", label="Task", scale=2)
        task_model = gr.Dropdown(
            choices=sorted(hub.allowlist()),
            value=None,
            allow_custom_value=True,
            label="Model (empty: the task's default; only listed models run)",
            scale=2,
        )
        run_task = gr.Button("Run", scale=1)
    task_note = gr.Markdown(elem_classes="advice-task-note")
    with gr.Row(equal_height=False):
        with gr.Column():
            task_label = gr.Label(label="Scores", num_top_classes=3)
            task_text = gr.Textbox(label="Generated text", interactive=False)
        with gr.Column():
            task_code = gr.Code(language="python", label="The code", interactive=False)
            task_diff = gr.Code(
                language=None,
                label="What changed (diff)",
                interactive=False,
                elem_classes="advice-diff",
            )
    run_task.click(
        _other_task,
        [task, post, task_model],
        [task_label, task_text, task_code, task_diff, task_note],
        **event_api("advice_other_task", expose_api),
    )

    gr.Markdown("## Search the Hub\nLesson 4, step 2: look before you train.")
    with gr.Row():
        search_task = gr.Dropdown(
            list(search.SEARCH_TASKS), value="text-classification", label="Task"
        )
        search_query = gr.Textbox(label="Words in the name (optional)", placeholder="sentiment")
        search_limit = gr.Slider(1, search.MAX_RESULTS, value=10, step=1, label="How many")
        search_button = gr.Button("Search")
    search_note = gr.Markdown()
    search_table = gr.Dataframe(
        headers=["model", "task", "downloads", "likes", "licence", "parameters", "link"],
        interactive=False,
        wrap=True,
    )
    search_button.click(
        _search,
        [search_task, search_query, search_limit],
        [search_table, search_note],
        **event_api("advice_search_hub", expose_api),
    )
    hub.register_allowed(
        settings().zero_shot_model, settings().sentiment_model, settings().t5_model
    )


def _when_served(blocks) -> None:
    """Free a visitor's own model when their page closes; train the Space's own model once the
    server answers (after the first page, see background.schedule_first_start)."""
    if blocks is None:
        return
    if blocks not in _unload_registered:
        _unload_registered.add(blocks)
        blocks.unload(_free_session)
    if settings().background_training and not settings().classifier:
        background.schedule_first_start(lambda: bool(getattr(blocks, "is_running", False)))


def _login_enabled() -> bool:
    """ "Sign in" for the owner, on a Space whose README enables OAuth (as the lab decides)."""
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("OAUTH_CLIENT_ID"))
