"""Every table of a page is a pandas DataFrame wrapped in :class:`Table`, rendered by one macro and
exported as CSV next to the page.

Columns whose name starts with ``_`` are helpers for the HTML (link targets, sort keys, row data
attributes, cell classes); they are left out of the CSV and never shown as columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic_write import write_text_atomic
from ..redact import redact_text


@dataclass
class Table:
    name: str                    # file-name part and HTML id: letters, digits, dashes
    title: str
    df: pd.DataFrame
    links: dict[str, str] = field(default_factory=dict)     # shown column -> hidden href column
    sort_keys: dict[str, str] = field(default_factory=dict)  # shown column -> hidden sort-key column
    classes: dict[str, str] = field(default_factory=dict)    # shown column -> hidden css-class column
    row_data: dict[str, str] = field(default_factory=dict)   # data-* attribute name -> hidden column
    sortable: bool = True
    csv: str = ""                # href of the exported CSV, set by write_csv
    note: str = ""               # shown when the table is empty

    @property
    def columns(self) -> list[str]:
        return [c for c in self.df.columns if not str(c).startswith("_")]

    def rows(self) -> list[dict[str, Any]]:
        cols = [str(c) for c in self.df.columns]
        return [dict(zip(cols, r, strict=True)) for r in self.df.to_numpy(dtype=object).tolist()]


def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` in that order, even when there are no rows; object dtype keeps
    integers with gaps as integers (no ``3.0``)."""
    return pd.DataFrame(rows, columns=columns, dtype=object)


def to_csv(df: pd.DataFrame) -> str:
    """``df.to_csv(index=False)`` for the plain values of report tables, several times faster than pandas'
    writer on small frames (most of a page's render time went there)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(c) for c in df.columns])
    writer.writerows(["" if v is None else v for v in row] for row in df.to_numpy(dtype=object).tolist())
    return out.getvalue()


def write_csv(table: Table, directory: Path, stem: str, *, show_pii: bool) -> None:
    """Write ``<stem>-<table>.csv`` (shown columns only, phone numbers masked) and remember its href.

    An empty table gets no file (and no link)."""
    if table.df.empty:
        return
    text = to_csv(table.df[table.columns])
    if not show_pii:
        text = redact_text(text)
    name = f"{stem}-{table.name}.csv"
    write_text_atomic(directory / name, text)
    table.csv = name
