"""Reading an upload: files as Excel, Google Sheets and other CRMs write them, in every
encoding and delimiter; a file that cannot be imported is refused whole, nothing stored."""

from __future__ import annotations

import codecs

import pytest

from contacts.imports import reading
from contacts.imports.files import import_rows
from contacts.models import ContactImport, ImportFilePart
from tenants.errors import ApplicationError
from tests.contacts.import_helpers import csv_text, upload_file, uploaded

pytestmark = pytest.mark.django_db

ROWS = [
    ["Phone", "First Name", "Last Name", "Notes"],
    ["+14155550100", "Zoë", "Müller", "café, crème"],
    ["+14155550101", "José", "Núñez", "naïve"],
]


def read_back(contact_import: ContactImport) -> list[list[str]]:
    return [row.cells for row in import_rows(contact_import)]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # with a byte order mark, as Excel's "CSV UTF-8"
        ("cp1252", "cp1252"),  # Excel's "CSV (Comma delimited)" on Windows
        ("utf-16", "utf-16"),  # Excel's "Unicode text": a BOM, then UTF-16 LE
        ("utf-16-le", "utf-16-le"),  # the same without its BOM
    ],
)
def test_each_encoding_is_detected_and_read_back_exactly(personas, encoding, expected):
    contact_import = uploaded(personas.org, ROWS, encoding=encoding)

    assert contact_import.encoding == expected
    assert contact_import.header == ROWS[0]
    assert read_back(contact_import) == ROWS[1:]
    assert contact_import.total == 2


def test_windows_1252_only_characters_and_latin_1_are_told_apart(personas):
    # "€" and curly quotes exist in Windows-1252 only; 0x81 is undefined there: Latin-1.
    cp1252 = uploaded(
        personas.org, [["Phone", "Note"], ["+14155550100", "€5 “deal”"]], encoding="cp1252"
    )
    latin = uploaded(personas.org, b"Phone,Note\r\n+14155550100,caf\xe9 \x81\r\n", name="latin.csv")

    assert cp1252.encoding == "cp1252"
    assert read_back(cp1252) == [["+14155550100", "€5 “deal”"]]
    assert latin.encoding == "latin-1"
    assert read_back(latin) == [["+14155550100", "café \x81"]]


def test_a_file_valid_as_utf_8_at_first_and_windows_1252_further_down_is_read_as_1252(
    personas, monkeypatch
):
    monkeypatch.setattr(reading, "SAMPLE_BYTES", 16)
    content = b"Phone,Note\r\n+14155550100,plain\r\n" + b"+14155550101,caf\xe9\r\n"

    contact_import = uploaded(personas.org, content)

    assert contact_import.encoding == "cp1252"
    assert read_back(contact_import)[1] == ["+14155550101", "café"]


@pytest.mark.parametrize(("delimiter", "word"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_the_delimiter_is_sniffed(personas, delimiter, word):
    contact_import = uploaded(personas.org, ROWS, delimiter=delimiter)

    assert reading.DELIMITER_NAMES[contact_import.delimiter] == word
    assert read_back(contact_import) == ROWS[1:]


def test_a_one_column_file_is_read_as_comma_separated(personas):
    contact_import = uploaded(personas.org, [["phone"], ["+14155550100"], ["+14155550101"]])

    assert contact_import.delimiter == ","
    assert read_back(contact_import) == [["+14155550100"], ["+14155550101"]]


def test_quoted_fields_with_newlines_delimiters_and_quotes_keep_their_line_numbers(personas):
    rows = [
        ["Phone", "Address", "Note"],
        ["+14155550100", "1 Main St\nApt 2\nSpringfield", 'said "hi", then left'],
        ["+14155550101", "2 Elm St", "x"],
    ]
    contact_import = uploaded(personas.org, rows)

    found = list(import_rows(contact_import))

    assert [row.cells for row in found] == rows[1:]
    # The header is line 1; the first row takes lines 2 to 4.
    assert [(row.index, row.line) for row in found] == [(0, 2), (1, 5)]


def test_blank_rows_and_a_blank_first_line_are_left_out(personas):
    content = b"\r\nPhone,Name\r\n+14155550100,Ann\r\n,\r\n\r\n+14155550101,Bo\r\n"

    contact_import = uploaded(personas.org, content)

    assert contact_import.header == ["Phone", "Name"]
    assert contact_import.total == 2
    assert [(r.line, r.cells) for r in import_rows(contact_import)] == [
        (3, ["+14155550100", "Ann"]),
        (6, ["+14155550101", "Bo"]),
    ]


def test_a_file_larger_than_a_part_is_stored_in_parts_and_read_back_whole(personas, monkeypatch):
    monkeypatch.setattr("contacts.imports.files.PART_BYTES", 100)
    rows = [["Phone", "Name"]] + [[f"+1415555{n:04d}", f"Person {n}"] for n in range(50)]

    contact_import = uploaded(personas.org, rows)

    assert ImportFilePart.objects.filter(contact_import=contact_import).count() > 10
    assert read_back(contact_import) == rows[1:]


def refusal(personas, content: bytes, name: str = "contacts.csv") -> str:
    from contacts.imports.services import import_upload

    with pytest.raises(ApplicationError) as raised:
        import_upload(organization=personas.org, file=upload_file(content, name))
    assert ContactImport.objects.count() == 0
    assert ImportFilePart.objects.count() == 0
    assert raised.value.fields
    assert "file" in raised.value.fields
    return raised.value.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (b"Phone,Name\r\n", "a header row but no contacts"),
        (b"Phone,Name\r\n,\r\n", "a header row but no contacts"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook (.xlsx)"),
        (b'Phone,Name\r\n+14155550100,"never closed\r\n', "closing quote"),
    ],
    ids=["empty", "blank-lines", "header-only", "header-and-blank", "png", "xlsx", "quote"],
)
def test_a_file_that_cannot_be_imported_is_refused_and_nothing_is_stored(personas, content, words):
    assert words in refusal(personas, content)


def test_a_file_of_50_mb_and_one_byte_is_refused(personas):
    content = b"Phone\r\n" + b"1" * (reading.MAX_FILE_BYTES + 1 - 7)

    assert "at most 50 MB" in refusal(personas, content)


def test_a_row_of_a_megabyte_is_refused_with_its_line(personas):
    content = csv_text([["Phone", "Note"], ["+14155550100", "ok"], ["+14155550101", "x" * 2**20]])

    message = refusal(personas, content.encode())

    assert "Line 3" in message
    assert "65,536 characters" in message


def test_a_file_over_a_million_rows_is_refused(personas, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    content = csv_text([["Phone"]] + [[f"+1415555{n:04d}"] for n in range(4)])

    assert "more than 3 rows" in refusal(personas, content.encode())


def test_a_nul_in_a_row_of_a_text_file_is_refused(personas, monkeypatch):
    monkeypatch.setattr(reading, "SAMPLE_BYTES", 12)
    content = b"Phone,Name\r\n" + b"+14155550100,Ann\r\n" * 3 + b"+14155550101,B\x00o\r\n"

    assert "Line 5 holds binary data" in refusal(personas, content)


def test_a_utf_16_file_with_a_bom_decodes_with_either_byte_order(personas):
    text = csv_text(ROWS, "\t")
    big_endian = codecs.BOM_UTF16_BE + text.encode("utf-16-be")

    contact_import = uploaded(personas.org, big_endian)

    assert contact_import.encoding == "utf-16"
    assert read_back(contact_import) == ROWS[1:]
