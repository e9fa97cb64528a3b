"""The lab page's helpers: the meter shows a count and topics (never the rubric), chat text is
shown as typed (never rendered), error notices carry no markup, and the top says who plays."""

from __future__ import annotations

import gradio as gr

from demos.lab import ui
from demos.lab.config import load_config
from demos.lab.coverage import Coverage, PointCoverage
from demos.lab.session import BadConversation, LabEngine


def test_the_meter_shows_a_count_and_covered_topics_not_the_rubric(scenarios):
    scenario = next(s for s in scenarios if s.lesson_id == "hugging-face")
    statuses = ["covered", "partial", "missing", "missing", "missing"]
    coverage = Coverage(
        tuple(
            PointCoverage(p.id, p.point, status, 0.5, "")
            for p, status in zip(scenario.rubric, statuses, strict=True)
        ),
        "embeddings",
    )
    text = ui.meter_markdown(scenario, coverage)
    assert "Points covered: 1 of 5" in text and "the model" in text
    assert "4 more to find (1 touched on)" in text
    for point in scenario.rubric:
        assert point.point not in text


def test_chat_text_round_trips_and_is_never_markup():
    typed = [
        {"role": "user", "content": '<img src=x onerror="alert(1)"> & <b>bold</b> 5 < 6'},
        {"role": "assistant", "content": "Which model, exactly?"},
    ]
    shown = ui.chat_for_page(typed)
    assert "<img" not in shown[0]["content"] and "&lt;img" in shown[0]["content"]
    # Gradio 6 hands the chat back as typed parts; the learner's words come back unchanged.
    back = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in shown]
    assert ui.chat_from_page(back) == typed


def test_error_notices_carry_no_markup():
    error = ui._learner_error(BadConversation("Message 2 has role '<img src=x>'."))
    assert isinstance(error, gr.Error)
    assert "<img" not in error.message and "&lt;img" in error.message


def test_the_top_says_plainly_who_plays(scenarios, monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "local")
    monkeypatch.setenv("HUB_DEVICE", "cpu")
    monkeypatch.delenv("LAB_CPU_MODEL", raising=False)
    engine = LabEngine(scenarios, load_config())
    text = ui.player_markdown(engine, scenarios[0], None, login=True)
    assert "small stand-in" in text and scenarios[0].character.name in text
    assert "sign in with Hugging Face" in text
    assert "GPU" in ui.player_markdown(engine, scenarios[0], None, login=False)
    monkeypatch.setenv("LAB_VOICE", "model")
    engine = LabEngine(scenarios, load_config())
    assert "played by the local model" in ui.player_markdown(engine, scenarios[0], None, True)
