"""Batch parsing: good lines become jobs, each bad line one reported error."""

import json

import pytest

from ladder.config import Limits
from ladder.errors import InputError
from producer.parse import JobSpec, LineError, parse_file, parse_lines

LIMITS = Limits(max_prompt_chars=100, default_max_tokens=32, max_max_tokens=256)


def lines(*objs):
    return [o if isinstance(o, str) else json.dumps(o) for o in objs]


def test_good_lines_become_jobs_with_defaults():
    [job] = parse_lines(lines({"custom_id": "a", "prompt": "Hi"}), LIMITS)
    assert job == JobSpec(line_no=1, custom_id="a", prompt="Hi", max_tokens=32)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("{not json", "not valid JSON"),
        ({"custom_id": "x"}, "missing 'prompt'"),
        ({"prompt": "   "}, "missing 'prompt'"),
        ({"prompt": "hi", "max_tokens": 0}, "positive integer"),
        ({"prompt": "hi", "max_tokens": "12"}, "positive integer"),
        ({"prompt": "hi", "max_tokens": True}, "positive integer"),
        ({"prompt": "hi", "max_tokens": 999}, "limit is 256"),
        ({"prompt": "x" * 101}, "limit is 100"),
        ({"prompt": "hi", "metadata": [1]}, "'metadata' must be a JSON object"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_each_bad_line_is_reported_with_its_number_and_reason(line, reason):
    # Given a good line around the bad one
    items = list(parse_lines(lines({"prompt": "ok"}, line, {"prompt": "ok too"}), LIMITS))
    # Then the good ones still parse and the bad one names line 2
    assert [type(i) for i in items] == [JobSpec, LineError, JobSpec]
    assert items[1].line_no == 2 and reason in items[1].reason


def test_duplicate_custom_id_is_rejected_on_its_second_line():
    items = list(parse_lines(lines({"custom_id": "a", "prompt": "1"}, {"custom_id": "a", "prompt": "2"}), LIMITS))
    assert isinstance(items[0], JobSpec)
    assert isinstance(items[1], LineError) and "duplicate custom_id 'a'" in items[1].reason


def test_blank_lines_are_skipped_but_keep_numbering(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"prompt": "a"}\n\n{"prompt": ""}\n')
    result = parse_file(path, LIMITS)
    assert len(result.jobs) == 1 and result.errors[0].line_no == 3


def test_empty_file_is_an_input_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n \n")
    with pytest.raises(InputError, match="empty"):
        parse_file(path, LIMITS)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        parse_file(tmp_path / "nope.jsonl", LIMITS)


def test_non_utf8_file_is_an_input_error(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prompt": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        parse_file(path, LIMITS)
