"""The privacy gate: identifiers of the input are found, by kind, on token boundaries."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.errors import BuildError
from cpanalysis.site.privacy_gate import (
    check_published,
    find_identifiers,
    identifiers_from_tables,
)

HEADER = pd.DataFrame(
    {
        "CHILD": ["CH48213", "90210", "417", "123456.0"],
        "DOB": ["14/03/2012", "01/06/2015", "31/01/2010", "07/11/2019"],
        "UPN": ["A123456789012", "UN1", None, "B987654321098"],
        "MC_DOB": [None, None, None, None],
    }
)
EPISODES = pd.DataFrame(
    {
        "CHILD": ["CH48213", "90210"],
        "HOME_POST": ["SO14 0AA", "so15 2ab"],
        "PL_POST": ["SO14 0", None],  # a sector, not a full postcode
    }
)


@pytest.fixture
def idents():
    return identifiers_from_tables([HEADER, EPISODES])


def _site(tmp_path, text: str, name: str = "page.html"):
    site = tmp_path / "_site"
    site.mkdir(exist_ok=True)
    (site / name).write_text(text, encoding="utf-8")
    return site


def test_identifiers_are_collected_and_normalised(idents):
    # Excel's 123456.0 is child 123456; UN1 ("no UPN") is not an identifier
    assert idents.ids["a child ID"] == {"CH48213", "90210", "417", "123456"}
    assert idents.ids["a UPN"] == {"A123456789012", "B987654321098"}
    # month starts and month ends are left out (see the module docstring)
    assert idents.dates_of_birth == {"2012-03-14", "2019-11-07"}
    assert idents.postcodes == {"SO140AA", "SO152AB"}
    assert idents.short_ids == 1


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<td>CH48213</td>", "a child ID"),
        ("child ch48213 moved", "a child ID"),
        ("id=90210,", "a child ID"),
        ('"123456"', "a child ID"),
        ("UPN A123456789012", "a UPN"),
        ("born 14/03/2012", "a date of birth"),
        ('"2019-11-07T00:00:00"', "a date of birth"),
        ("lives at SO14 0AA", "a full postcode"),
        ("so152ab", "a full postcode"),
    ],
)
def test_each_kind_is_found(tmp_path, idents, text, kind):
    hits = find_identifiers(_site(tmp_path, text), idents)
    assert [k for _, k in hits] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "902100 children",  # 90210 inside a longer number
        "x90210y",  # inside a token
        "417 children looked after",  # short numeric ID: not searched in text
        "sector SO14 0 only",  # postcode sector
        "31/01/2010 and 2015-06-01",  # month end and month start
        "CH482130",
    ],
)
def test_ordinary_text_is_not_a_hit(tmp_path, idents, text):
    assert find_identifiers(_site(tmp_path, text), idents) == []


def test_processed_parquet_is_checked_by_whole_cells_even_for_short_ids(tmp_path, idents):
    proc = tmp_path / "processed"
    proc.mkdir()
    pd.DataFrame({"CHILD": ["417"], "N": [417]}).to_parquet(proc / "header.parquet")
    pd.DataFrame({"CHILD": ["C0123456789ab"], "N": [90210]}).to_parquet(proc / "ok.parquet")
    hits = find_identifiers(proc, idents)
    assert [(p.name, k) for p, k in hits] == [("header.parquet", "a child ID")]


def test_gate_names_file_and_kind_but_never_the_value(tmp_path, idents):
    site = _site(tmp_path, "<p>A123456789012 and 14/03/2012</p>", "about.html")
    with pytest.raises(BuildError) as info:
        check_published([site], idents)
    message = info.value.one_line()
    assert message == (
        "privacy gate: _site/about.html contains a UPN from the input returns (and 1 other "
        "findings); nothing was published and the previous site is unchanged"
    )
    assert "A123456789012" not in message
    assert "2012" not in message


def test_gate_passes_a_clean_site(tmp_path, idents):
    check_published([_site(tmp_path, "<p>12 children, 2024-25</p>")], idents)
