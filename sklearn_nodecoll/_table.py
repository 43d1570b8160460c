"""Reading numeric columns from comma-separated files, with row-level errors.

Only the standard :mod:`csv` module and numpy are used, so the command line
needs no data-frame library. Files as distributed by instruments and
benchmarks are accepted: quoted header names, a trailing comma on every row
(an unnamed, empty last column), blank lines, and columns that are filled
only on some rows as long as they are not requested.
"""

import csv
import math

import numpy as np


class TableError(ValueError):
    """A comma-separated file does not contain the values requested."""


class Table:
    """The header and raw cells of a comma-separated file.

    Parameters
    ----------
    path : str or path-like
    names : list of str
        Column names from the header, stripped of quotes and spaces.
    rows : list of tuple (int, list of str)
        File line number (1-based) and cells of each non-blank data row.
    """

    def __init__(self, path, names, rows):
        self.path = str(path)
        self.names = names
        self.rows = rows

    @property
    def n_rows(self):
        return len(self.rows)

    def _column_index(self, name):
        if name not in self.names:
            available = ", ".join(repr(n) for n in self.names if n)
            raise TableError(f"{self.path}: column {name!r} not found; the header has {available}.")
        return self.names.index(name)

    def column(self, name, allow_missing=False):
        """Parse one column as floats.

        Parameters
        ----------
        name : str
        allow_missing : bool, default=False
            Whether an empty cell or ``nan`` is accepted and returned as NaN.
            Otherwise every cell must be a finite number.

        Raises
        ------
        TableError
            Naming the column, data row and file line of the first bad cell.
        """
        index = self._column_index(name)
        values = np.empty(self.n_rows)
        for row_number, (line, cells) in enumerate(self.rows, start=1):
            cell = cells[index].strip() if index < len(cells) else ""
            values[row_number - 1] = self._parse_cell(cell, name, row_number, line, allow_missing)
        return values

    def _parse_cell(self, cell, name, row_number, line, allow_missing):
        where = f"{self.path}: column {name!r}, row {row_number} (line {line})"
        if cell == "":
            if allow_missing:
                return math.nan
            raise TableError(f"{where}: the cell is empty; expected a number.")
        try:
            value = float(cell)
        except ValueError:
            raise TableError(f"{where}: cannot parse {cell!r} as a number.") from None
        if math.isnan(value) and allow_missing:
            return value
        if not math.isfinite(value):
            raise TableError(f"{where}: expected a finite number, got {cell!r}.")
        return value

    def columns(self, names, allow_missing=False):
        """Parse several columns into an array of shape (n_rows, len(names))."""
        if not names:
            return np.empty((self.n_rows, 0))
        return np.column_stack([self.column(name, allow_missing) for name in names])

    def sorted_time(self, name):
        """Parse a time column and check that it never decreases."""
        times = self.column(name)
        decreasing = np.flatnonzero(np.diff(times) < 0)
        if decreasing.size:
            row = int(decreasing[0]) + 2
            line = self.rows[row - 1][0]
            raise TableError(
                f"{self.path}: column {name!r}, row {row} (line {line}): time "
                f"{times[row - 1]:g} comes before the previous row's {times[row - 2]:g}; "
                "sort the rows by time."
            )
        return times


def read_table(path):
    """Read the header and data rows of a comma-separated file.

    Raises
    ------
    TableError
        If the file is empty, has no header, has no data rows, or repeats a
        column name.
    OSError
        If the file cannot be opened.
    """
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        header = None
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
            else:
                rows.append((reader.line_num, cells))
    if header is None:
        raise TableError(f"{path}: the file is empty; expected a header row of column names.")
    if not rows:
        raise TableError(f"{path}: the file has a header but no data rows.")
    # Every row must have the header's fields. Empty fields beyond them (a
    # trailing comma) and missing fields under unnamed header cells are
    # allowed; anything else, such as a decimal comma splitting a number in
    # two, would shift or drop values silently.
    for row_number, (line, cells) in enumerate(rows, start=1):
        extra = cells[len(header) :]
        missing_named = any(header[len(cells) :])
        if any(cell.strip() for cell in extra) or missing_named:
            raise TableError(
                f"{path}: row {row_number} (line {line}) has {len(cells)} fields, but the "
                f"header has {len(header)}. Check the delimiter and the decimal mark: "
                "numbers must use a decimal point, and fields are separated by commas."
            )
    named = [name for name in header if name]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise TableError(f"{path}: column name {repeated[0]!r} appears more than once in the header.")
    return Table(path, header, rows)
