"""The calculator's Gradio builder: widgets and wiring only; the arithmetic lives in estimate.py.

Every input comes from ``fields.FIELDS`` (its label, its default, its key in the address bar), so the
form, the link, the API/MCP tool and the command line cannot drift apart.
"""

from __future__ import annotations

import inspect
import json

import gradio as gr
import pandas as pd

from demos import logs
from demos.calculator import tables
from demos.calculator.estimate import InvalidInputError, format_hours
from demos.calculator.fields import (
    BY_NAME,
    FIELDS,
    FRIEND_SCENARIO,
    NAMES,
    Fields,
    as_text,
    estimate_fields,
    fields_from_values,
    from_query,
    to_query,
)
from demos.calculator.model_size import ModelSizeError, resolve
from demos.calculator.report import (
    CUT_COLUMNS,
    PLAN_COLUMNS,
    VERDICT_COLUMNS,
    cut_rows,
    details_markdown,
    hours_rows,
    memory_rows,
    plan_rows,
    verdict_markdown,
    verdict_rows,
)
from demos.ui_common import event_api

URL_KEYS = [f.url for f in FIELDS]
PLACEHOLDER = "Fill in the job, or try the friend's scenario, then press **Estimate**."


def _label(field_name: str) -> str:
    f = BY_NAME.get(field_name)
    return f.label.split(":")[0].split(" (")[0] if f else "Model"


def _result_table(headers: list[str], label: str, visible: bool = True) -> gr.Dataframe:
    """One of the result's read-only tables (styled by .calc-table in course.css)."""
    return gr.Dataframe(
        headers=headers,
        label=label,
        wrap=True,
        interactive=False,
        visible=visible,
        elem_classes=["calc-table"],
    )


def _error(error: InvalidInputError) -> gr.Error:
    # A learner's typo is not a server fault: no traceback in the log (logs.refused).
    return logs.refused(f"{_label(error.field)}: {error}")


# --- The API / MCP tool, its signature and docstring generated from FIELDS ---------------------

_API_TYPES = {
    "text": str | None,
    "count": str | float | None,
    "number": float | str | None,
    "int": int | str | None,
    "bool": bool | str | None,
    "choice": str | None,
}


def _estimate_api(*args, **kwargs) -> dict:
    bound = inspect.signature(_estimate_api).bind(*args, **kwargs)
    request = bound.arguments.get("request")
    fields = Fields(**{k: v for k, v in bound.arguments.items() if v is not None and k in BY_NAME})
    try:
        result = estimate_fields(fields).to_dict()
    except InvalidInputError as error:
        raise _error(error) from None
    if request is not None and request.headers.get("x-gradio-user") == "mcp":
        # Gradio's MCP server sends str(result): a Python repr. A model reads JSON better.
        return json.dumps(result)
    return result


def _api_doc() -> str:
    lines = [
        "Estimate GPU hours, peak GPU memory and a plan per platform (Colab, Kaggle, Hugging Face "
        "Spaces and ZeroGPU, rented GPUs) for a training or inference job, with a verdict per GPU, "
        "the cheapest change that makes the job fit, the cuts that make it finish in time, and one "
        "recommendation. Every argument is optional except a model or a parameter count and a "
        "dataset size (examples or dataset_tokens); numbers may be sent as strings.",
        "",
        "Args:",
    ]
    lines += [f"    {f.name}: {f.help}" for f in FIELDS]
    lines += [
        "",
        "Returns:",
        "    A JSON object: hours (wall clock) and gpu_hours on the chosen GPU(s), tokens, FLOPs, the "
        "formula with the numbers in it, the memory at its peak in GiB by part, a verdict per GPU, "
        "a plan per platform, cuts and the recommendation with its reasons.",
    ]
    return "\n".join(lines)


_estimate_api.__signature__ = inspect.Signature(
    [
        inspect.Parameter(
            f.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=None,
            annotation=_API_TYPES[f.kind],
        )
        for f in FIELDS
    ]
    + [
        inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
        )
    ],
    return_annotation=dict,
)
_estimate_api.__annotations__ = (
    {f.name: _API_TYPES[f.kind] for f in FIELDS} | {"request": gr.Request} | {"return": dict}
)
_estimate_api.__doc__ = _api_doc()
_estimate_api.__name__ = "estimate"
estimate = _estimate_api


