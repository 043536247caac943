"""A data file as the checks see it, whether a CSV or a Parquet file, or ``-`` (standard input).

``open_table`` finds out what the file is (Parquet by its magic bytes, else a text CSV, which
``textfile`` scans) and gives one interface: the column names, a sample of the first rows as
text, and the wanted columns chunk by chunk with each row's number. Messages name the file as
the user did (``<stdin>`` for ``-``) and its rows as "line N" (a CSV's line, header = line 1)
or "row N" (a Parquet file's N-th data row).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.io import csvread, parquetread, stdin
from forecast_cli.io.findings import Findings
from forecast_cli.io.textfile import LINE_BREAK
from forecast_cli.loadoptions import LoadOptions


@dataclass(frozen=True)
class Table:
    """A readable data file. ``tf`` for a CSV, ``pf`` (a pyarrow ParquetFile) for Parquet."""

    path: Path  # the file read (for ``-``, the copy of standard input)
    label: str  # the file as messages name it
    size: int
    names: list[str]
    sep: str  # the CSV delimiter; "" for Parquet
    tf: csvread.TextFile | None = None
    pf: Any = None

    @property
    def format(self) -> str:
        return "csv" if self.tf is not None else "parquet"

    @property
    def unit(self) -> str:
        """What a row's number counts: CSV lines or Parquet data rows."""
        return "line" if self.tf is not None else "row"

    def capacity(self) -> int:
        """Rows expected (a CSV: from its size and first lines, with 10 % spare)."""
        if self.tf is None:
            return int(self.pf.metadata.num_rows) + 1
        lines = len(LINE_BREAK.findall(self.tf.head)) or 1
        per_line = max(1.0, len(self.tf.head.encode("utf-8", "replace")) / lines)
        return int(self.tf.size / per_line * 1.1) + 1024

    def sample(self, rows: int) -> dict[str, list[str]]:
        """The cells of the first ``rows`` data rows as text, column by column."""
        if self.tf is None:
            return parquetread.sample(self.pf, self.names, self.label, rows)
        head = list(itertools.islice(csvread.head_rows(self.tf, self.sep), 1, rows + 1))
        return {n: [r[i] if i < len(r) else "" for r in head] for i, n in enumerate(self.names)}

    def chunks(self, wanted: list[str], findings: Findings, max_rows: int,
               allow_missing: bool) -> Iterator[csvread.Chunk]:
        """The wanted columns chunk by chunk, with the rows' numbers (see ``unit``)."""
        if self.tf is not None:
            yield from csvread.read_chunks(self.tf, self.sep, self.names, wanted, findings,
                                           max_rows, allow_missing)
            return
        for rows, cells in parquetread.batches(self.pf, wanted, self.label, max_rows):
            yield csvread.Chunk(rows, cells, np.zeros(len(rows), dtype=bool))


def open_table(path: Path, opts: LoadOptions) -> tuple[Table, Findings]:
    """The file checked as far as reading it needs, and the findings its checks start with.

    Raises InputMissingError (66) when it cannot be read, DataError (65) when it is no usable
    CSV or Parquet file at all, as ``textfile.scan_file`` and ``csvread.read_header`` do.
    """
    label = stdin.label(path)
    if stdin.is_stdin(path):
        path = stdin.spool(opts.max_rows)
    path = Path(path)
    if path.is_file() and parquetread.is_parquet(path):
        pf = parquetread.open_file(path, label)
        findings = Findings(label, unit="row")
        ignored = parquetread.ignored_options(pf, opts.sep, opts.encoding, opts.decimal,
                                              opts.thousands)
        if ignored:  # said once, for the file: not a silent no-op
            findings.warn("text_options_ignored", f"{', '.join(ignored)} ignored: the file is "
                          "Parquet, and these options apply to CSV text only",
                          "leave them out for Parquet files.")
        return Table(path, label, path.stat().st_size, parquetread.names(pf, label), "",
                     pf=pf), findings
    findings = Findings(label)
    tf = csvread.scan_file(path, opts.encoding, label=label)
    sep = csvread.sniff_sep(tf, opts.sep)  # a sniffed one is shown in the report, not warned
    names = csvread.read_header(tf, sep, findings)
    return Table(path, label, tf.size, names, sep, tf=tf), findings
