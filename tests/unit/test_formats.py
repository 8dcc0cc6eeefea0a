"""Input formats: OpenAI Batch JSONL and CSV parse to the same jobs as Ladder JSONL, bad lines named by number."""

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.config import Limits
from ladder.errors import InputError
from producer.formats import parse_any
from producer.formats.csv_rows import parse_csv_lines
from producer.formats.ladder_jsonl import parse_ladder_lines
from producer.formats.openai_batch import OPENAI_KEY, parse_openai_lines
from producer.parse import JobSpec, LineError

LIMITS = Limits(max_prompt_chars=200, default_max_tokens=32, max_max_tokens=256)


def chat(custom_id="r1", messages=None, url="/v1/chat/completions", **body):
    messages = messages if messages is not None else [{"role": "user", "content": "Hi"}]
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": "gpt-4o-mini", "messages": messages, **body}}


def jsonl(*objs):
    return [o if isinstance(o, str) else json.dumps(o) + "\n" for o in objs]


def csv_lines(*rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return io.StringIO(buffer.getvalue(), newline="").readlines()


# --- OpenAI Batch -----------------------------------------------------------------------------


def test_a_chat_request_becomes_a_job_with_its_system_message_first():
    # Given a chat request with a system message, max_completion_tokens and metadata
    line = chat(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
                max_completion_tokens=20, max_tokens=99, metadata={"task": "faq", "team": "geo"})
    # When it is parsed
    [job] = parse_openai_lines(jsonl(line), LIMITS)
    # Then the system message leads the prompt, max_completion_tokens wins, and the request is kept for the export
    assert job.prompt == "Be brief.\n\nCapital of France?"
    assert (job.custom_id, job.max_tokens, job.task) == ("r1", 20, "faq")
    assert job.metadata == {"task": "faq", "team": "geo",
                            OPENAI_KEY: {"method": "POST", "url": "/v1/chat/completions", "body_model": "gpt-4o-mini"}}


def test_earlier_turns_are_labelled_and_the_last_user_message_ends_the_prompt():
    messages = [
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
        {"role": "assistant", "content": "Bonjour"},
        {"role": "user", "content": [{"type": "text", "text": "How are "}, {"type": "text", "text": "you?"}]},
    ]
    [job] = parse_openai_lines(jsonl(chat(messages=messages)), LIMITS)
    assert job.prompt == "Answer in French.\n\nUser: Hello\n\nAssistant: Bonjour\n\nHow are you?"


def test_a_completions_request_uses_its_prompt_and_the_default_max_tokens():
    line = {"custom_id": "c", "method": "POST", "url": "/v1/completions", "body": {"model": "m", "prompt": "Once upon"}}
    [job] = parse_openai_lines(jsonl(line), LIMITS)
    assert (job.prompt, job.max_tokens, job.metadata[OPENAI_KEY]["url"]) == ("Once upon", 32, "/v1/completions")


@pytest.mark.parametrize(
    "line, reason",
    [
        ("{nope", "not valid JSON"),
        ({k: v for k, v in chat().items() if k != "custom_id"}, "missing 'custom_id'"),
        ({**chat(), "method": "GET"}, "'method' must be \"POST\""),
        (chat(url="/v1/embeddings"), "'/v1/embeddings' is not supported"),
        ({**chat(), "body": "text"}, "missing 'body'"),
        (chat(messages=[]), "'body.messages' must be a non-empty list"),
        (chat(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]), "must end with a user message"),
        (chat(messages=[{"role": "tool", "content": "x"}]), "role 'tool'"),
        (chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]), "'image_url' content part"),
        (chat(messages=[{"role": "user", "content": "  "}]), "the last user message is empty"),
        (chat(n=3), "'body.n' is 3"),
        (chat(max_completion_tokens=0), "'body.max_completion_tokens' must be a positive integer"),
        (chat(max_tokens=999), "'body.max_tokens' is 999; the limit is 256"),
        (chat(messages=[{"role": "user", "content": "x" * 201}]), "the limit is 200"),
        (chat(metadata=["a"]), "'body.metadata' must be a JSON object"),
        ({**chat(url="/v1/completions"), "body": {"prompt": ["a", "b"]}}, "'body.prompt' must be a non-empty string"),
    ],
)
def test_each_bad_openai_line_is_reported_with_its_number_and_reason(line, reason):
    # Given a bad line between two good ones
    items = list(parse_openai_lines(jsonl(chat("a"), line, chat("b")), LIMITS))
    # Then the good ones still parse and the bad one names line 2
    assert [type(i) for i in items] == [JobSpec, LineError, JobSpec]
    assert items[1].line_no == 2 and reason in items[1].reason, items[1].reason


