"""Reading the text formats (JSON Lines, CSV) into text columns, natively and exactly.

Both formats are read by Polars' native readers with every column as text: CSV by
``pl.read_csv`` with no type inference, JSON Lines by ``pl.read_ndjson`` with a schema of
``pl.String``. What this module adds for JSON Lines is the proof that the native reading
is exact, and the exact Python parser for what it cannot prove:

- **Numbers keep the author's text.** Polars parses a JSON number into a double and prints
  it back in its shortest form: ``1.10`` comes back as ``1.1``, ``1e3`` as ``1000``,
  ``0.1000000000000000000001`` as ``0.1``. That round trip gives back the very text only
  for at most 15 digits with no exponent, no trailing zero after the point and not ``-0``
  (with 15 significant digits a double tells every decimal apart, and its shortest form is
  that decimal; the tests check it on random numbers). A line holding any other number
  (found by one regex on the raw text) has its numbers turned into JSON strings of the same
  text first (``"hours": 1.10`` → ``"hours": "1.10"``, one native regex replace), so they
  are read as text, never through a float.
- **Keys are accounted for.** The native reader takes the keys of the first lines as its
  schema and would drop any other key. Each line's raw keys (``":``) must equal its values
  read plus its nulls written; lines that do not balance are read again with the keys
  they hold (found by the Python parser on a sample of them), and what still does not
  balance (a key given twice, a null spelt otherwise) is read by the Python parser. A key
  given twice in one object keeps its first value on both readings. (A key that is null
  on every line holding it, and absent from the first lines, carries no value and does not
  become a column.)
- **Rows are lines.** Rows are numbered by line (``\n``, ``\r\n`` or ``\r`` alone); blank
  lines are skipped; the native reader must return one row per line it is given, else the
  file is refused: a row count that does not match the line count is never passed on.
- **The Python parser reads the rest**, with the reasons it gives: a nested object or array
  (a list of strings becomes ``a;b``), a key with space before its colon, a ``\uD800``-range
  escape, and broken lines (not JSON, not an object), found by halving what the native
  reader refuses, so one broken line does not slow the whole file.

The text itself: UTF-8, or UTF-16/32 with a byte-order mark (decoded and read); text with
NUL bytes and no mark is refused, naming the likely encoding.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from credit_rules.errors import InputError
from credit_rules.io.columns import BAD, INTERNAL_PREFIX, ROW

_LOG = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def encoding_of(head: bytes, name: str, what: str) -> str | None:
    """``utf-16``/``utf-32`` for a file starting with their byte-order mark, None for UTF-8;
    refuses text with NUL bytes and no mark (UTF-16 without a byte-order mark)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        raise InputError(
            f"{name}: this {what} file holds NUL bytes: it looks like UTF-16 without a"
            " byte-order mark; save it as UTF-8"
        )
    return None


def decode(data: bytes, name: str, what: str) -> str:
    """A text file's content: UTF-8, or UTF-16/32 with a byte-order mark."""
    encoding = encoding_of(data[:4096], name, what) or "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: this {what} file is not valid {encoding.upper()} (byte {exc.start}:"
            f" {exc.reason}); save it as UTF-8"
        ) from None


def check_names(columns: Iterable[str], name: str) -> None:
    """Refuse a reserved (``__cr_``) column name, or one given twice (after trimming)."""
    seen: set[str] = set()
    for column in columns:
        clean = column.strip().lstrip("\ufeff").strip()
        if clean.startswith(INTERNAL_PREFIX):
            raise InputError(f"{name}: column name {column!r} is reserved; rename the column")
        if clean in seen:
            raise InputError(f"{name}: column {clean!r} appears twice; keep one")
        seen.add(clean)


# ---------------------------------------------------------------------------------- CSV

_HEAD = 1 << 16


