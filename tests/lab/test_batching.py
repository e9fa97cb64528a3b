"""Many conversations on one local model (demos/lab/batching.py): a reply that arrives mid-way
joins the running batch and every reply equals greedy ``generate`` alone; a long reply or a long
prompt does not starve the others; a full lab says where you are in line, or that it is full;
closing a stream frees its place at the next turn.

Joining is checked on the real SmolLM2-135M (its replies must be the ones ``generate`` gives);
scheduling on a tiny random Llama with SmolLM2's tokenizer, which never emits its end token,
so a reply runs exactly as long as the test wants.
"""

from __future__ import annotations

import contextlib

import pytest

from demos import hub
from demos.lab import backends
from demos.lab.batching import (
    Batcher,
    QueueFull,
    Waiting,
    sampling_distribution,
    sampling_settings,
)
from demos.lab.compute import compute

LONG_LIMIT = 600.0  # seconds: time limits never end a reply here, even on a loaded machine


@pytest.fixture(scope="module")
def smollm(smollm_folder):
    return compute.call(hub.load_model, str(smollm_folder), "causal-lm", dtype="auto")


@pytest.fixture(scope="module")
def tiny(smollm):
    """A 2-layer random Llama over SmolLM2's vocabulary whose end token can never win."""

    def build():
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        _, tokenizer = smollm
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=False,
            eos_token_id=tokenizer.eos_token_id,
        )
        model = LlamaForCausalLM(config).eval()
        with torch.no_grad():
            model.lm_head.weight[tokenizer.eos_token_id] = 0.0  # its logit is 0, never the top
        return model

    return compute.call(build), smollm[1]


@contextlib.contextmanager
def attached(model_and_tokenizer, **settings):
    model, tokenizer = model_and_tokenizer
    batcher = Batcher(model, tokenizer, wake=compute.wake, **settings)
    compute.attach(batcher)
    try:
        yield batcher
    finally:
        compute.detach(batcher)


def chat_ids(tokenizer, text: str) -> list[int]:
    ids = tokenizer.apply_chat_template(
        [
            {"role": "system", "content": "You are Dana, a skeptical CTO at a small startup."},
            {"role": "user", "content": text},
        ],
        add_generation_prompt=True,
    )
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def greedy_alone(model, tokenizer, prompt: list[int], new_tokens: int) -> str:
    """What ``generate`` writes for ``prompt`` on its own (greedy, the lab's penalty)."""

    def run():
        import torch

        with torch.inference_mode():
            out = model.generate(
                torch.tensor([prompt]),
                max_new_tokens=new_tokens,
                do_sample=False,
                repetition_penalty=1.1,
                pad_token_id=tokenizer.eos_token_id,
            )
        return tokenizer.decode(out[0, len(prompt) :], skip_special_tokens=True)

    return compute.call(run)


def submit(batcher, prompt, new_tokens, **kwargs):
    return batcher.submit(
        prompt, max_new_tokens=new_tokens, temperature=0.0, time_limit_s=LONG_LIMIT, **kwargs
    )


def text_of(ticket) -> str:
    return "".join(item[0] for item in ticket if not isinstance(item, Waiting))


def place(ticket, previous: int | None = None) -> Waiting:
    """The next place in line ``ticket`` hears that differs from ``previous`` (the reader hears
    its place again every second while it waits; repeats are skipped)."""
    for item in ticket:
        assert isinstance(item, Waiting), item
        if item.position != previous:
            return item
    raise AssertionError("the stream ended while waiting")


def first_text(ticket) -> tuple[list, tuple[str, int]]:
    """(the Waiting events before the first token, the first (text, count) item)."""
    events = []
    for item in ticket:
        if isinstance(item, Waiting):
            events.append(item)
        else:
            return events, item
    raise AssertionError("the stream ended before its first token")