def test_a_repeated_openai_custom_id_is_rejected_on_its_second_line():
    items = list(parse_openai_lines(jsonl(chat("same"), "\n", chat("same")), LIMITS))
    assert isinstance(items[0], JobSpec)
    assert items[1] == LineError(3, "duplicate custom_id 'same' (custom_id must be unique in a batch)")


def test_body_metadata_cannot_overwrite_the_reserved_request_key():
    [job] = parse_openai_lines(jsonl(chat(metadata={OPENAI_KEY: "forged"})), LIMITS)
    assert job.metadata[OPENAI_KEY]["url"] == "/v1/chat/completions"


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_rows_become_jobs_and_other_columns_become_metadata():
    # Given a header with known columns in any case, one extra column and an unnamed trailing one
    lines = csv_lines(["Prompt", "CUSTOM_ID", "max_tokens", "task", "sku", ""], ["Describe a mug", "m1", "40", "desc", "MUG-1", ""],
                      ["Describe a pan", "", "", "", "PAN-2", ""])
    # When parsed
    first, second = parse_csv_lines(lines, LIMITS)
    # Then known columns fill the job, empty cells mean defaults, and the extra column is metadata
    assert first == JobSpec(2, "m1", "Describe a mug", 40, "desc", {"sku": "MUG-1"})
    assert second == JobSpec(3, "line-3", "Describe a pan", 32, None, {"sku": "PAN-2"})


def test_a_quoted_multi_line_prompt_keeps_its_newline_and_later_rows_keep_their_line_numbers():
    lines = csv_lines(["prompt", "custom_id"], ["first line\nsecond line", "a"], ["", "blank prompt"], ["next", "b"])
    items = list(parse_csv_lines(lines, LIMITS))
    assert items[0].prompt == "first line\nsecond line" and items[0].line_no == 2
    assert items[1] == LineError(4, "missing 'prompt' (a non-empty string)")
    assert items[2].line_no == 5


@pytest.mark.parametrize(
    "row, reason",
    [
        ('"hi",a,12,extra\r\n', "has 4 fields; the header on line 1 has 3"),
        ("hi,a\r\n", "has 2 fields"),
        ("hi,a,lots\r\n", "'max_tokens' must be a positive integer, got 'lots'"),
        ("hi,a,1.5\r\n", "got '1.5'"),
        ("hi,a,-2\r\n", "got -2"),
        (f"{'x' * 201},a,4\r\n", "the limit is 200"),
        ("hi,ok,4\r\n", "duplicate custom_id 'ok'"),
    ],
)
def test_each_bad_csv_row_is_reported_with_its_line_number(row, reason):
    lines = ["prompt,custom_id,max_tokens\r\n", "fine,ok,4\r\n", row, "\r\n", "also fine,z,\r\n"]
    items = list(parse_csv_lines(lines, LIMITS))
    assert [type(i) for i in items] == [JobSpec, LineError, JobSpec]
    assert items[1].line_no == 3 and reason in items[1].reason, items[1].reason


def test_an_unclosed_quote_is_reported_where_its_row_starts():
    items = list(parse_csv_lines(["prompt,custom_id\n", '"open,a\n', "more,b\n"], LIMITS))
    [error] = items
    assert error.line_no == 2 and "has 1 fields; the header on line 1 has 2 (the row runs to line 3: is a quote left open?)" in error.reason