# --- Events ----------------------------------------------------------------------------------


def _fields(values) -> Fields:
    return Fields(**dict(zip(NAMES, values, strict=True)))


def validate(*values):
    """One gr.validate per input: the message appears beside the field that is wrong."""
    bad_field, message = None, ""
    try:
        estimate_fields(_fields(values))
    except InvalidInputError as error:
        bad_field = error.field if error.field in NAMES else "model"
        message = str(error)
    return [gr.validate(name != bad_field, message) for name in NAMES]


def _views(fields: Fields, notice: str = "") -> list:
    result = estimate_fields(fields)
    hours = pd.DataFrame(
        hours_rows(result), columns=["platform", "hours", "cost ($, upper)", "kind"]
    )
    cost = hours[hours["cost ($, upper)"] > 0]
    memory = pd.DataFrame(memory_rows(result), columns=["bar", "part", "GiB"])
    cuts = cut_rows(result)
    return [
        verdict_markdown(result),
        notice,
        details_markdown(result),
        pd.DataFrame(verdict_rows(result), columns=VERDICT_COLUMNS),
        pd.DataFrame(plan_rows(result), columns=PLAN_COLUMNS),
        gr.update(value=pd.DataFrame(cuts, columns=CUT_COLUMNS), visible=bool(cuts)),
        hours,
        cost,
        gr.update(value=memory, visible=not memory.empty),
        result.to_dict(),
        json.dumps(to_query(fields)),
    ]


def render(*values):
    """Every view of the estimate, and the address-bar parameters that reopen it."""
    try:
        return _views(_fields(values))
    except InvalidInputError as error:
        raise _error(error) from None


def restore_from_link(request: gr.Request, in_tab: bool = True):
    """On page load: fill the form from the address bar (?tab=calculator&model=...) and estimate.

    In the course's tab the link must name the calculator's tab; on the calculator's own page
    (/calculator?model=...) it need not.
    """
    params = dict(request.query_params) if request is not None else {}
    values, problems = from_query(params)
    skip_all = [gr.skip()] * (len(NAMES) + 2 + 11)
    if (not values and not problems) or (in_tab and params.get("tab") != "calculator"):
        return skip_all
    fields = fields_from_values(values)
    notice = ""
    if problems:
        notice = "⚠️ This link had values the calculator could not read: " + "; ".join(problems)
    inputs = [_widget_value(name, getattr(fields, name)) for name in NAMES]
    mode = fields.mode
    groups = [gr.update(visible=mode != "measured"), gr.update(visible=mode == "measured")]
    try:
        views = _views(fields, notice)
    except InvalidInputError as error:
        message = f"⚠️ This link's {_label(error.field).lower()} is not usable: {error}"
        views = [gr.skip(), notice + ("\n\n" if notice else "") + message] + [gr.skip()] * 9
    return inputs + groups + views


def read_model_size(model: str):
    """Fill the parameter count from a built-in model or the Hub; say what happened."""
    try:
        size = resolve(model)
    except ModelSizeError as error:
        return gr.update(), f"⚠️ {error}"
    shape = ""
    if size.architecture is not None:
        a = size.architecture
        layers = (
            f"{a.layers}+{a.decoder_layers} layers" if a.decoder_layers else f"{a.layers} layers"
        )
        shape = f", {layers} of width {a.hidden}, {a.kind}"
    return (
        f"{size.parameters / 1e9:.4g}B",
        f"✅ {size.name}: {size.parameters:,} parameters{shape} ({size.source}).",
    )


def model_picked(model: str):
    """A built-in model fills the parameter count at once (no network)."""
    if model in tables.models():
        return read_model_size(model)
    return gr.update(), ""


def gpu_picked(gpu: str):
    if gpu in tables.gpus():
        spec = tables.gpus()[gpu]
        info = f"Empty = this GPU's default, {spec.default_mfu:.2f} (lower for narrow models)."
        if spec.status:
            info = f"⚠️ {spec.status} " + info
        return gr.update(info=info)
    return gr.update()


def mode_picked(mode: str):
    from_model = mode != "measured"
    return gr.update(visible=from_model), gr.update(visible=not from_model)


