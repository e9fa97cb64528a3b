"""The model-demos tab: advice or venting (zero-shot beside fine-tuned), change two lines, search.

Widgets and wiring only; the logic lives in inference.py, in_place.py and search.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from demos import hub
from demos.advice import in_place, inference, search
from demos.advice.config import served_classifier, settings
from demos.advice.dataset import DEFAULT_POSTS
from demos.ui_common import event_api

MAX_BATCH = 16


def _error(message: str) -> gr.Error:
    """A message for the visitor; the expected failure needs no traceback in the server log."""
    return gr.Error(message, print_exception=False)


def example_posts(count: int = 8) -> list[str]:
    """A few held-out test posts (never trained on), alternating labels, to pick from."""
    picked: dict[str, list[str]] = {"advice": [], "venting": []}
    with Path(DEFAULT_POSTS).open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["split"] == "test" and len(picked[row["label"]]) < count // 2:
                picked[row["label"]].append(row["text"])
    return [post for pair in zip(picked["advice"], picked["venting"]) for post in pair]


def _model_markdown(kind: str) -> str:
    if kind == "zero-shot":
        ref = settings().zero_shot_model
        return f"**Zero-shot** (no training): {inference.hub_page(ref)}"
    ref = served_classifier()
    if ref is None:
        return (
            "**Fine-tuned**: no model yet. Open *Fine-tune one here* below: the project's "
            "training script runs on this Space's CPU, then the model is served here."
        )
    return f"**Fine-tuned** on the project's posts: {inference.hub_page(ref)}"


def _fine_tuned_code() -> str:
    return inference.pipeline_code("fine-tuned", served_classifier() or "models/advice-minilm")


def classify_batch(posts: list[str], progress=None) -> tuple[list, list, list]:
    """Batched event: zero-shot and fine-tuned confidences plus a note for each post.

    Batched requests share one forward pass per model. Nothing is raised here (one visitor's bad
    input must not fail the others in the batch): problems become the note beside the result.
    """
    notes = [""] * len(posts)
    cleaned: dict[int, inference.CleanPost] = {}
    for index, text in enumerate(posts):
        try:
            cleaned[index] = inference.clean_post(text)
            notes[index] = cleaned[index].note()
        except inference.PostError as error:
            notes[index] = str(error)
    zero_shot: list = [None] * len(posts)
    fine_tuned: list = [None] * len(posts)
    indices = list(cleaned)
    texts = [cleaned[index].text for index in indices]
    runs = (
        (zero_shot, lambda batch: inference.zero_shot_posts(batch, progress=progress), "zero-shot"),
        (
            fine_tuned,
            lambda batch: inference.classify_posts(batch, progress=progress),
            "fine-tuned",
        ),
    )
    for target, run, name in runs:
        if not texts:
            break
        try:
            for index, scores in zip(indices, run(texts)):
                target[index] = scores
        except (hub.HubError, inference.PostError) as error:
            for index in indices:
                notes[index] = (notes[index] + f" The {name} model: {error}").strip()
        except Exception as error:  # a model failing on odd input must not fail the batch
            for index in indices:
                notes[index] = (
                    notes[index] + f" The {name} model could not read this post "
                    f"({type(error).__name__})."
                ).strip()
    return zero_shot, fine_tuned, notes


def _classify_batch_event(posts: list[str]) -> tuple[list, list, list]:
    """Batched endpoint: several visitors' posts in one forward pass per model."""
    return classify_batch(posts)


