"""Reading a CSV as spreadsheets write it: the encoding, the delimiter, and its rows, streamed.

The encoding is decided by rules rather than guessed by a detector library: a spreadsheet's
CSV is one of four encodings, and the rules tell them apart exactly where a statistical
detector (charset-normalizer) answers cp1250 or mac_roman for a short Latin-1 file. A byte
order mark decides (UTF-8, UTF-16 LE / BE: Excel's "Unicode text"); else UTF-16 without one
shows as NUL bytes in every other place; else the whole file is read as UTF-8, then as
Windows-1252, and Latin-1 takes what is left (every byte is a Latin-1 character). A NUL that
no UTF-16 explains, or a ZIP signature (an .xlsx), is a binary file, refused.

Rows are read in one pass over a binary stream (the upload's temporary file, or the stored
parts), never the whole file in memory; each comes with its index (0 for the first row after
the header) and the line of the file it starts on (a quoted field may hold newlines).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from tenants.errors import ApplicationError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_ROW_CHARS = 65_536
SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}

# csv's own limit on one field (128 KB by default) is raised so that a long row is refused by
# the clearer MAX_ROW_CHARS check, with its line.
csv.field_size_limit(MAX_ROW_CHARS * 2)


def refused(message: str, code: str = "invalid_file") -> ApplicationError:
    return ApplicationError(message, code=code, fields={"file": [message]})


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decodes(stream: IO[bytes], encoding: str) -> bool:
    """Whether the whole stream decodes (read in 1 MB pieces)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while piece := stream.read(1024 * 1024):
            decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def detect_encoding(stream: IO[bytes]) -> str:
    """The file's encoding (a Python codec name), or ``ApplicationError`` for a binary file."""
    stream.seek(0)
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if sample.startswith(b"PK\x03\x04"):
        raise refused(
            "This is an Excel workbook (.xlsx), not a CSV file: open it in Excel or Google "
            "Sheets and save or download it as CSV."
        )
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if found := _utf16_without_bom(sample):
        return found
    if b"\x00" in sample:
        raise refused("This is not a text file (it holds binary data): upload a CSV file.")
    for encoding in ("utf-8", "cp1252"):
        if _decodes(stream, encoding):
            return encoding
    return "latin-1"


class _Borrowed(io.RawIOBase):
    """The caller's stream, read through a text wrapper that must not close it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(target))
        target[: len(data)] = data
        return len(data)


def text_stream(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    """The stream from its start, decoded (``newline=""``: csv sees the file's own line
    ends); closing it leaves the stream open."""
    stream.seek(0)
    return io.TextIOWrapper(io.BufferedReader(_Borrowed(stream)), encoding=encoding, newline="")


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab: csv's sniffer on the first lines, else the one the header
    line holds most of (a one-column file is comma-separated)."""
    lines = sample.splitlines()
    head = "\n".join(lines[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


@dataclass(frozen=True)
class Row:
    index: int  # 0 for the first row after the header
    line: int  # the file's line it starts on (1 is the header's)
    cells: list[str]


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def rows(stream: IO[bytes], encoding: str, delimiter: str) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of the data rows (blank rows left out). A row longer than
    ``MAX_ROW_CHARS`` or a broken quote raises ``ApplicationError`` naming its line."""
    text = text_stream(stream, encoding)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    ended = 0  # the line the previous row ended on

    def read() -> tuple[int, list[str]] | None:
        nonlocal ended
        try:
            cells = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise refused(
                f"Line {ended + 1} cannot be read ({exc}): a row has at most "
                f"{MAX_ROW_CHARS:,} characters, and a quoted field needs its closing quote."
            ) from exc
        start, ended = ended + 1, reader.line_num
        if sum(len(c) for c in cells) > MAX_ROW_CHARS:
            raise refused(f"Line {start} is longer than {MAX_ROW_CHARS:,} characters.")
        return start, cells

    header: list[str] = []
    while (first := read()) is not None:
        if not _blank(first[1]):
            header = [cell.strip() for cell in first[1]]
            break

    def data() -> Iterator[Row]:
        index = 0
        while (found := read()) is not None:
            line, cells = found
            if _blank(cells):
                continue
            yield Row(index, line, cells)
            index += 1

    return header, data()


@dataclass(frozen=True)
class Scanned:
    encoding: str
    delimiter: str
    header: list[str]
    total: int


def scan(stream: IO[bytes], size: int) -> Scanned:
    """Checks a whole upload before anything is stored: its size, encoding, delimiter, a
    header, at least one row and at most ``MAX_ROWS``, no row too long. One pass (two when
    the encoding must be tried)."""
    if size > MAX_FILE_BYTES:
        raise refused(
            f"The file is {size / 1024 / 1024:.1f} MB: an import takes at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB. Split it into smaller files.",
            code="file_too_large",
        )
    if size == 0:
        raise refused("The file is empty.")
    encoding = detect_encoding(stream)
    sample = text_stream(stream, encoding).read(SAMPLE_BYTES)
    delimiter = sniff_delimiter(sample)
    header, data = rows(stream, encoding, delimiter)
    if not header:
        raise refused("The file is empty.")
    if "\x00" in "".join(header):
        raise refused("This is not a text file (it holds binary data): upload a CSV file.")
    total = 0
    for row in data:
        total += 1
        if total > MAX_ROWS:
            raise refused(
                f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.",
                code="file_too_large",
            )
        if any("\x00" in cell for cell in row.cells):
            raise refused(f"Line {row.line} holds binary data (a NUL character).")
    if total == 0:
        raise refused("The file has a header row but no contacts under it.")
    return Scanned(encoding, delimiter, header, total)


class PartsReader(io.RawIOBase):
    """A binary stream over stored parts, fetched one at a time (``fetch(index)`` returns a
    part's bytes, or None after the last)."""

    def __init__(self, fetch: object) -> None:
        self._fetch = fetch
        self._index = 0
        self._buffer = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise io.UnsupportedOperation("only a rewind")
        self._index, self._buffer, self._done = 0, memoryview(b""), False
        return 0

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer and not self._done:
            part = self._fetch(self._index)  # type: ignore[operator]
            if part is None:
                self._done = True
            else:
                self._buffer = memoryview(bytes(part))
                self._index += 1
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