def friend_values():
    return [_widget_value(name, getattr(FRIEND_SCENARIO, name)) for name in NAMES] + [
        gr.update(visible=True),
        gr.update(visible=False),
    ]


# Writes the estimate's inputs into the address bar (keeping ?tab= and other tools' keys) and returns
# the full link. The frame's own script sets ?tab= when the visitor changes tab.
LINK_JS = """
(query) => {
  if (!query) return "";
  const keys = URL_KEYS;
  const url = new URL(window.location.href);
  for (const key of keys) url.searchParams.delete(key);
  const params = JSON.parse(query || "{}");
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (!/\\/calculator\\/?$/.test(url.pathname)) url.searchParams.set("tab", "calculator");
  history.replaceState(history.state, "", url.toString());
  return url.toString();
}
""".replace("URL_KEYS", json.dumps(URL_KEYS))

COPY_JS = """
(link) => {
  const text = link || window.location.href;
  const done = () => {};
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, done);
  } else {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) {}
    area.remove();
  }
  return text;
}
"""


# --- The page --------------------------------------------------------------------------------


# Optional numbers are text boxes: a gr.Number cannot be empty (it shows and sends 0), and an empty box
# must mean "not given" while a typed 0 is an error.
PLACEHOLDERS = {
    "examples": "e.g. 50000",
    "tokens_per_example": "empty = padded to the sequence",
    "dataset_tokens": "e.g. 2e9",
    "target_length": "empty = as the input",
    "deadline_days": "empty = none",
    "seconds_per_batch": "e.g. 0.4",
    "steps": "empty = from the examples",
    "mfu": "empty = this GPU's default",
}
TEXT_NUMBERS = tuple(PLACEHOLDERS)


def _number(name: str, **kwargs) -> gr.Number | gr.Textbox:
    f = BY_NAME[name]
    if name in TEXT_NUMBERS:
        return gr.Textbox(
            value="", label=f.label, placeholder=PLACEHOLDERS[name], max_lines=1, **kwargs
        )
    step = 1 if f.kind == "int" else None
    extra = {"step": step} if step else {}
    return gr.Number(value=f.default, label=f.label, **extra, **kwargs)


def _widget_value(name: str, value):
    """A field's value as its widget takes it (text boxes take text)."""
    if name in TEXT_NUMBERS:
        return "" if value is None else as_text(value)
    return value