@pytest.mark.slow
def test_requests_that_arrive_mid_reply_join_and_match_generate_alone(smollm):
    """Three conversations of different lengths arrive while others are being answered; all
    three share decoding steps and each reply is the one greedy ``generate`` gives it alone.
    The follow-up message of a finished conversation reuses its cache and still matches."""
    model, tokenizer = smollm
    new = 14
    prompts = {
        "short": chat_ids(tokenizer, "Hi."),
        "long": chat_ids(
            tokenizer,
            "We should port the 1,500-line training loop to Lightning after the release, "
            "because the custom sampler makes a port risky now. " * 2,
        ),
        "middle": chat_ids(tokenizer, "Why would you wait?"),
    }
    expected = {name: greedy_alone(model, tokenizer, p, new) for name, p in prompts.items()}
    store = backends.PrefixCache(16384)
    with attached(smollm, max_batch=4, prefix_store=store) as batcher:
        first = submit(batcher, prompts["short"], new)
        pieces = {"short": [next(first)[0], next(first)[0]]}  # the first reply is under way
        second = submit(batcher, prompts["long"], new)  # longer: the batch is padded for it
        pieces["long"] = [next(second)[0]]
        third = submit(batcher, prompts["middle"], new)  # shorter: it is padded to the batch
        tickets = {"short": first, "long": second, "middle": third}
        for name, ticket in tickets.items():
            pieces.setdefault(name, []).append(text_of(ticket))
        assert {name: "".join(p) for name, p in pieces.items()} == expected
        assert batcher.stats["max_rows"] == 3  # all three were decoded in the same steps

        # The conversation goes on: its next prompt starts with the last one and the reply.
        follow_up = tokenizer.apply_chat_template(
            [
                {"role": "system", "content": "You are Dana, a skeptical CTO at a small startup."},
                {"role": "user", "content": "Hi."},
                {"role": "assistant", "content": expected["short"]},
                {"role": "user", "content": "Tell me about the budget."},
            ],
            add_generation_prompt=True,
        )
        follow_up = list(follow_up["input_ids"] if hasattr(follow_up, "keys") else follow_up)
        reused_before = batcher.stats["reused_tokens"]
        assert text_of(submit(batcher, follow_up, new)) == greedy_alone(
            model, tokenizer, follow_up, new
        )
        assert batcher.stats["reused_tokens"] - reused_before >= len(prompts["short"])


def test_a_long_reply_does_not_starve_a_short_one(tiny):
    """Places are shared a token at a time: a short reply that arrives while a long one runs
    finishes long before it, and a long prompt is read in chunks between decoding steps."""
    _, tokenizer = tiny
    with attached(tiny, max_batch=3, prefill_chunk=32) as batcher:
        long_reply = submit(batcher, chat_ids(tokenizer, "Tell me everything."), 3000)
        next(long_reply)
        before = _tokens_so_far(long_reply)
        short = text_of(submit(batcher, chat_ids(tokenizer, "Quick question."), 6))
        assert short
        assert batcher.stats["max_rows"] == 2  # decoded side by side
        assert _tokens_so_far(long_reply) - before >= 5  # the long one kept going meanwhile
        assert _tokens_so_far(long_reply) < 3000  # and is still going

        # A 500-token history is read 32 tokens a turn while the long reply keeps going.
        history = chat_ids(tokenizer, "We compared the two options in detail. " * 60)
        assert len(history) > 400
        produced_before = _tokens_so_far(long_reply)
        _, first = first_text(submit(batcher, history, 4))
        produced_while_reading = _tokens_so_far(long_reply) - produced_before
        assert produced_while_reading >= len(history) // 32 - 2
        long_reply.close()


def _tokens_so_far(ticket) -> int:
    return len(ticket._request.generated)