def read_csv(path: Path, name: str, what: str) -> pl.DataFrame:
    """A CSV file with every column as text (Polars' native reader, no type inference):
    UTF-8 (or UTF-16/32 with a byte-order mark), lines ended by ``\\n``, ``\\r\\n`` or
    ``\\r``; a column named twice is refused."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD)
    source: Path | bytes = path
    if encoding_of(head, name, what) is not None:
        head = source = decode(path.read_bytes(), name, what).encode("utf-8")
    if b"\r" in head and b"\n" not in head:  # old Mac line endings: \r alone
        data = source if isinstance(source, bytes) else path.read_bytes()
        source = data.replace(b"\r", b"\n")
        head = source[:_HEAD]
    head_text = head.decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(head_text.lstrip("\ufeff"))), [])
    check_names(header, name)
    return pl.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source,
                       infer_schema=False, encoding="utf8", raise_if_empty=False)


# ----------------------------------------------------------------------- JSON Lines

#: How many lines (at most) give the native reader its schema (their keys, in order).
SCHEMA_LINES = 256
#: How many lines spread over the rest of the file add their keys to the schema.
_SPREAD_LINES = 1024
#: How many times keys first seen further down are added to the schema before the lines
#: still unaccounted for are left to the Python parser.
_KEY_ROUNDS = 4
#: A piece of lines the native reader refuses is halved until it is this small, then read
#: by the Python parser, which names each broken line.
_REFUSED_PIECE = 64

_JSON_BLANK = " \t\r"
# Lines the native reader could misread, found on their raw text (strings may match too,
# e.g. a note "10:00.000,": such lines merely take a slower exact route).
# A value-position number (after ``:``) that a double does not carry back as its own
# text: an exponent, more than 15 digits, a trailing zero after the point, -0. Such lines
# are read natively after their numbers are quoted (:func:`_quote_numbers`).
_NUMBER_MISREAD = (
    r':[ \t\r]*(?:-?[0-9.]+[eE]|-?[0-9]*\.[0-9]*0[ \t\r]*[,}\]]|-?[0-9.]{16}'
    r'|-0[ \t\r]*[,}\]])'
)
# For the Python parser alone: a nested object or array (a list of strings becomes
# ``a;b``), a key with space before its colon (the key count looks for ``":``), a
# surrogate escape (Polars reads a lone one as NUL).
_PYTHON_ONLY = r':[ \t\r]*[\[{]|"[ \t\r]+:|\\u[dD][89abAB]'
_MISREAD = f"{_NUMBER_MISREAD}|{_PYTHON_ONLY}"
# A JSON number in value position (strict grammar: "01", "1." or ".5" stay broken).
_VALUE_NUMBER = (
    r'(:[ \t\r]*)(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)([ \t\r]*[,}])'
)


def _quote_numbers(lines: pl.Series) -> pl.Series:
    """Each line with its JSON numbers turned into JSON strings of the same text, natively:
    ``"hours": 1.10`` → ``"hours": "1.10"``. Text inside a string that looks like a value
    (``"a:1,"``) gets quotes too, which always breaks the line (a string is followed by a
    digit): the native reader refuses it and the Python parser reads it."""
    return lines.str.replace_all(_VALUE_NUMBER, '${1}"${2}"${3}')


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, a key given twice keeping its first value (as the
    native reader does)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str,
                      object_pairs_hook=_first_wins)


def _json_cell(value: Any) -> str | None:
    """A parsed JSON value (numbers kept as their text) as one text cell."""
    if value is None or isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return ";".join(v for v in value if v is not None)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_json_records(
    lines: Iterable[tuple[int, str]], name: str, seen: dict[str, int] | None = None
) -> pl.DataFrame:
    """Numbered JSON lines parsed in Python, exactly (numbers kept as their text): text
    columns in first-seen key order + ``__cr_row`` + ``__cr_bad`` (why a line is not a
    JSON object); blank lines are skipped. ``seen`` gets each key's first line."""
    records: list[dict[str, str | None]] = []
    rows: list[int] = []
    bad: list[str | None] = []
    keys: dict[str, None] = {}
    for number, line in lines:
        if not line.strip():
            continue
        reason = None
        record: dict[str, str | None] = {}
        try:
            obj = _loads(line)
        except json.JSONDecodeError as exc:
            obj = None
            reason = f"not valid JSON: {exc.msg} at column {exc.colno}"
        if reason is None and not isinstance(obj, dict):
            reason = "not a JSON object"
        if reason is None:
            assert isinstance(obj, dict)
            record = obj
            for key, value in obj.items():
                if key.strip().lstrip("\ufeff").startswith(INTERNAL_PREFIX):
                    raise InputError(
                        f"{name}: line {number}: column name {key!r} is reserved; rename the"
                        " column"
                    )
                if value is not None and type(value) is not str:
                    record[key] = _json_cell(value)
                if key not in keys:
                    keys[key] = None
                    if seen is not None:
                        seen.setdefault(key, number)
        records.append(record)
        rows.append(number)
        bad.append(reason)
    numbering = [pl.Series(ROW, rows, dtype=pl.Int64), pl.Series(BAD, bad, dtype=pl.String)]
    if not keys:
        return pl.DataFrame(numbering)
    return pl.from_dicts(records, schema={k: pl.String for k in keys}).with_columns(numbering)