def _classify_one(post: str, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
    zero_shot, fine_tuned, notes = classify_batch([post], progress)
    return zero_shot[0], fine_tuned[0], notes[0], _model_markdown("fine-tuned"), _fine_tuned_code()


def _fine_tune(progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker this way)
    """Fine-tune the classifier on this Space's CPU with the project's script, then serve it."""
    try:
        for update in in_place.fine_tune_in_place():
            progress(update.fraction, desc=update.message)
            if update.error:
                raise _error(f"Fine-tuning failed: {update.error}")
            status = update.message
            if update.confusion_matrix:
                (aa, av), (va, vv) = update.confusion_matrix
                status += (
                    "\n\n| true \\ predicted | advice | venting |\n|---|---|---|\n"
                    f"| advice | {aa} | {av} |\n| venting | {va} | {vv} |"
                )
            yield status, _model_markdown("fine-tuned"), _fine_tuned_code()
    except in_place.TrainingBusy as error:
        raise _error(str(error)) from None


def _other_task(
    task_name: str,
    post: str,
    model_ref: str | None,
    progress=gr.Progress(),  # noqa: B008 (Gradio injects it)
):
    try:
        result = inference.run_other_task(task_name, post, model_ref, progress)
        code, diff = inference.code_difference(task_name, model_ref)
    except (inference.PostError, hub.HubError) as error:
        raise _error(str(error)) from None
    except Exception as error:  # a model failing on odd input: a sentence, not a traceback
        raise gr.Error(
            f"The model could not process this text ({type(error).__name__})."
        ) from error
    if isinstance(result, dict):
        return result, "", code, diff
    return None, result, code, diff


def _search(task: str, query: str, limit: float):
    try:
        found = search.search_models(task, query, int(limit))
    except search.SearchError as error:
        raise _error(str(error)) from None
    rows = [
        [f.model_id, f.task, f.downloads, f.likes, f.licence, f.parameters, f.url] for f in found
    ]
    return rows, f"{len(rows)} models for **{task}**, most downloaded first."


def build(expose_api: bool = True) -> None:
    """Create the model-demos tab's components inside the current Blocks context."""
    examples = example_posts()
    gr.Markdown("## Advice or venting?\nType a post or pick one the model never saw in training.")
    with gr.Row():
        post = gr.Textbox(
            label="Post", lines=5, max_lines=12, placeholder="Write a Reddit-style post..."
        )
    with gr.Row():
        pick = gr.Dropdown(
            choices=[(text[:90] + ("..." if len(text) > 90 else ""), text) for text in examples],
            label="Or pick a held-out post",
            value=None,
        )
        classify_button = gr.Button("Classify", variant="primary")
    note = gr.Markdown(elem_classes="advice-note")
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown(_model_markdown("zero-shot"))
            zero_shot_label = gr.Label(
                label="Zero-shot NLI", num_top_classes=2, elem_classes="advice-zero-shot"
            )
            gr.Code(
                inference.pipeline_code("zero-shot", settings().zero_shot_model),
                language="python",
                label="The code",
                interactive=False,
            )
        with gr.Column():
            fine_tuned_info = gr.Markdown(
                _model_markdown("fine-tuned"), elem_classes="advice-fine-tuned-info"
            )
            fine_tuned_label = gr.Label(
                label="Fine-tuned", num_top_classes=2, elem_classes="advice-fine-tuned"
            )
            fine_tuned_code = gr.Code(
                _fine_tuned_code(), language="python", label="The code", interactive=False
            )
    with gr.Accordion("Fine-tune one here (runs on this Space's CPU)", open=False):
        gr.Markdown(
            f"Runs `python -m demos.advice.train` for {settings().train_epochs} epoch(s), at most "
            f"{settings().train_time_limit_s:.0f} s; one run at a time."
        )
        train_button = gr.Button("Fine-tune now")
        train_status = gr.Markdown(elem_classes="advice-train-status")

    pick.change(
        lambda text: text or "", pick, post, **event_api("advice_pick", expose_api, internal=True)
    )
    classify_button.click(
        _classify_one,
        post,
        [zero_shot_label, fine_tuned_label, note, fine_tuned_info, fine_tuned_code],
        **event_api("advice_classify", expose_api),
    )
    # The same work as a batched endpoint: concurrent API callers share forward passes.
    gr.on(
        triggers=[post.submit],
        fn=_classify_batch_event,
        inputs=post,
        outputs=[zero_shot_label, fine_tuned_label, note],
        batch=True,
        max_batch_size=MAX_BATCH,
        **event_api("advice_classify_batch", expose_api),
    )
    train_button.click(
        _fine_tune,
        None,
        [train_status, fine_tuned_info, fine_tuned_code],
        concurrency_limit=1,
        concurrency_id="advice-fine-tune",
        **event_api("advice_fine_tune", expose_api),
    )
    gr.on(
        triggers=None,
        fn=lambda: (_model_markdown("fine-tuned"), _fine_tuned_code()),
        inputs=None,
        outputs=[fine_tuned_info, fine_tuned_code],
        **event_api("advice_model_info", expose_api, internal=True),
    )

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
        [task_label, task_text, task_code, task_diff],
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
