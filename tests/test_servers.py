"""The server-log check excuses exactly one known Gradio race and nothing else."""

from tests.servers import without_known_races

TB = "Traceback (most recent call last)"

RACE = """ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/venv/site-packages/starlette/_exception_handler.py", line 42, in wrapped_app
    await app(scope, receive, sender)
  File "/venv/site-packages/gradio/routes.py", line 1907, in sse_stream
    raise e
  File "/venv/site-packages/gradio/routes.py", line 1838, in sse_stream
    raise HTTPException(
fastapi.exceptions.HTTPException: 404: Not Found

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/site-packages/uvicorn/protocols/http/h11_impl.py", line 411, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/site-packages/starlette/_exception_handler.py", line 56, in wrapped_app
    raise RuntimeError("Caught handled exception, but response already started.") from exc
RuntimeError: Caught handled exception, but response already started.
"""

REAL = """Traceback (most recent call last):
  File "/work/demos/advice/ui.py", line 90, in classify_batch
    raise ValueError("boom")
ValueError: boom
"""


def test_the_sse_disconnect_race_is_excused():
    assert TB not in without_known_races(RACE)
    assert TB not in without_known_races(RACE.rstrip("\n"))  # a log cut off at its last line


def test_any_other_traceback_is_kept_even_next_to_the_race():
    assert TB in without_known_races(REAL)
    assert without_known_races(RACE + REAL).count(TB) == 1
    assert without_known_races(REAL + RACE + "INFO: later\n").count(TB) == 1


def test_a_different_error_after_the_404_is_not_excused():
    other = RACE.replace(
        "RuntimeError: Caught handled exception, but response already started.",
        "KeyError: 'session'",
    )
    assert TB in without_known_races(other)