@pytest.mark.parametrize(
    "lines, message",
    [
        (["custom_id,text\n", "a,b\n"], "no 'prompt' column (found: custom_id, text)"),
        (["prompt,Prompt\n", "a,b\n"], "repeats prompt"),
        (["\n", "  \n"], "no header row"),
    ],
)
def test_a_csv_without_a_usable_header_is_refused_before_any_row(lines, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_csv_lines(lines, LIMITS)


# --- Detection and files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("batch.CSV", "Prompt\nhello\n", "csv"),
        ("batch.txt", "custom_id,prompt\na,hello\n", "csv"),
        ("batch.jsonl", "\n\n" + json.dumps(chat()) + "\n", "openai"),
        ("batch.jsonl", json.dumps({"prompt": "hi", "body": "is just a field"}) + "\n", "ladder"),
        ("batch.jsonl", '{"prompt": "hi"}\n' + json.dumps(chat()) + "\n", "ladder"),
        ("batch.jsonl", "{broken\n", "ladder"),
        ("batch.data", "just some words\n", "ladder"),
    ],
)
def test_the_format_is_detected_from_the_name_or_the_first_line(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    assert parse_any(path, LIMITS)[0] == expected


def test_the_csv_extension_decides_even_when_the_first_line_is_json(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text('{"prompt": "hi"}\n')
    with pytest.raises(InputError, match="the CSV header"):
        parse_any(path, LIMITS)


def test_detection_puts_back_the_lines_it_peeked_at(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text("\n" + json.dumps(chat("one")) + "\n" + json.dumps(chat("two")) + "\n")
    fmt, items = parse_any(path, LIMITS)
    assert (fmt, [(i.line_no, i.custom_id) for i in items]) == ("openai", [(2, "one"), (3, "two")])


def test_a_named_format_overrides_detection(tmp_path):
    # Given a .jsonl file that is really CSV
    path = tmp_path / "mislabelled.jsonl"
    path.write_text("prompt\nhello\n")
    fmt, items = parse_any(path, LIMITS, fmt="csv")
    assert (fmt, [i.prompt for i in items]) == ("csv", ["hello"])
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        parse_any(path, LIMITS, fmt="xml")


def test_a_spreadsheet_byte_order_mark_does_not_hide_the_prompt_column(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffprompt,custom_id\r\nhello,a\r\n".encode("utf-8"))
    [job] = parse_any(path, LIMITS)[1]
    assert (job.custom_id, job.prompt) == ("a", "hello")


# --- Any mix of good and bad lines ---------------------------------------------------------------

PROMPTS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60).filter(str.strip)
BAD_OPENAI = [
    "not json", "[1, 2]", json.dumps({**chat(), "custom_id": ""}), json.dumps(chat(url="/v1/responses")),
    json.dumps(chat(max_tokens=-1)), json.dumps(chat(messages=[{"role": "assistant", "content": "hi"}])),
]
BAD_LADDER = ["{", '"a string"', json.dumps({"prompt": ""}), json.dumps({"prompt": "x", "max_tokens": 0}),
              json.dumps({"prompt": "x", "task": 3})]
BAD_CSV = [["", "no prompt", ""], ["x", "too", "many", "fields"], ["x", "bad tokens", "many"], ["x" * 201, "long", ""]]


def mixes(bad_lines):
    good, bad = PROMPTS.map(lambda p: ("good", p)), st.sampled_from(bad_lines).map(lambda b: ("bad", b))
    return st.lists(st.one_of(good, bad), min_size=1, max_size=30)


def check_mix(mix, items):
    """Every good entry is a job with its prompt, every bad one an error, each at its own line."""
    assert [type(i) for i in items] == [JobSpec if kind == "good" else LineError for kind, _ in mix]
    assert [i.prompt for i in items if isinstance(i, JobSpec)] == [value for kind, value in mix if kind == "good"]


@settings(max_examples=60, deadline=None)
@given(mixes(BAD_OPENAI))
def test_any_mix_of_openai_lines_yields_one_item_per_line(mix):
    lines = [json.dumps(chat(f"id-{n}", [{"role": "user", "content": value}])) if kind == "good" else value
             for n, (kind, value) in enumerate(mix)]
    items = list(parse_openai_lines([line + "\n" for line in lines], LIMITS))
    check_mix(mix, items)
    assert [i.line_no for i in items] == list(range(1, len(mix) + 1))


@settings(max_examples=60, deadline=None)
@given(mixes(BAD_LADDER))
def test_any_mix_of_ladder_lines_yields_one_item_per_line(mix):
    lines = [json.dumps({"prompt": value}) if kind == "good" else value for kind, value in mix]
    items = list(parse_ladder_lines([line + "\n" for line in lines], LIMITS))
    check_mix(mix, items)
    assert [i.line_no for i in items] == list(range(1, len(mix) + 1))


@settings(max_examples=60, deadline=None)
@given(mixes(BAD_CSV))
def test_any_mix_of_csv_rows_yields_one_item_per_row_after_the_header(mix):
    rows = [[value, f"id-{n}", ""] if kind == "good" else value for n, (kind, value) in enumerate(mix)]
    items = list(parse_csv_lines(csv_lines(["prompt", "custom_id", "max_tokens"], *rows), LIMITS))
    check_mix(mix, items)
    assert [i.line_no for i in items] == list(range(2, len(mix) + 2))
