"""The Space's log: one line per rejected input, a traceback only for real errors, no secrets.

Gradio 6.31 prints a full traceback (``traceback.print_exc()``, straight to stderr) for every
value its own range or choice checks reject and for every ``gr.Error`` raised with the default
``print_exception=True``: twenty rejected inputs bury the one real error. ``install()`` makes a
rejected input one line and keeps the traceback for everything else, and masks the values of
secret environment variables (``*_TOKEN``, ``*_SECRET``, ``*_API_KEY``, ``*_PASSWORD``) in every
log record and in everything written to stdout and stderr, whoever wrote it.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback as _traceback

log = logging.getLogger("course.requests")

SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_API_KEY", "_PASSWORD")
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") would mask ordinary words
MASK = "***"
MAX_REASON_CHARS = 300

_installed = False


def secret_values(environ=None) -> list[str]:
    """Values of the secret-looking environment variables, longest first."""
    environ = os.environ if environ is None else environ
    values = {
        value
        for name, value in environ.items()
        if name.upper().endswith(SECRET_SUFFIXES) and len(value) >= MIN_SECRET_CHARS
    }
    return sorted(values, key=len, reverse=True)


class SecretMask:
    """Replaces each secret value in a text by ``***``."""

    def __init__(self, secrets: list[str]):
        self.secrets = list(secrets)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def found_in(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)


def masking_record_factory(mask: SecretMask, make_record=None):
    """A LogRecord factory that masks secrets in the message and the exception text."""
    make_record = make_record or logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: let the handler report it as usual
            return record
        if mask.found_in(message):
            record.msg, record.args = mask(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if mask.found_in(text):
                record.exc_text = mask(text)
        return record

    return factory


class MaskingStream:
    """A text stream that masks secrets in what is written, then writes it to ``stream``."""

    def __init__(self, stream, mask: SecretMask):
        self._stream = stream
        self._mask = mask

    def write(self, text):
        return self._stream.write(self._mask(text) if isinstance(text, str) else text)

    def flush(self):
        self._stream.flush()

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):  # isatty, fileno, encoding, writable, buffer ...
        return getattr(self._stream, name)


def rejected_reason(exc: BaseException) -> str | None:
    """One line saying why a visitor's input was refused, or None for a real error.

    Rejected: a ``gr.Error`` (the app's own, or Gradio's range and choice checks), a value a
    Gradio component could not read (``ComponentProcessingError``), and a call with too few
    values. Anything else is a real error and keeps its traceback.
    """
    from gradio.exceptions import ComponentProcessingError, Error

    if isinstance(exc, Error):
        text = str(exc.message if hasattr(exc, "message") else exc)
    elif isinstance(exc, ComponentProcessingError):
        lines = str(exc).splitlines()
        original = next((ln for ln in lines if ln.startswith("Original error")), "")
        text = " ".join(part for part in (lines[0] if lines else "", original) if part)
    elif isinstance(exc, ValueError) and "didn't receive enough input values" in str(exc):
        text = str(exc).splitlines()[0]
    else:
        return None
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


class _QuietTraceback:
    """Stands in for the ``traceback`` module inside Gradio's request-handling modules."""

    def __getattr__(self, name):
        return getattr(_traceback, name)

    @staticmethod
    def print_exc(limit=None, file=None, chain=True):
        exc = sys.exc_info()[1]
        reason = rejected_reason(exc) if exc is not None else None
        if reason is not None:
            log.info("rejected input: %s", reason)
            return
        _traceback.print_exc(limit=limit, file=file, chain=chain)


# The Gradio modules whose print_exc() calls report an event's exception.
_GRADIO_MODULES = ("gradio.queueing", "gradio.routes", "gradio.utils")


def install(environ=None) -> None:
    """Set up the Space's log (idempotent): a line per rejected input, secrets masked."""
    global _installed
    if _installed:
        return
    _installed = True
    import importlib

    mask = SecretMask(secret_values(environ))
    logging.setLogRecordFactory(masking_record_factory(mask))
    sys.stdout = MaskingStream(sys.stdout, mask)
    sys.stderr = MaskingStream(sys.stderr, mask)

    handler = logging.StreamHandler(sys.stderr)  # the masking stream
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("course", "demos"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False

    quiet = _QuietTraceback()
    for name in _GRADIO_MODULES:
        importlib.import_module(name).traceback = quiet
