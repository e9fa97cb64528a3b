"""Many conversations, one local model: replies are decoded together, a token per turn each.

A :class:`Batcher` owns one loaded causal LM and runs on the lab's compute thread
(:mod:`demos.lab.compute`), the one thread that does the lab's model arithmetic. Every turn it

1. drops what was stopped (a closed stream frees its place before the next token),
2. admits waiting requests into free places (``max_batch`` of them, first come first served),
3. reads up to ``prefill_chunk`` new prompt tokens (a request's prompt, after whatever the
   prefix cache already holds, is read in chunks, so a long history delays the others by one
   chunk at a time, never by its whole length), and
4. decodes one token for every reply in progress, in one batched forward pass: rows are
   right-aligned in one key/value cache with left padding, an attention mask and per-row
   positions, exactly like ``generate`` on a padded batch.

A request that arrives mid-generation is read in the next turn and joins the batch; a finished
or stopped reply leaves it (its cache goes back to the prefix cache for the conversation's next
message). A request that finds every place taken waits in line and hears its place
(:class:`Waiting`) whenever it changes; past ``max_waiting`` the line is full and
:class:`QueueFull` says so at once.

Sampling matches the lab's single-reply path (``generate`` with the model's generation config:
repetition penalty, temperature, top-k, top-p 0.9), with transformers' own logits processors
applied to the whole batch; top-k is taken first so no step sorts the whole vocabulary.

torch and transformers are imported inside the methods, so importing this module is cheap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from demos import yaml_io

HEARTBEAT_S = 1.0  # a reader waiting in line hears its place at least this often
READER_SLACK_S = 60.0  # a reader gives up this long after its reply's time limit, if no word
TOP_P = 0.9
DATA = Path(__file__).resolve().parent / "data" / "serving.yaml"
_END = object()


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    return yaml_io.safe_load(DATA.read_text(encoding="utf-8"))


class Waiting(str):
    """A status event in a reply's stream: the request waits for a place, ``position`` in line.

    It is an empty string, so code that joins a stream's pieces keeps working; code that
    wants to tell the learner checks ``isinstance(piece, Waiting)`` and shows :attr:`message`.
    """

    position: int
    running: int

    def __new__(cls, position: int, running: int) -> Waiting:
        self = super().__new__(cls, "")
        self.position = position
        self.running = running
        return self

    @property
    def message(self) -> str:
        return _texts()["waiting"].format(position=self.position, running=self.running)

    def __repr__(self) -> str:
        return f"Waiting(position={self.position}, running={self.running})"


class QueueFull(RuntimeError):
    """Every place is taken and the line is full; ``reason`` is a phrase safe to show."""

    def __init__(self, running: int, waiting: int):
        self.reason = _texts()["full"].format(running=running, waiting=waiting)
        super().__init__(self.reason)


class IncrementalDecoder:
    """Turns tokens into text one token at a time, holding back a piece that ends inside a
    multi-byte character until the next token completes it."""

    def __init__(self, tokenizer: Any):
        self._tokenizer = tokenizer
        self._tokens: list[int] = []
        self._printed = 0

    def push(self, token: int) -> str:
        self._tokens.append(token)
        text = self._tokenizer.decode(self._tokens, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""
        piece = text[self._printed :]
        if text.endswith("\n"):  # a finished line never changes again: start afresh
            self._tokens, self._printed = [], 0
        else:
            self._printed = len(text)
        return piece


def end_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = getattr(model.generation_config, "eos_token_id", None)
    ends = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ends.add(tokenizer.eos_token_id)
    return ends


def sampling_settings(model: Any) -> tuple[int, float]:
    """(top-k, repetition penalty) as ``generate`` takes them for this model: its
    ``generation_config``, else transformers' defaults (top-k 50, no penalty)."""
    config = getattr(model, "generation_config", None)
    top_k = getattr(config, "top_k", None)
    penalty = getattr(config, "repetition_penalty", None)
    return (50 if top_k is None else int(top_k)), float(penalty or 1.0)