def build(expose_api: bool = True) -> None:
    """Create the calculator's components in the current Blocks context."""
    gpu_choices = [(spec.name, key) for key, spec in tables.gpus().items()]
    model_choices = [(spec.name, key) for key, spec in tables.models().items()]
    default_gpu = tables.gpus()["T4"]

    gr.Markdown(
        "## 🧮 Will it fit Colab, Kaggle, or does it need a paid GPU?\n"
        "Estimate before you spend: time from the model's FLOPs (or from a batch you timed), "
        "memory at its peak, a verdict per GPU, a plan per platform, and what to cut.",
        elem_classes=["calc-intro"],
    )
    with gr.Row(equal_height=False, elem_classes=["calc-layout"]):
        with gr.Column(scale=2, min_width=320):
            with gr.Row(elem_classes=["tool-action", "calc-actions"]):
                go = gr.Button("Estimate", variant="primary", scale=2, min_width=120)
                friend = gr.Button(
                    "The friend's scenario (lesson 3)", variant="secondary", scale=3, min_width=160
                )
            mode = gr.Radio(
                [("From the model", "model"), ("Measured (seconds per batch)", "measured")],
                value="model",
                label=BY_NAME["mode"].label,
            )
            with gr.Group():
                model = gr.Dropdown(
                    model_choices,
                    value=None,
                    allow_custom_value=True,
                    label=BY_NAME["model"].label,
                )
                parameters = gr.Textbox(
                    label=BY_NAME["parameters"].label, placeholder="e.g. 3B, 125M, 3e9"
                )
            with gr.Row(elem_classes=["calc-read-size"]):
                read_size = gr.Button(
                    "Read the size of this model", size="sm", variant="secondary", min_width=200
                )
            model_message = gr.Markdown()
            with gr.Group(visible=True) as model_settings:
                method = gr.Radio(
                    [
                        ("Inference", "inference"),
                        ("Full fine-tune", "full"),
                        ("LoRA", "lora"),
                        ("QLoRA", "qlora"),
                    ],
                    value=BY_NAME["method"].default,
                    label=BY_NAME["method"].label,
                )
                precision = gr.Radio(
                    [
                        ("fp32", "fp32"),
                        ("mixed fp16/bf16", "mixed"),
                        ("int8", "int8"),
                        ("4-bit", "4bit"),
                    ],
                    value=BY_NAME["precision"].default,
                    label=BY_NAME["precision"].label,
                )
                with gr.Row():
                    tokens_per_example = _number("tokens_per_example", min_width=140)
                    dataset_tokens = _number("dataset_tokens", min_width=140)
                sequence_length = _number("sequence_length")
            with gr.Group(visible=False) as measured_group:
                with gr.Row():
                    seconds_per_batch = _number("seconds_per_batch", min_width=140)
                    steps = _number("steps", min_width=140)
            with gr.Row():
                examples = _number("examples", min_width=110)
                epochs = _number("epochs", min_width=90)
                batch_size = _number("batch_size", min_width=110)
            with gr.Row():
                gpu = gr.Dropdown(
                    gpu_choices,
                    value=BY_NAME["gpu"].default,
                    label=BY_NAME["gpu"].label,
                    allow_custom_value=True,
                    min_width=160,
                )
                deadline_days = _number("deadline_days", min_width=120)
            with gr.Accordion("More: task, several GPUs, optimizer, LoRA rank, MFU", open=False):
                task = gr.Dropdown(
                    [("From the model", "")] + [(t, t) for t in BY_NAME["task"].choices if t],
                    value="",
                    label=BY_NAME["task"].label,
                    info="Decides the output layer: vocabulary logits (language models) or a small head.",
                )
                with gr.Row():
                    target_length = _number("target_length", min_width=140)
                    num_labels = _number("num_labels", min_width=140)
                with gr.Row():
                    gpus = _number("gpus", min_width=100)
                    parallelism = gr.Dropdown(
                        [
                            ("DDP: a copy per GPU", "ddp"),
                            ("FSDP / ZeRO-3: sharded", "fsdp"),
                        ],
                        value=BY_NAME["parallelism"].default,
                        label=BY_NAME["parallelism"].label,
                        min_width=160,
                    )
                with gr.Row():
                    optimizer = gr.Dropdown(
                        [
                            ("AdamW", "adamw"),
                            ("8-bit AdamW", "adamw_8bit"),
                            ("SGD (momentum)", "sgd"),
                        ],
                        value=BY_NAME["optimizer"].default,
                        label=BY_NAME["optimizer"].label,
                        min_width=140,
                    )
                    lora_rank = _number("lora_rank", min_width=100)
                checkpointing = gr.Checkbox(
                    value=False, label=BY_NAME["gradient_checkpointing"].label
                )
                mfu = _number(
                    "mfu",
                    info=f"Empty = this GPU's default, {default_gpu.default_mfu:.2f} (lower for narrow models).",
                )
        with gr.Column(scale=3, min_width=320):
            with gr.Column(elem_classes=["tool-result", "calc-verdict"]):
                with gr.Row(equal_height=False):
                    verdict = gr.Markdown(PLACEHOLDER, elem_id="calc-verdict-text")
                    copy = gr.Button(
                        "🔗 Copy link",
                        size="sm",
                        variant="secondary",
                        scale=0,
                        min_width=120,
                        elem_id="calc-copy-link",
                    )
                link = gr.Textbox(
                    label="Link to this estimate",
                    interactive=False,
                    buttons=["copy"],
                    elem_id="calc-link",
                    placeholder="Estimate first: the link reopens the same job.",
                )
                notice = gr.Markdown()
            verdicts = _result_table(VERDICT_COLUMNS, "Verdict per GPU")
            plans = _result_table(PLAN_COLUMNS, "Plan per platform")
            cuts = _result_table(
                CUT_COLUMNS, "Cuts that shrink the work (each alone)", visible=False
            )
            details = gr.Markdown()
            hours_plot = gr.BarPlot(
                x="platform",
                y="hours",
                color="kind",
                title="Hours per platform",
                height=280,
                x_label_angle=-30,
            )
            cost_plot = gr.BarPlot(
                x="platform",
                y="cost ($, upper)",
                title="Cost per paid platform (upper end of the range)",
                sort="y",
                height=260,
                x_label_angle=-30,
            )
            memory_plot = gr.BarPlot(
                x="bar",
                y="GiB",
                color="part",
                title="Memory at its peak: your job against each GPU",
                height=320,
                x_label_angle=-30,
            )
            with gr.Accordion("The estimate as JSON (what the API returns)", open=False):
                raw = gr.JSON()
            query = gr.Textbox(visible=False)
            gr.Markdown(
                "Sources and dates of every figure: `demos/calculator/data/*.yaml`. Prices and quotas "
                "change: check them before you rely on them."
            )

    by_name = {
        "mode": mode,
        "model": model,
        "parameters": parameters,
        "task": task,
        "examples": examples,
        "tokens_per_example": tokens_per_example,
        "dataset_tokens": dataset_tokens,
        "target_length": target_length,
        "num_labels": num_labels,
        "epochs": epochs,
        "sequence_length": sequence_length,
        "batch_size": batch_size,
        "method": method,
        "precision": precision,
        "optimizer": optimizer,
        "gradient_checkpointing": checkpointing,
        "lora_rank": lora_rank,
        "gpu": gpu,
        "gpus": gpus,
        "parallelism": parallelism,
        "mfu": mfu,
        "deadline_days": deadline_days,
        "seconds_per_batch": seconds_per_batch,
        "steps": steps,
    }
    assert list(by_name) == list(NAMES), "every field of fields.FIELDS has one widget, in order"
    inputs = [by_name[name] for name in NAMES]
    groups = [model_settings, measured_group]
    views = [
        verdict,
        notice,
        details,
        verdicts,
        plans,
        cuts,
        hours_plot,
        cost_plot,
        memory_plot,
        raw,
        query,
    ]

    mode.change(
        mode_picked,
        mode,
        groups,
        **event_api("calculator_mode", expose_api, internal=True),
    )
    model.change(
        model_picked,
        model,
        [parameters, model_message],
        **event_api("calculator_model", expose_api, internal=True),
    )
    read_size.click(
        read_model_size,
        model,
        [parameters, model_message],
        **event_api("calculator_model_size", expose_api, internal=True),
    )
    gpu.change(gpu_picked, gpu, mfu, **event_api("calculator_gpu", expose_api, internal=True))

    triggers = [go.click] + [
        box.submit
        for box in (
            parameters,
            examples,
            tokens_per_example,
            dataset_tokens,
            epochs,
            sequence_length,
            batch_size,
            deadline_days,
            mfu,
            seconds_per_batch,
            steps,
        )
    ]
    gr.on(
        triggers,
        render,
        inputs,
        views,
        validator=validate,
        **event_api("calculator_estimate", expose_api, internal=True),
    ).success(
        None,
        query,
        link,
        js=LINK_JS,
        **event_api("calculator_link", expose_api, internal=True),
    )
    friend.click(
        friend_values,
        None,
        inputs + groups,
        **event_api("calculator_friend", expose_api, internal=True),
    ).then(
        render, inputs, views, **event_api("calculator_friend_render", expose_api, internal=True)
    ).success(
        None,
        query,
        link,
        js=LINK_JS,
        **event_api("calculator_friend_link", expose_api, internal=True),
    )
    copy.click(
        None, link, link, js=COPY_JS, **event_api("calculator_copy", expose_api, internal=True)
    )

    # A link (?tab=calculator&model=...&examples=...) reopens the estimate when the page loads.
    def restore(request: gr.Request):
        return restore_from_link(request, in_tab=expose_api)

    gr.on(
        None,
        restore,
        None,
        inputs + groups + views,
        **event_api("calculator_restore", expose_api, internal=True),
    ).success(
        None,
        query,
        link,
        js=LINK_JS,
        **event_api("calculator_restore_link", expose_api, internal=True),
    )
    if expose_api:
        gr.api(_estimate_api, api_name="estimate")


__all__ = ["build", "estimate", "format_hours"]
