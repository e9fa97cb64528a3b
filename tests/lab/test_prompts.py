"""The character's prompt: persona and facts only, never the rubric; the instruction-echo check."""

from __future__ import annotations

from demos.lab.prompts import (
    fact_for_points,
    hidden_instruction_text,
    leaks_instructions,
    persona_prompt,
)


def test_persona_holds_character_and_facts_but_no_rubric(scenarios):
    for scenario in scenarios:
        steer = fact_for_points(scenario)[scenario.rubric[0].id]
        prompt = persona_prompt(scenario, steer)
        assert scenario.character.name in prompt
        assert all(fact in prompt for fact in scenario.facts)
        for point in scenario.rubric:
            assert point.point not in prompt
            assert point.id not in prompt
            for example in point.examples:
                assert example not in prompt or any(example in fact for fact in scenario.facts)


def test_steering_names_a_fact_deterministically(scenarios):
    for scenario in scenarios:
        mapping = fact_for_points(scenario)
        assert set(mapping) == {p.id for p in scenario.rubric}
        assert set(mapping.values()) <= set(scenario.facts)
        assert fact_for_points(scenario) == mapping


def test_echo_of_the_instructions_is_caught_but_facts_are_free(scenarios):
    scenario = scenarios[0]
    hidden = hidden_instruction_text(scenario)
    line = next(ln for ln in hidden.splitlines() if len(ln.split()) > 10)
    assert leaks_instructions(f"Sure! My rules: {line}", scenario)
    assert not leaks_instructions(f"As I said: {scenario.facts[1]}", scenario)
    assert not leaks_instructions("Give me a number, not a slogan.", scenario)