def sampling_distribution(
    scores: Any, temperatures: list[float], top_k: int, top_p: float
) -> tuple[Any, Any]:
    """Each row's sampling distribution as ``generate``'s warpers make it (temperature, then
    top-k, then top-p), over the row's ``top_k`` best tokens only: ``(probabilities,
    token ids)``, both ``(rows, k)``. Taking the top k first spares a sort of the whole
    vocabulary for every row at every step (on a CPU that sort was ~15% of a decoding step).
    A row with temperature 0 gets the scores unscaled (its sample is not used)."""
    import torch
    from transformers import TopPLogitsWarper

    scale = torch.tensor([t if t > 0 else 1.0 for t in temperatures], device=scores.device)
    k = scores.shape[-1] if top_k <= 0 else min(top_k, scores.shape[-1])
    values, candidates = torch.topk(scores / scale.unsqueeze(1), k, dim=-1)
    if top_p < 1.0:
        values = TopPLogitsWarper(top_p)(candidates, values)
    return torch.softmax(values, dim=-1), candidates


def forward_cache_name(model: Any) -> str:
    """The forward() argument for the key/value cache: ``cache`` in transformers 5.2x,
    ``past_key_values`` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    max_new_tokens: int
    temperature: float
    time_limit_s: float
    background: bool = False  # only read the prompt into the prefix cache (a warm-up)
    out: queue.Queue = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    admitted: bool = False
    submitted_at: float = field(default_factory=time.monotonic)
    # Set on the compute thread:
    cache: Any = None  # this request's own cache while its prompt is read
    read: int = 0  # prompt tokens in ``cache``
    generated: list[int] = field(default_factory=list)
    deadline: float = 0.0
    told: int = 0  # the last place in line the reader heard
    decoder: IncrementalDecoder | None = None


class Ticket:
    """The reader's side of one request: iterates over ``(text, tokens so far)`` pairs and
    :class:`Waiting` events; ``close()`` frees the request's place at the next turn."""

    def __init__(self, request: _Request, batcher: Batcher, timeout: float):
        self._request = request
        self._batcher = batcher
        self._timeout = timeout

    def __iter__(self) -> Ticket:
        return self

    def __next__(self) -> Any:
        request = self._request
        last = time.monotonic()
        while True:
            try:
                item = request.out.get(timeout=0.25)
            except queue.Empty:
                if request.cancelled.is_set():
                    raise StopIteration from None
                silent = time.monotonic() - last
                # Waiting in line has no limit of its own (the line is bounded), but the
                # reader hears its place again every second: its caller gets control back
                # (a page that closes, or End, can stop it) and the status stays fresh.
                if not request.admitted:
                    if request.told and silent >= HEARTBEAT_S:
                        return Waiting(request.told, self._batcher.load()[0])
                    continue
                # Once the request holds a place, its time limit ends it (even while its
                # prompt is still being read); silence well past that means trouble.
                if silent > self._timeout and time.monotonic() > request.deadline + self._timeout:
                    self.close()
                    raise TimeoutError("the model produced nothing in time") from None
                continue
            if item is _END:
                raise StopIteration
            if isinstance(item, BaseException):
                raise item
            return item

    def close(self) -> None:
        if not self._request.cancelled.is_set():
            self._request.cancelled.set()
            self._batcher.wake()


