"""Item 8 and issue 11 item 7: every input is read the same way (form, link, API, CLI) and a wrong
one gets a sentence naming its field; fields.FIELDS is the one declaration they all read."""

from __future__ import annotations

import dataclasses
import inspect
import math

import pytest

from demos.calculator.__main__ import main, parser
from demos.calculator.estimate import InvalidInputError, ModelJob, estimate
from demos.calculator.fields import (
    FIELDS,
    FRIEND_SCENARIO,
    NAMES,
    Fields,
    build_job,
    estimate_fields,
    fields_from_values,
    from_query,
    to_query,
)

BASE = Fields(parameters="1B", examples=1000)


def test_numeric_strings_are_numbers():
    job = build_job(
        dataclasses.replace(
            BASE, examples="1000", epochs="0.5", batch_size="8", sequence_length="256", mfu="0.2"
        )
    )
    assert (job.examples, job.epochs, job.batch_size, job.sequence_length, job.mfu) == (
        1000,
        0.5,
        8,
        256,
        0.2,
    )
    assert isinstance(job.batch_size, int)
    estimate(job)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("batch_size", "0.5", "whole number"),
        ("batch_size", 2.5, "whole number"),
        ("sequence_length", "512.5", "whole number"),
        ("lora_rank", "2.5", "whole number"),
        ("lora_rank", 0, "greater than zero"),
        ("lora_rank", "0", "greater than zero"),
        ("mfu", "NaN", "finite"),
        ("mfu", 0, "greater than zero"),
        ("mfu", "0", "greater than zero"),
        ("epochs", "abc", "must be a number, not 'abc'"),
        ("epochs", "inf", "finite"),
        ("examples", "-5", "greater than zero"),
        ("gpus", "two", "must be a number"),
        ("gpus", "1.5", "whole number"),
        ("deadline_days", "soon", "must be a number"),
        ("gradient_checkpointing", "maybe", "true or false"),
        ("method", "magic", "Unknown method"),
        ("task", "poetry", "Unknown task"),
        ("gpu", "Z80", "Unknown GPU"),
    ],
)
def test_a_bad_value_names_its_field(name, value, words):
    with pytest.raises(InvalidInputError) as error:
        estimate_fields(dataclasses.replace(BASE, **{name: value}))
    assert error.value.field == name
    assert words in str(error.value)
    assert "format code" not in str(error.value)


def test_zero_parameters_with_a_model_is_an_error_not_the_models_count():
    with pytest.raises(InvalidInputError) as error:
        estimate_fields(Fields(model="gpt2", parameters="0", examples=100))
    assert error.value.field == "parameters"


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"parameters": "abc"}, "parameters"),
        ({"epochs": "0.5x"}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"sequence_length": 100.5}, "sequence_length"),
        ({"lora_rank": 2.5}, "lora_rank"),
        ({"mfu": "NaN"}, "mfu"),
        ({"gpus": 0}, "gpus"),
    ],
)
def test_the_pure_api_checks_types_too(changes, name):
    """Item 8: ModelJob(...) straight into estimate(), as the lab or a notebook would call it."""
    job = dataclasses.replace(ModelJob(parameters=1e9, examples=1000), **changes)
    with pytest.raises(InvalidInputError) as error:
        estimate(job)
    assert error.value.field == name
    assert "format code" not in str(error.value)


def test_the_pure_api_reads_numeric_strings():
    result = estimate(ModelJob(parameters="1e9", examples="1000", epochs="0.5"))
    assert result.hours > 0 and result.tokens == pytest.approx(1000 * 512 * 0.5)


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--parameters", "3B", "--examples", "100", "--mfu", "0"], "mfu"),
        (["--parameters", "3B", "--examples", "100", "--lora-rank", "0"], "lora_rank"),
        (["--model", "gpt2", "--parameters", "0", "--examples", "100"], "parameters"),
        (["--parameters", "3B", "--examples", "100", "--batch", "2.5"], "batch_size"),
    ],
)
def test_the_cli_never_falls_back_silently(argv, name, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: {name}:")


def test_every_input_is_declared_once_and_read_everywhere():
    assert NAMES == tuple(f.name for f in dataclasses.fields(Fields))
    assert len({f.url for f in FIELDS}) == len(FIELDS)  # one address-bar key each
    options = {a.dest for a in parser()._actions}
    assert set(NAMES) - {"mode"} <= options  # one command-line option each
    from demos.calculator.ui import estimate as api

    assert list(inspect.signature(api).parameters)[:-1] == list(NAMES)  # one API/MCP argument each
    for f in FIELDS:
        assert f"    {f.name}: " in api.__doc__  # with its description


def test_a_link_reopens_the_same_estimate():
    query = to_query(FRIEND_SCENARIO)
    assert query["model"] == "Llama-3.2-3B" and query["examples"] == "50000"
    assert "tab" not in query and "spb" not in query  # measured-only fields stay out
    values, problems = from_query({"tab": "calculator", **query})
    assert problems == []
    again = estimate_fields(fields_from_values(values))
    assert again.hours == pytest.approx(estimate_fields(FRIEND_SCENARIO).hours)
    assert to_query(fields_from_values(values)) == query


def test_a_mistyped_link_keeps_what_it_can_and_says_what_it_dropped():
    values, problems = from_query(
        {"tab": "calculator", "model": "gpt2", "examples": "1000", "batch": "eight", "x": "1"}
    )
    assert values == {"model": "gpt2", "examples": 1000.0}
    assert len(problems) == 1 and problems[0].startswith("Batch size")


def test_defaults_are_not_written_and_numbers_are_short():
    query = to_query(Fields(parameters="125M", examples=20000.0, epochs=3.0))
    assert query == {"params": "125M", "examples": "20000", "epochs": "3"}
    assert not math.isnan(float(query["examples"]))
