"""CSV with a header row: a ``prompt`` column, optional ``custom_id``, ``task``, ``max_tokens``.

Those four names are matched case-insensitively; every other named column
goes to the job's metadata under its header name, as a string (unnamed
columns, such as a spreadsheet's trailing comma makes, are dropped). An empty cell means
"not given" (default custom_id ``line-N``, default max_tokens). Line numbers
are the physical lines of the file, so a quoted prompt spanning several lines
is reported by the line where its row starts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from ladder.config import Limits
from ladder.errors import InputError
from producer.formats.common import checked_job, unique_custom_ids
from producer.parse import JobSpec, LineError

KNOWN_COLUMNS = ("prompt", "custom_id", "task", "max_tokens")


def _header(reader) -> tuple[int, list[str]]:
    try:
        return _read_header(reader)
    except csv.Error as exc:
        raise InputError(f"the CSV header (line {reader.line_num}) is not valid CSV ({exc}): fix its quoting") from None


def _read_header(reader) -> tuple[int, list[str]]:
    for row in reader:
        if any(cell.strip() for cell in row):
            names = [cell.strip() for cell in row]
            keys = [name.lower() if name.lower() in KNOWN_COLUMNS else name for name in names]
            break
    else:
        raise InputError("the CSV file has no header row: its first line must name the columns, one of them `prompt`")
    line_no = reader.line_num
    if "prompt" not in keys:
        found = ", ".join(names)
        raise InputError(f"the CSV header (line {line_no}) has no 'prompt' column (found: {found}): name the prompt column `prompt`")
    repeated = sorted({key for key in keys if key and keys.count(key) > 1})
    if repeated:
        raise InputError(f"the CSV header (line {line_no}) repeats {', '.join(repeated)}: give every column its own name")
    return line_no, keys


def _int_or_text(cell: str) -> int | str | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        return cell  # checked_job reports it as not a positive integer


def _job(line_no: int, record: dict[str, str], limits: Limits) -> JobSpec | LineError:
    extra = {name: value for name, value in record.items() if name and name not in KNOWN_COLUMNS}
    return checked_job(
        line_no, limits,
        prompt=record["prompt"],
        custom_id=record.get("custom_id", "").strip() or None,
        max_tokens=_int_or_text(record.get("max_tokens", "")),
        task=record.get("task", "").strip() or None,
        metadata=extra or None,
    )


def _rows(reader, header_line: int, keys: list[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield LineError(start, f"not valid CSV ({exc})")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(keys):
            span = f" (the row runs to line {reader.line_num}: is a quote left open?)" if reader.line_num > start else ""
            counts = f"has {len(row)} fields; the header on line {header_line} has {len(keys)}"
            yield LineError(start, f"{counts}{span}: quote fields that contain commas")
            continue
        yield _job(start, dict(zip(keys, row)), limits)


def parse_csv_lines(lines: Iterable[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    """Reads the header now (a file without a usable one is an ``InputError``), the rows lazily."""
    reader = csv.reader(lines)
    header_line, keys = _header(reader)
    return unique_custom_ids(_rows(reader, header_line, keys, limits))