class Batcher:
    """Continuous batching for one loaded model. ``submit`` from any thread; ``step`` only on
    the compute thread (see :meth:`demos.lab.compute.ComputeThread.attach`)."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_batch: int = 8,
        max_waiting: int = 16,
        prefill_chunk: int = 128,
        prefix_store: Any = None,
        wake: Callable[[], None] | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max(1, max_batch)
        self.max_waiting = max(0, max_waiting)
        self.prefill_chunk = max(1, prefill_chunk)
        self.prefix_store = prefix_store
        self._wake = wake or (lambda: None)
        self._lock = threading.Lock()
        self._waiting: deque[_Request] = deque()
        self._background: deque[_Request] = deque()
        self._prefilling: list[_Request] = []
        self._rows: list[_Request] = []
        self._ends = end_token_ids(model, tokenizer)
        self._cache_argument = forward_cache_name(model)
        self._top_k, self._penalty = sampling_settings(model)
        self._batchable = _batchable(model)
        if not self._batchable:
            self.max_batch = 1  # a cache with other layers (sliding windows): one reply at a time
        self._reset_batch()
        self.stats = dict.fromkeys(
            ("turns", "decode_steps", "rows_decoded", "max_rows", "prompt_tokens", "reused_tokens"),
            0,
        )

    # ------------------------------------------------------------------ any thread

    def submit(
        self,
        prompt_ids: list[int],
        *,
        max_new_tokens: int,
        temperature: float,
        time_limit_s: float,
        background: bool = False,
    ) -> Ticket:
        """Queue a reply to ``prompt_ids``. Raises :class:`QueueFull` when every place and the
        whole line are taken. ``background``: only read the prompt into the prefix cache, and
        only when no one is waiting (the ticket ends without text)."""
        if not prompt_ids:
            raise ValueError("empty prompt")
        request = _Request(
            list(prompt_ids), max(1, max_new_tokens), temperature, time_limit_s, background
        )
        with self._lock:
            if background:
                if len(self._background) >= self.max_batch + self.max_waiting:
                    request.out.put(_END)  # warming up is optional: skip it when swamped
                    return Ticket(request, self, READER_SLACK_S)
                self._background.append(request)
            else:
                running = len(self._rows) + len(self._prefilling)
                if running + len(self._waiting) >= self.max_batch + self.max_waiting:
                    raise QueueFull(running, len(self._waiting))
                self._waiting.append(request)
        self.wake()
        return Ticket(request, self, READER_SLACK_S)

    def wake(self) -> None:
        self._wake()

    def resize(self, max_batch: int, max_waiting: int) -> None:
        """New limits (the settings are read per request); takes effect at the next turn."""
        if self._batchable:
            self.max_batch = max(1, max_batch)
        self.max_waiting = max(0, max_waiting)
        self.wake()

    def busy(self) -> bool:
        return bool(self._waiting or self._background or self._prefilling or self._rows)

    def load(self) -> tuple[int, int]:
        """(replies in progress, requests waiting for a place)."""
        return len(self._rows) + len(self._prefilling), len(self._waiting)

    # ------------------------------------------------------------------ compute thread

    def step(self) -> None:
        """One turn: drop stopped requests, admit, read up to one chunk of prompt, decode one
        token for every reply in progress."""
        import torch

        try:
            with torch.inference_mode():
                self.stats["turns"] += 1
                self._drop_cancelled()
                self._admit()
                # Chunks only matter while replies are being written: with none, a prompt is
                # read in one pass (fewer, larger operations; much faster on busy CPU cores).
                budget = self.prefill_chunk if self._rows else 1 << 30
                for request in list(self._prefilling):
                    if budget <= 0:
                        break
                    budget -= self._read(request, budget)
                while budget > 0 and self._background and not self._prefilling:
                    request = self._background[0]
                    never_started = request.cache is None
                    starved = never_started and (
                        time.monotonic() - request.submitted_at > request.time_limit_s
                    )
                    if self._waiting or starved or request.cancelled.is_set():
                        # A warm-up yields to real requests; what it read is kept.
                        self._background.popleft()
                        self._finish(request, request.cache, request.read)
                        continue
                    budget -= self._read(request, budget)
                if self._rows:
                    self._decode()
        except Exception as exc:  # every waiting reader hears it; the batcher starts afresh
            self.fail(exc)

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            everyone = [*self._rows, *self._prefilling, *self._waiting, *self._background]
            self._waiting.clear()
            self._background.clear()
        self._prefilling.clear()
        self._rows = []
        self._reset_batch()
        for request in everyone:
            request.out.put(exc)
            request.out.put(_END)

    # ------------------------------------------------------------------ scheduling

    def _drop_cancelled(self) -> None:
        with self._lock:
            for line in (self._waiting, self._background):
                for request in [r for r in line if r.cancelled.is_set()]:
                    line.remove(request)
                    request.out.put(_END)
        for request in [r for r in self._prefilling if r.cancelled.is_set()]:
            self._prefilling.remove(request)
            self._finish(request, request.cache, request.read)
        stopped = [i for i, r in enumerate(self._rows) if r.cancelled.is_set()]
        if stopped:
            self._leave(stopped)

    def _admit(self) -> None:
        with self._lock:
            while self._waiting and len(self._rows) + len(self._prefilling) < self.max_batch:
                request = self._waiting.popleft()
                request.admitted = True
                request.deadline = time.monotonic() + request.time_limit_s
                self._prefilling.append(request)
            running = len(self._rows) + len(self._prefilling)
            for position, request in enumerate(self._waiting, start=1):
                if request.told != position:
                    request.told = position
                    request.out.put(Waiting(position, running))

    # ------------------------------------------------------------------ reading prompts

    def _read(self, request: _Request, budget: int) -> int:
        """Read up to ``budget`` more prompt tokens of ``request``; returns how many were read.
        When the prompt is complete, its first token is chosen and it joins the batch."""
        import torch

        if request.cache is None:
            from transformers import DynamicCache

            cache, reused = (None, 0)
            if self.prefix_store is not None:
                cache, reused = self.prefix_store.lookup(request.prompt)
            request.cache = cache if cache is not None else DynamicCache(config=self.model.config)
            request.read = reused if cache is not None else 0
            self.stats["reused_tokens"] += request.read
        if time.monotonic() > request.deadline and not request.background:
            self._prefilling.remove(request)  # out of time before a word: the reply is empty
            self._finish(request, request.cache, request.read)
            request.cache = None
            return 0
        count = min(budget, len(request.prompt) - request.read)
        chunk = torch.tensor(
            [request.prompt[request.read : request.read + count]], device=self.model.device
        )
        output = self.model(
            input_ids=chunk,
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_argument: request.cache},
        )
        request.read += count
        self.stats["prompt_tokens"] += count
        if request.read < len(request.prompt):
            return count
        if request.background:
            self._background.popleft()
            self._finish(request, request.cache, request.read)
            return count
        self._prefilling.remove(request)
        ids = torch.tensor([request.prompt], device=self.model.device)
        token = self._choose(output.logits[:, -1, :], ids, [request.temperature])[0]
        request.decoder = IncrementalDecoder(self.tokenizer)
        if self._emit(request, token):
            self._join(request, token)
        else:
            self._finish(request, request.cache, len(request.prompt))
        request.cache = None
        return count

    # ------------------------------------------------------------------ decoding

    def _decode(self) -> None:
        import torch

        rows = self._rows
        ones = torch.ones((len(rows), 1), dtype=self._mask.dtype, device=self._mask.device)
        mask = torch.cat([self._mask, ones], dim=1)
        output = self.model(
            input_ids=self._last,
            attention_mask=mask,
            position_ids=self._positions,
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_argument: self._cache},
        )
        self._mask = mask
        self._positions = self._positions + 1
        self.stats["decode_steps"] += 1
        self.stats["rows_decoded"] += len(rows)
        self.stats["max_rows"] = max(self.stats["max_rows"], len(rows))
        tokens = self._choose(output.logits[:, -1, :], self._ids, [r.temperature for r in rows])
        column = torch.tensor(tokens, device=self._ids.device).unsqueeze(1)
        self._ids = torch.cat([self._ids, column], dim=1)
        self._lengths = [n + 1 for n in self._lengths]
        self._last = column
        done = [i for i, (row, token) in enumerate(zip(rows, tokens)) if not self._emit(row, token)]
        if done:
            self._leave(done)

    def _choose(self, logits: Any, ids: Any, temperatures: list[float]) -> list[int]:
        """The next token of every row: repetition penalty on the row's own tokens, then greedy
        (temperature 0) or sampling as ``generate`` samples (temperature, top-k, top-p)."""
        import torch
        from transformers import RepetitionPenaltyLogitsProcessor

        scores = RepetitionPenaltyLogitsProcessor(self._penalty)(ids, logits.float())
        tokens = scores.argmax(dim=-1)
        if any(t > 0 for t in temperatures):
            probs, candidates = sampling_distribution(scores, temperatures, self._top_k, TOP_P)
            picked = torch.multinomial(probs, 1)
            sampled = candidates.gather(1, picked).squeeze(1)
            sampling = torch.tensor([t > 0 for t in temperatures], device=scores.device)
            tokens = torch.where(sampling, sampled, tokens)
        return tokens.tolist()

    def _emit(self, request: _Request, token: int) -> bool:
        """Hand ``token``'s text to the reader; False when the reply is complete."""
        if token in self._ends:
            return False
        request.generated.append(token)
        assert request.decoder is not None
        request.out.put((request.decoder.push(token), len(request.generated)))
        if len(request.generated) >= request.max_new_tokens:
            return False
        return time.monotonic() <= request.deadline

    def _finish(self, request: _Request, cache: Any, length: int) -> None:
        """End ``request``'s stream, keeping the ``length`` tokens ``cache`` holds for reuse."""
        if self.prefix_store is not None and cache is not None and length > 0:
            held = request.prompt + request.generated
            if cache.get_seq_length() == length <= len(held):
                self.prefix_store.store(held[:length], cache)
        request.out.put(_END)

    # ------------------------------------------------------------------ the batch's cache

    def _reset_batch(self) -> None:
        self._cache: Any = None
        self._mask: Any = None  # [rows, cache length]: 1 for real tokens, 0 for left padding
        self._ids: Any = None  # [rows, width]: each row's tokens so far, right-aligned
        self._last: Any = None  # [rows, 1]: the token each row reads next
        self._positions: Any = None  # [rows, 1]: that token's position in its own reply
        self._lengths: list[int] = []  # real tokens in each row of ``_ids``

    def _join(self, request: _Request, token: int) -> None:
        """Add ``request`` (its prompt read into ``request.cache``) as a new row."""
        import torch
        import torch.nn.functional as F

        cache = request.cache
        length = cache.get_seq_length()
        device = self.model.device
        row_ids = torch.tensor([[*request.prompt, token]], device=device)
        if not self._rows:
            self._cache = _growing(cache, self.model.config)
            self._mask = torch.ones((1, length), dtype=torch.long, device=device)
            self._ids = row_ids
            self._last = torch.tensor([[token]], device=device)
            self._positions = torch.tensor([[length]], device=device)
            self._lengths = [row_ids.shape[1]]
            self._rows = [request]
            return
        width = self._mask.shape[1]
        if length > width:  # the newcomer is longer: pad every row on the left
            grow = length - width
            for layer in self._cache.layers:
                layer.keys = F.pad(layer.keys, (0, 0, grow, 0))
                layer.values = F.pad(layer.values, (0, 0, grow, 0))
            self._mask = F.pad(self._mask, (grow, 0))
            width = length
        pad = width - length
        for layer, own in zip(self._cache.layers, cache.layers, strict=True):
            layer.keys = torch.cat([layer.keys, F.pad(own.keys, (0, 0, pad, 0))], dim=0)
            layer.values = torch.cat([layer.values, F.pad(own.values, (0, 0, pad, 0))], dim=0)
        row_mask = torch.cat(
            [
                torch.zeros((1, pad), dtype=torch.long, device=device),
                self._mask.new_ones((1, length)),
            ],
            dim=1,
        )
        self._mask = torch.cat([self._mask, row_mask], dim=0)
        self._lengths.append(row_ids.shape[1])
        self._ids, row_ids = _align_right(self._ids, row_ids)
        self._ids = torch.cat([self._ids, row_ids], dim=0)
        self._last = torch.cat([self._last, torch.tensor([[token]], device=device)], dim=0)
        self._positions = torch.cat(
            [self._positions, torch.tensor([[length]], device=device)], dim=0
        )
        self._rows.append(request)

    def _row_cache(self, index: int) -> tuple[Any, int]:
        """Row ``index`` as a cache of its own (its real tokens only) and its length."""
        from transformers import DynamicCache

        length = int(self._positions[index, 0])
        cache = DynamicCache(config=self.model.config)
        for layer, batch in zip(cache.layers, self._cache.layers, strict=True):
            layer.update(
                batch.keys[index : index + 1, :, -length:],
                batch.values[index : index + 1, :, -length:],
            )
        return cache, length

    def _leave(self, indices: list[int]) -> None:
        """Remove rows ``indices`` (their caches go to the prefix cache)."""
        import torch

        for index in indices:
            request = self._rows[index]
            cache, length = self._row_cache(index) if self.prefix_store is not None else (None, 0)
            self._finish(request, cache, length)
        keep = [i for i in range(len(self._rows)) if i not in set(indices)]
        if not keep:
            self._rows = []
            self._reset_batch()
            return
        index = torch.tensor(keep, device=self._mask.device)
        for layer in self._cache.layers:
            layer.keys = layer.keys.index_select(0, index)
            layer.values = layer.values.index_select(0, index)
        self._mask = self._mask.index_select(0, index)
        self._ids = self._ids.index_select(0, index)
        self._last = self._last.index_select(0, index)
        self._positions = self._positions.index_select(0, index)
        self._lengths = [self._lengths[i] for i in keep]
        self._rows = [self._rows[i] for i in keep]
        # Drop the left padding no remaining row needs.
        lead = int(self._mask.shape[1] - self._positions.max())
        if lead > 0:
            for layer in self._cache.layers:
                layer.keys = layer.keys[:, :, lead:]
                layer.values = layer.values[:, :, lead:]
            self._mask = self._mask[:, lead:]
        surplus = self._ids.shape[1] - max(self._lengths)
        if surplus > 0:
            self._ids = self._ids[:, surplus:]