def test_a_full_lab_tells_each_learner_their_place_or_that_it_is_full(tiny):
    _, tokenizer = tiny
    prompt = chat_ids(tokenizer, "Hello.")
    with attached(tiny, max_batch=1, max_waiting=2) as batcher:
        running = submit(batcher, prompt, 3000)
        next(running)
        second = submit(batcher, prompt, 4)
        third = submit(batcher, prompt, 4)
        assert place(second).position == 1
        status = place(third)
        assert status.position == 2
        assert "number 2 in line" in status.message and status == ""  # joins as empty text
        with pytest.raises(QueueFull) as full:
            submit(batcher, prompt, 4)
        assert "busy" in full.value.reason and "line is full" in full.value.reason

        second.close()  # a learner who gives up leaves the line at once
        assert place(third, previous=2).position == 1
        running.close()
        assert text_of(third)  # and the next in line gets the place


def test_closing_a_stream_frees_its_place_at_the_next_turn(tiny):
    _, tokenizer = tiny
    prompt = chat_ids(tokenizer, "Hello.")
    with attached(tiny, max_batch=1, max_waiting=4) as batcher:
        running = submit(batcher, prompt, 3000)
        next(running)
        waiting = submit(batcher, prompt, 4)
        assert place(waiting).position == 1
        turns = batcher.stats["turns"]
        running.close()
        events, _ = first_text(waiting)
        assert {event.position for event in events} <= {1}
        # Admitted at the first turn after the close: its prompt read, its first token out.
        assert batcher.stats["turns"] - turns <= 2
        stopped_at = _tokens_so_far(running)
        assert stopped_at < 3000
        text_of(waiting)
        assert _tokens_so_far(running) == stopped_at  # nothing more was generated for it
        assert batcher.load() == (0, 0) and not batcher.busy()


def test_the_local_backend_reports_a_full_lab_as_busy(local_env, monkeypatch):
    """Through the backend the session uses: the line's events arrive in the stream, and a
    full line is a BackendUnavailable whose reason says the lab is busy."""
    from demos.lab.config import load_config

    monkeypatch.setenv("LAB_BATCH_SIZE", "1")
    monkeypatch.setenv("LAB_QUEUE_LIMIT", "1")
    backend = backends.LocalBackend(load_config())
    ask = [{"role": "user", "content": "Tell me a long story about GPUs."}]
    try:
        running = backend.stream(ask, max_new_tokens=200, time_limit_s=LONG_LIMIT, temperature=0.7)
        next(running)
        waiting = backend.stream(ask, max_new_tokens=4, time_limit_s=LONG_LIMIT, temperature=0.7)
        status = next(waiting)
        assert isinstance(status, backends.Waiting) and status.position == 1
        with pytest.raises(backends.LabBusy) as busy:
            backend.stream(ask, max_new_tokens=4, time_limit_s=LONG_LIMIT, temperature=0.7)
        assert isinstance(busy.value, backends.BackendUnavailable)
        assert "busy" in busy.value.reason
        running.close()
        waiting.close()
    finally:
        monkeypatch.delenv("LAB_BATCH_SIZE")
        monkeypatch.delenv("LAB_QUEUE_LIMIT")
        backends.LocalBackend(load_config())  # restore the default sizes for later tests


