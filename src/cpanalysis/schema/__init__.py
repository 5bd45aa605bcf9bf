"""The SSDA903 schema, read from data: tables, columns, types and code lists by collection year.

The schema lives in ``ssda903.yml`` beside this module as one base (the 2016-17 return) plus
the changes each later return made, so a code that was retired (``H5``) or added (``K3``) is
stated once, in the year it changed. The reader, the cleaner and the synthetic generator all
ask this module, so they can never disagree about what a valid 2024-25 return looks like.

Collection years are named by the year they end: ``2025`` is the 2024-25 return, covering
1 April 2024 to 31 March 2025.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "ColumnSpec",
    "TableSpec",
    "FIRST_YEAR",
    "LAST_YEAR",
    "collection_years",
    "table_specs",
    "table_spec",
    "code_list",
    "code_description",
    "all_codes",
    "year_label",
]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an SSDA903 table in one collection year.

    Attributes
    ----------
    name : str
        The DfE column name, e.g. ``"DECOM"``.
    type : str
        ``id``, ``date``, ``date_zz``, ``code``, ``flag``, ``int`` or ``postcode``.
    blank : bool
        Whether the DfE allows the cell to be empty.
    codes : dict[str, str] | None
        Valid codes and their descriptions for that year (``type == "code"`` only).
    pii : str | None
        ``"direct"`` for identifiers of a child or member of staff, ``"quasi"`` for values
        that identify in combination, ``None`` otherwise.
    minimum, maximum : int | None
        Bounds of an ``int`` column.
    """

    name: str
    type: str
    blank: bool = False
    codes: dict[str, str] | None = None
    code_list: str | None = None
    pii: str | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class TableSpec:
    """One SSDA903 table in one collection year.

    Attributes
    ----------
    key : str
        Our name for the table (``"episodes"``), also the Parquet file name.
    dfe_name : str
        The DfE's name (``"Episodes"``).
    columns : dict[str, ColumnSpec]
        Columns in the DfE's order.
    unique_key : tuple[str, ...]
        Columns that identify a row within one return (``("CHILD",)`` for one-row-per-child
        tables).
    one_row_per_child : bool
        True for Header, UASC, AD1, PrevPerm, OC2 and OC3 (DfE rules INT31-INT36).
    """

    key: str
    dfe_name: str
    columns: dict[str, ColumnSpec]
    unique_key: tuple[str, ...]
    one_row_per_child: bool

    @property
    def column_names(self) -> list[str]:
        """Column names in the DfE's order."""
        return list(self.columns)

    @property
    def required_columns(self) -> list[str]:
        """Columns that may not be left blank."""
        return [c.name for c in self.columns.values() if not c.blank]


@cache
def _raw() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("ssda903.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


FIRST_YEAR: int = _raw()["first_year"]
LAST_YEAR: int = _raw()["last_year"]


def collection_years() -> list[int]:
    """All collection years the schema describes, e.g. ``[2017, ..., 2027]``."""
    return list(range(FIRST_YEAR, LAST_YEAR + 1))


def year_label(year: int) -> str:
    """The DfE's label for a collection year: ``2025 -> "2024-25"``."""
    return f"{year - 1}-{str(year)[-2:]}"


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"collection year {year} is outside the schema "
            f"({year_label(FIRST_YEAR)} to {year_label(LAST_YEAR)})"
        )


@cache
def _state(year: int) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Tables and code lists in force in ``year``: the base with every change up to it."""
    _check_year(year)
    raw = _raw()
    tables = copy.deepcopy(raw["tables"])
    codes = {k: {str(c): d for c, d in v.items()} for k, v in raw["code_lists"].items()}
    for change_year in sorted(raw.get("changes", {})):
        if change_year > year:
            break
        change = raw["changes"][change_year]
        tables.update(copy.deepcopy(change.get("tables", {})))
        for list_name, edit in change.get("code_lists", {}).items():
            current = codes.setdefault(list_name, {})
            if "replace" in edit:
                current.clear()
                current.update({str(c): d for c, d in edit["replace"].items()})
            for code in edit.get("remove", []):
                current.pop(str(code), None)
            current.update({str(c): d for c, d in edit.get("add", {}).items()})
    return tables, codes


def code_list(name: str, year: int) -> dict[str, str]:
    """Valid codes (with descriptions) of code list ``name`` in collection ``year``.

    Examples
    --------
    >>> sorted(code_list("sex", 2024))
    ['1', '2']
    >>> sorted(code_list("sex", 2025))
    ['F', 'M', 'U']
    """
    return dict(_state(year)[1][name])


@cache
def all_codes(name: str) -> dict[str, str]:
    """Every code list ``name`` has had in any year, newest description winning.

    Used for labels: a chart of ten years must name ``H5`` and ``K3`` alike.
    """
    merged: dict[str, str] = {}
    for year in collection_years():
        merged.update(_state(year)[1].get(name, {}))
    return merged


def code_description(name: str, code: str) -> str:
    """Plain-English meaning of ``code`` in list ``name`` (the code itself if unknown)."""
    return all_codes(name).get(code, code)


@cache
def table_specs(year: int) -> dict[str, TableSpec]:
    """Every table collected in ``year``, keyed by our table name."""
    tables, codes = _state(year)
    specs: dict[str, TableSpec] = {}
    for key, raw_table in tables.items():
        columns: dict[str, ColumnSpec] = {}
        for col, attrs in raw_table["columns"].items():
            list_name = attrs.get("codes")
            columns[col] = ColumnSpec(
                name=col,
                type=attrs["type"],
                blank=bool(attrs.get("blank", False)),
                codes=dict(codes[list_name]) if list_name else None,
                code_list=list_name,
                pii=attrs.get("pii"),
                minimum=attrs.get("min"),
                maximum=attrs.get("max"),
            )
        one_row = bool(raw_table.get("one_row_per_child", False))
        unique_key = tuple(raw_table.get("key", ["CHILD"] if one_row else list(columns)))
        specs[key] = TableSpec(
            key=key,
            dfe_name=raw_table["dfe_name"],
            columns=columns,
            unique_key=unique_key,
            one_row_per_child=one_row,
        )
    return specs


def table_spec(table: str, year: int) -> TableSpec:
    """The spec of one table in one collection year.

    Raises
    ------
    KeyError
        If the table was not collected that year (e.g. ``sw_episodes`` before 2023-24).
    """
    specs = table_specs(year)
    if table not in specs:
        raise KeyError(f"table {table!r} is not part of the {year_label(year)} return")
    return specs[table]
