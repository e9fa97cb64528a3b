"""The throughput benchmark's client speaks Gradio's REST API to the benchmark server.

Only the plumbing is checked here (no model, a few calls); the numbers come from running
`bench/advice.py throughput` on a quiet machine, never from a timed test.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_http_harness_completes_every_call_on_both_endpoints(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT))
    from bench import advice as bench

    log = tmp_path / "batches.txt"
    monkeypatch.setenv("BENCH_BATCH_LOG", str(log))
    rows = bench.throughput("none", clients=4, requests=3, threads=1, harness="http", rounds=1)

    assert [row["endpoint"] for row in rows] == ["one_at_a_time", "batched"]
    assert rows[1]["gain"].endswith("x")
    for row in rows:
        assert row["requests"] == 12  # 4 clients x 3 calls, each streamed to "complete"
        assert row["requests/s"] > 0
    # the batched endpoint really ran: every post it received is accounted for in its batches
    sizes = [int(line) for line in log.read_text().split()]
    assert sum(sizes) == 4 + 12  # the 4 warm-up calls and the 12 measured ones