def read_json_text(text: str, name: str) -> pl.DataFrame:
    """JSON Lines (or a ``.json`` array of objects) parsed in Python, line by line."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        # A .json file holding one array of objects, not JSON Lines.
        try:
            items = _loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno});"
                " fix the file or write one JSON object per line (JSON Lines)"
            ) from None
        lines = [(i, json.dumps(item)) for i, item in enumerate(items, 1)]
        return parse_json_records(lines, name)
    # Lines end at \n, \r\n or \r alone, as the native reader has them (not at U+2028 and
    # the other breaks of str.splitlines(), which may stand inside a JSON string).
    text_lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return parse_json_records(enumerate(text_lines, 1), name)


def read_json_lines(data: bytes, name: str, what: str) -> pl.DataFrame:
    """A JSON Lines file's bytes as text columns + ``__cr_row`` (its line) + ``__cr_bad``,
    read natively where that is provably exact and by :func:`parse_json_records`
    elsewhere (see the module docstring)."""
    if encoding_of(data[:4096], name, what) is not None:
        data = decode(data, name, what).encode("utf-8")
    while data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if data.lstrip(b" \t\r\n").startswith(b"[") or b"\x1f" in data:
        # A .json array, or a byte that would split the line reader's one column.
        return read_json_text(decode(data, name, what), name)
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # lines as splitlines()
    try:
        lines = pl.read_csv(data, has_header=False, separator="\x1f", quote_char=None,
                            schema={"line": pl.String}, raise_if_empty=False,
                            encoding="utf8")["line"]
    except pl.exceptions.PolarsError:  # not UTF-8: the Python reading names the byte
        return read_json_text(decode(data, name, what), name)
    return _NativeJson(data, lines, name).read()


class _NativeJson:
    """One JSON Lines file read natively, with the lines it cannot vouch for parsed in
    Python (kept apart from the function so each step reads as one method)."""

    def __init__(self, data: bytes, lines: pl.Series, name: str) -> None:
        self.data = data
        self.lines = lines
        self.name = name
        #: Keys found by parsing sample lines in Python, each with the first line holding it.
        self.sampled: dict[str, int] = {}

    def read(self) -> pl.DataFrame:
        lines = self.lines
        numbers = pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True)
        head_keys = self._keys(lines.head(SCHEMA_LINES), numbers.head(SCHEMA_LINES), [])
        if not head_keys:
            return self._python(lines, numbers)
        # Lines spread over the file too: a key first seen further down is then in the
        # schema already, rather than found by the key count and read again.
        spread = pl.int_range(SCHEMA_LINES, len(lines), max(1, len(lines) // _SPREAD_LINES),
                              eager=True)
        keys = [*head_keys,
                *self._keys(lines.gather(spread), numbers.gather(spread), head_keys)]
        flags = _line_flags(lines).with_columns(number=numbers, line=lines, original=lines)
        if flags["blank"].any():  # (filtering copies every line: only when there is a blank)
            flags = flags.filter(~pl.col("blank"))
        slow = [flags.clear()]
        payload = self.data  # every line as it is, unless one could be misread
        misread = flags["misread"].arg_true()
        if len(misread):
            suspect = flags["line"].gather(misread)
            python_only = suspect.str.contains(_PYTHON_ONLY)
            to_python = pl.repeat(False, flags.height, eager=True).scatter(
                misread.filter(python_only), True)
            flags = flags.with_columns(line=flags["line"].scatter(
                misread.filter(~python_only), _quote_numbers(suspect.filter(~python_only))))
            if python_only.any():
                slow.append(flags.filter(to_python))
                flags = flags.filter(~to_python)
            payload = _joined(flags["line"])
        try:
            frame = self._native(payload, keys, flags.height)
        except pl.exceptions.PolarsError:  # a broken line: found by halving
            frame, flags, refused = self._bisect(flags, keys)
            slow.append(refused)
        parts, unsettled, keys = self._settle(frame, flags, keys)
        rest = pl.concat([*slow, unsettled]).sort("number")
        seen: dict[str, int] = {}
        python = parse_json_records(zip(rest["number"].to_list(), rest["original"].to_list(),
                                        strict=True), self.name, seen)
        # Columns added directly (hstack): an eager with_columns copies every text column.
        parts = [p.hstack([pl.repeat(None, p.height, dtype=pl.String, eager=True).alias(BAD)])
                 for p in parts]
        order = self._order(head_keys, parts, seen)
        if python.height == 0 and len(parts) == 1:
            return parts[0].select([*order, ROW, BAD])
        return _merged([*parts, python], order)

    def _settle(
        self, frame: pl.DataFrame, flags: pl.DataFrame, keys: list[str]
    ) -> tuple[list[pl.DataFrame], pl.DataFrame, list[str]]:
        """The rows whose raw keys balance (each a value read or a null written; counted
        over the whole payload first, line by line only when that does not balance), each
        part numbered; lines holding keys first seen further down are read again with them;
        returns (parts, the lines still unbalanced, the keys now known)."""
        values = frame.height * frame.width - sum(frame.null_count().row(0))
        if flags["keys"].sum() == values + flags["nulls"].sum():
            return [frame.hstack([flags["number"].alias(ROW)])], flags.clear(), keys
        parts: list[pl.DataFrame] = []
        for round_ in range(_KEY_ROUNDS + 1):
            read = frame.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
            unbalanced = flags["keys"] != read + flags["nulls"]
            parts.append(frame.filter(~unbalanced).hstack(
                [flags["number"].filter(~unbalanced).alias(ROW)]))
            flags = flags.filter(unbalanced)
            more = self._keys(flags["original"].head(SCHEMA_LINES),
                              flags["number"].head(SCHEMA_LINES), keys)
            if flags.is_empty() or not more or round_ == _KEY_ROUNDS:
                break
            keys = [*keys, *more]  # keys first seen further down: read those lines again
            frame = self._native(_joined(flags["line"]), keys, flags.height)
        return parts, flags, keys

    def _order(self, head: list[str], parts: list[pl.DataFrame], seen: dict[str, int]
               ) -> list[str]:
        """Columns in first-seen order, as the Python reading has them: the keys of the
        first lines, then the others by the first line holding them (among the lines
        parsed in Python, or read natively with a value)."""
        first = dict(self.sampled)
        for key, line in seen.items():
            first[key] = min(first.get(key, line), line)
        for part in parts:
            for column in part.columns:
                if column not in head and column not in (ROW, BAD):
                    rows = part[ROW].filter(part[column].is_not_null())
                    if len(rows):
                        first[column] = min(first.get(column, rows[0]), rows[0])
        return [*head, *sorted((c for c in first if c not in head), key=lambda c: first[c])]

    def _bisect(
        self, flags: pl.DataFrame, keys: list[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """The lines read natively in halves, a refused half halved again: (the frame read,
        the flags of its lines, the lines refused in pieces of at most
        :data:`_REFUSED_PIECE` lines, left to the Python parser to name)."""
        frames, read, refused = [], [], []
        stack = [flags]
        while stack:
            part = stack.pop()
            try:
                frames.append(self._native(_joined(part["line"]), keys, part.height))
                read.append(part)
            except pl.exceptions.PolarsError:
                if part.height <= _REFUSED_PIECE:
                    refused.append(part)
                else:  # the first half on top, so the parts come out in line order
                    stack += [part.slice(part.height // 2), part.slice(0, part.height // 2)]
        empty = pl.DataFrame(schema=dict.fromkeys(keys, pl.String))
        return (pl.concat(frames) if frames else empty, pl.concat([flags.clear(), *read]),
                pl.concat([flags.clear(), *refused]))

    def _native(self, payload: bytes, keys: list[str], expected: int) -> pl.DataFrame:
        """The payload read by Polars with every key as text, one row per line or refused."""
        frame = pl.read_ndjson(io.BytesIO(payload), schema=dict.fromkeys(keys, pl.String))
        self._check_height(frame, expected)
        return frame

    def _check_height(self, frame: pl.DataFrame, expected: int) -> None:
        if frame.height != expected:
            raise InputError(
                f"{self.name}: the JSON Lines reader returned {frame.height:,} rows for"
                f" {expected:,} lines; no row may be lost, so the file is refused: convert it"
                " to Parquet or CSV, or report this file"
            )

    def _keys(self, head: pl.Series, numbers: pl.Series, known: list[str]) -> list[str]:
        """The keys of these lines not in ``known``, in first-seen order (as the Python
        reading orders columns); a reserved key among them is refused, naming its line."""
        seen: dict[str, int] = {}
        sample = parse_json_records(
            zip(numbers.to_list(), (line or "" for line in head.to_list()), strict=True),
            self.name, seen)
        new = [c for c in sample.columns if c not in (ROW, BAD) and c not in known]
        for key in new:
            self.sampled[key] = min(self.sampled.get(key, seen[key]), seen[key])
        return new

    def _python(self, lines: pl.Series, numbers: pl.Series) -> pl.DataFrame:
        return parse_json_records(
            zip(numbers.to_list(), (line or "" for line in lines.to_list()), strict=True),
            self.name,
        )


def _line_flags(lines: pl.Series) -> pl.DataFrame:
    """Per line: blank; possibly misread as it is (:data:`_MISREAD`); the keys its raw text
    holds (``":``) and the nulls it writes (a line whose keys are not its values read plus
    its nulls holds a key the schema lacks, a key given twice, or a null spelt otherwise).
    One ``select``: Polars runs the four on both cores."""
    line = pl.col("line")
    return pl.DataFrame({"line": lines}).select(
        blank=line.is_null() | (line.str.strip_chars(_JSON_BLANK) == ""),
        misread=line.str.contains(_MISREAD).fill_null(False),
        keys=line.str.count_matches('":', literal=True).fill_null(0),
        nulls=(line.str.count_matches('":null', literal=True)
               + line.str.count_matches('": null', literal=True)).fill_null(0),
    )


def _merged(parts: list[pl.DataFrame], columns: list[str]) -> pl.DataFrame:
    """Frames each in line order, merged into one in line order (a linear merge: sorting
    the whole would gather every column again), with these columns."""
    order = [*columns, ROW, BAD]
    aligned = [
        p.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in columns
                       if c not in p.columns).select(order)
        for p in parts
    ]
    nonempty = [p for p in aligned if p.height] or aligned[:1]
    out = nonempty[0]
    for part in nonempty[1:]:
        out = out.merge_sorted(part, key=ROW)
    return out


def _joined(lines: pl.Series) -> bytes:
    """Lines as one JSON Lines payload (written by Polars: a join through Python copies
    the text twice)."""
    buffer = io.BytesIO()
    pl.DataFrame({"line": lines}).write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()
