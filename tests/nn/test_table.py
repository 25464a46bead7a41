"""Reading CSV tables: columns typed from their first value, each bad file refused with where."""

from __future__ import annotations

import numpy as np
import pytest

from app.nn.table import TableError, TableLimits, parse_csv

LIMITS = TableLimits(max_rows=100, max_columns=10)


def test_numbers_and_labels_are_read_by_column() -> None:
    table = parse_csv(b"x,y,kind\n1,2.5,cat\n-3e2,0,dog\n", LIMITS)
    assert table.names == ("x", "y", "kind") and table.kinds == ("number", "number", "text")
    assert table.numbers["x"].tolist() == [1.0, -300.0]
    assert table.numbers["y"].tolist() == [2.5, 0.0]
    assert table.texts["kind"] == ("cat", "dog") and table.rows == 2


def test_a_byte_order_mark_and_crlf_lines_are_fine() -> None:
    table = parse_csv(b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n", LIMITS)
    assert table.names == ("a", "b")
    np.testing.assert_array_equal(table.numbers["b"], [2.0, 4.0])


@pytest.mark.parametrize(
    ("data", "row", "column", "words"),
    [
        (b"", None, None, "empty"),
        (b"a,b\n", 2, None, "no data rows"),
        (b"a,b\n1,2\n3\n", 3, None, "ragged"),
        (b"a,b\n1,2\n3,4,5\n", 3, None, "ragged"),
        (b"a,b\n1,2\n3,x\n", 3, "b", "not a number"),
        (b"a,b\n1,2\n3,nan\n", 3, "b", "not a finite number"),
        (b"a,b\n1,2\n3,inf\n", 3, "b", "not a finite number"),
        (b"a,b\n1,2\n3,\n", 3, "b", "empty cell"),
        (b"a,a\n1,2\n", 1, "a", "appears twice"),
        (b"a,\n1,2\n", 1, None, "no name"),
        (b"a,b\n\xff,2\n", None, None, "not UTF-8"),
    ],
)
def test_a_bad_file_names_row_column_and_reason(
    data: bytes, row: int | None, column: str | None, words: str
) -> None:
    with pytest.raises(TableError) as caught:
        parse_csv(data, LIMITS)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert words in str(caught.value)


def test_limits_on_rows_and_columns_are_named() -> None:
    rows = b"a\n" + b"1\n" * 101
    with pytest.raises(TableError) as caught:
        parse_csv(rows, LIMITS)
    assert (caught.value.limit, caught.value.row) == ("max_rows", 102)
    wide = ",".join(f"c{i}" for i in range(11)).encode() + b"\n" + b"1," * 10 + b"1\n"
    with pytest.raises(TableError) as caught:
        parse_csv(wide, LIMITS)
    assert caught.value.limit == "max_columns"
