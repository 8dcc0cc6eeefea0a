"""Fault 4: a file with every kind of bad line mixed with good ones, through `ladder submit`.

Good lines run to a final state; each bad one is reported with its line
number and reason; nothing else is written.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.faults.kit import instant_tiers, wait_final

BAD_LINES = {
    "not valid JSON": st.sampled_from(["{oops", "[1, 2", "just words", '{"prompt": "x",}']),
    "missing 'prompt'": st.sampled_from(['{"custom_id": "x1"}', '{"prompt": ""}', '{"prompt": 42}']),
    "positive integer": st.sampled_from(['{"prompt": "p", "max_tokens": 0}', '{"prompt": "p", "max_tokens": -3}',
                                         '{"prompt": "p", "max_tokens": "ten"}', '{"prompt": "p", "max_tokens": 1.5}']),
    "limit is": st.just(json.dumps({"prompt": "x" * 9000})),
    "expected a JSON object": st.sampled_from(["[1, 2, 3]", '"a string"', "7"]),
}
line_kinds = st.sampled_from(["good", *BAD_LINES])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(line_kinds, min_size=5, max_size=30).filter(lambda k: "good" in k), data=st.data())
def test_good_lines_run_and_each_bad_line_is_reported(cluster_once, ledger, tmp_path_factory, kinds, data):
    c = cluster_once
    path = tmp_path_factory.mktemp("batch") / "mixed.jsonl"
    lines, expected_bad = [], {}
    for number, kind in enumerate(kinds, start=1):
        if kind == "good":
            lines.append(json.dumps({"custom_id": f"good-{number}", "prompt": f"write line {number}"}))
        else:
            lines.append(data.draw(BAD_LINES[kind]))
            expected_bad[number] = kind
    path.write_text("\n".join(lines) + "\n")
    # When the mixed file is submitted
    result = c.ladder("submit", str(path))
    batch = int(result.stdout.split()[-1])
    # Then each bad line is reported with its number and reason
    for number, reason in expected_bad.items():
        assert any(f"line {number}:" in line and reason in line for line in result.stderr.splitlines()), (number, reason, result.stderr)
    # And exactly the good lines became jobs, all of which end final
    figures = wait_final(ledger, batch, timeout=60)
    assert figures["submitted"] == kinds.count("good") == figures["final"]
    with ledger.connect() as conn:
        rejected = conn.execute(text("select rejected_lines from batches where id = :b"), {"b": batch}).scalar()
    assert rejected == len(expected_bad)


import pytest  # noqa: E402


@pytest.fixture()
def cluster_once(cluster):
    c = cluster({"tiers": instant_tiers(2), "limits": {"max_prompt_chars": 8000}})
    c.start_workers([1, 2])
    return c