@pytest.mark.parametrize("top_k", [50, 20, 0])
def test_sampling_is_the_distribution_generate_samples_from(top_k):
    """Each row's distribution is exactly what ``generate``'s warpers (temperature, top-k,
    top-p 0.9) leave, though only the top k tokens are ever sorted; top-k 0 keeps them all."""
    import torch
    from transformers import (
        LogitsProcessorList,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    torch.manual_seed(1)
    scores = torch.randn(3, 2000) * torch.tensor([[1.0], [4.0], [0.3]])  # flat to peaked
    temperatures = [0.7, 1.3, 0.0]
    probs, candidates = sampling_distribution(scores, temperatures, top_k, 0.9)
    for row, temperature in enumerate(temperatures):
        warpers = [TemperatureLogitsWarper(temperature)] if temperature > 0 else []
        if top_k > 0:
            warpers.append(TopKLogitsWarper(top_k))
        warpers.append(TopPLogitsWarper(0.9))
        expected = torch.softmax(LogitsProcessorList(warpers)(None, scores[row : row + 1]), -1)[0]
        ours = torch.zeros_like(expected).scatter(0, candidates[row], probs[row])
        assert torch.allclose(ours, expected, atol=1e-6)
        assert 1 <= int((ours > 0).sum()) <= (top_k or 2000)


def test_sampling_settings_are_the_models_generation_config(smollm):
    """The batcher samples as ``generate`` would for this model: its own top-k and repetition
    penalty (the converted SmolLM2 folder sets 1.1), else transformers' defaults."""
    from transformers import GenerationConfig

    model, _ = smollm
    assert sampling_settings(model) == (50, 1.1)

    class Other:
        generation_config = GenerationConfig(top_k=20, repetition_penalty=1.05)

    class Bare:
        generation_config = GenerationConfig()

    assert sampling_settings(Other()) == (20, 1.05)
    assert sampling_settings(Bare()) == (50, 1.0)


@pytest.mark.parametrize("device", ["cuda:0", "cpu"])
def test_a_gpu_batcher_turns_cudnn_attention_off(monkeypatch, device):
    """On a GPU, cuDNN attention built a new plan for every key length (a new one each
    decoding step): the lab's batcher for a GPU model turns it off; a CPU model leaves the
    process's setting alone."""
    import torch

    from demos.lab.config import load_config

    class Model:
        pass

    model = Model()
    model.device = device
    built = []

    class FakeBatcher:
        def __init__(self, *args, **kwargs):
            built.append(kwargs)

        def resize(self, *args):
            pass

    monkeypatch.setattr(backends, "_batchers", {})
    monkeypatch.setattr(backends, "Batcher", FakeBatcher)
    monkeypatch.setattr(backends.compute, "attach", lambda batcher: None)
    before = torch.backends.cuda.cudnn_sdp_enabled()
    torch.backends.cuda.enable_cudnn_sdp(True)
    try:
        backends.batcher("some/model", load_config(), model, tokenizer=None)
        assert torch.backends.cuda.cudnn_sdp_enabled() is (device == "cpu")
        assert built[0]["max_batch"] == (32 if device.startswith("cuda") else 8)
    finally:
        torch.backends.cuda.enable_cudnn_sdp(before)


class _FakeCache:
    """Stands in for a key/value cache in the prefix store: a length that can be cropped."""

    def __init__(self, length: int):
        self.length = length

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, count: int) -> None:
        self.length += count  # a negative count removes tokens, as DynamicCache.crop does


def test_the_prefix_cache_drops_an_entry_the_next_one_extends_and_keeps_the_others():
    """A conversation's read-ahead and each reply's prompt begin with the previous stage; the
    earlier stage is dropped when the later one is stored (it serves every prompt the earlier
    one did), so the store's room goes to other conversations instead."""
    store = backends.PrefixCache(max_tokens=50)
    other = list(range(100, 115))  # another conversation, 15 tokens
    first = list(range(20))  # a conversation's first stage
    later = first + list(range(20, 30))  # the same conversation, one reply on
    for ids in (other, first, later):
        store.store(ids, _FakeCache(len(ids)))
    assert sorted(map(len, store._entries)) == [15, 30]  # 45 tokens: room for both
    cache, reused = store.lookup([*other, 999])
    assert reused == 15 and cache.get_seq_length() == 15  # the other conversation still served
    cache, reused = store.lookup([*first, 7, 7])  # the earlier stage's prompt: served by the later
    assert reused == 20 and cache.get_seq_length() == 20
    diverging = first[:10] + [500, 501, 502]  # shares a beginning, does not extend: both stay
    store.store(diverging, _FakeCache(len(diverging)))
    assert len(later) in map(len, store._entries) and len(diverging) in map(len, store._entries)
