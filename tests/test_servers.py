"""The server-log check excuses exactly two known Gradio races and nothing else."""

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

CANCELLED_DELETE = """ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/usr/lib/python3.11/asyncio/tasks.py", line 476, in wait_for
    await waiter
asyncio.exceptions.CancelledError: Cancelled via cancel scope 7fca58f8bba0 by <Task pending>

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/site-packages/gradio/routes.py", line 1847, in sse_stream
    message = await asyncio.wait_for(messages.get(), timeout=10)
              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/asyncio/tasks.py", line 485, in wait_for
    await _cancel_and_wait(fut, loop=loop)
asyncio.exceptions.CancelledError: Cancelled via cancel scope 7fca58f8bba0 by <Task pending>

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/site-packages/uvicorn/protocols/http/h11_impl.py", line 407, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/site-packages/starlette/responses.py", line 255, in stream_response
    async for chunk in self.body_iterator:
  File "/venv/site-packages/gradio/routes.py", line 1902, in sse_stream
    del blocks._queue.pending_messages_per_session[session_hash]
        ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~^^^^^^^^^^^^^^
KeyError: 'ni9knyycvs9'
"""

REAL = """Traceback (most recent call last):
  File "/work/demos/advice/ui.py", line 90, in classify_batch
    raise ValueError("boom")
ValueError: boom
"""


def test_the_sse_disconnect_race_is_excused():
    assert TB not in without_known_races(RACE)
    assert TB not in without_known_races(RACE.rstrip("\n"))  # a log cut off at its last line


def test_the_cancelled_stream_deleting_a_gone_queue_is_excused():
    assert TB not in without_known_races(CANCELLED_DELETE)
    assert TB not in without_known_races(RACE + CANCELLED_DELETE)
    assert without_known_races(CANCELLED_DELETE + REAL).count(TB) == 1


def test_a_key_error_elsewhere_or_after_another_error_is_not_excused():
    elsewhere = CANCELLED_DELETE.replace(
        "del blocks._queue.pending_messages_per_session[session_hash]",
        "del state[session_hash]",
    )
    assert TB in without_known_races(elsewhere)
    before_it = CANCELLED_DELETE.replace(
        "asyncio.exceptions.CancelledError: Cancelled via cancel scope 7fca58f8bba0 by <Task pending>\n\nDuring",
        "ValueError: boom\n\nDuring",
    )
    assert before_it.count(TB) == 3 and TB in without_known_races(before_it)


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