@lru_cache(maxsize=1)
def _growing_layer() -> type:
    """A ``DynamicLayer`` whose keys and values live in a buffer with room to spare, so a decoding
    step writes its token in place. ``DynamicLayer`` concatenates at every step, copying the
    whole cache: for a batch of 8 rows of 800 tokens that is about 300 MB a step on SmolLM2-135M,
    as much memory traffic as the weights themselves. When the batcher replaces ``keys`` and
    ``values`` (a row joins or leaves), the next update moves them into a new buffer once."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        _buffers: Any = None
        _view: Any = None

        def update(self, key_states, value_states, *args, **kwargs):
            keys = self.keys
            if not self.is_initialized or keys is None or keys.numel() == 0:
                return super().update(key_states, value_states, *args, **kwargs)
            used = keys.shape[-2]
            need = used + key_states.shape[-2]
            buffers = self._buffers
            if keys is not self._view or buffers is None or buffers[0].shape[-2] < need:
                room = need + max(64, need // 4)
                buffers = tuple(
                    old.new_empty((*old.shape[:-2], room, old.shape[-1]))
                    for old in (keys, self.values)
                )
                buffers[0][..., :used, :] = keys
                buffers[1][..., :used, :] = self.values
                self._buffers = buffers
            buffers[0][..., used:need, :] = key_states
            buffers[1][..., used:need, :] = value_states
            self.keys = self._view = buffers[0][..., :need, :]
            self.values = buffers[1][..., :need, :]
            return self.keys, self.values

    return GrowingLayer


def _growing(cache: Any, config: Any) -> Any:
    """A cache holding ``cache``'s tensors in growing layers (see :func:`_growing_layer`)."""
    from transformers import DynamicCache

    grown = DynamicCache(config=config)
    layer_class = _growing_layer()
    for index, own in enumerate(cache.layers):
        layer = layer_class()
        layer.update(own.keys, own.values)
        grown.layers[index] = layer
    return grown


def _batchable(model: Any) -> bool:
    """Whether ``model``'s cache is plain full-attention layers that rows can share."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=model.config).layers)


def _align_right(batch: Any, row: Any) -> tuple[Any, Any]:
    """Pad ``batch`` ([n, w]) and ``row`` ([1, v]) of token ids on the left to one width, each
    row with its own first token (a token the row already has, so the repetition penalty,
    which looks at which tokens a row holds, is unchanged)."""
    import torch

    width = max(batch.shape[1], row.shape[1])
    if batch.shape[1] < width:
        batch = torch.cat([batch[:, :1].expand(-1, width - batch.shape[1]), batch], dim=1)
    if row.shape[1] < width:
        row = torch.cat([row[:, :1].expand(-1, width - row.shape[1]), row], dim=1)
    return batch, row
