"""The privacy gate: identifiers of the input are found, by kind, on token boundaries."""

from __future__ import annotations

import re
from pathlib import Path

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


# ------------------------------------------------------------ issue 15 case 4: variants
VARIANTS = identifiers_from_tables(
    [
        pd.DataFrame(
            {
                "CHILD": ["4821", "00100168", "ZQ-123456", "1.23457E+5", "2016"],
                "DOB": ["17/05/2012", "2013-08-09", "09.10.2014", "03/04/2011", "17/05/2012"],
                "UPN": ["A123456789012", None, None, None, None],
            }
        ),
        pd.DataFrame({"CHILD": ["4821"], "HOME_POST": ["SW1A 1AA"], "PL_POST": ["m1 1ae"]}),
    ]
)


def test_ids_are_normalised_as_the_cleaning_reads_them():
    from cpanalysis.site.privacy_gate import normalise_id

    assert normalise_id(" 00100168 ") == "100168"
    assert normalise_id("\ufeff123456\x00") == "123456"
    assert normalise_id("1.00168E+5") == "100168"
    assert normalise_id("123456.0") == "123456"
    assert normalise_id("zq_123456") == "ZQ123456"
    assert VARIANTS.ids["a child ID"] == {"4821", "100168", "ZQ123456", "123457", "2016"}
    assert VARIANTS.dates_of_birth == {"2012-05-17", "2013-08-09", "2014-10-09", "2011-04-03"}
    assert VARIANTS.short_ids == 1  # 2016 reads as a year


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<td>17/5/2012</td>", "a date of birth"),
        ("DOB 17.05.2012 quoted", "a date of birth"),
        ("2012/05/17", "a date of birth"),
        ("17-05-2012", "a date of birth"),
        ("born 17 May 2012", "a date of birth"),
        ("9th August, 2013", "a date of birth"),
        ("20120517", "a date of birth"),
        ("09102014", "a date of birth"),
        ('"value": "17\\/05\\/2012"', "a date of birth"),  # JSON-escaped, as in search.json
        ("17&#x2F;05&#x2F;2012", "a date of birth"),  # HTML entities
        ("<td>4821</td>", "a child ID"),  # a 4-digit ID, as a token
        ("CHILD 00100168 set aside", "a child ID"),  # leading zeros
        ("row 7: 100168,", "a child ID"),
        ("ZQ_123456", "a child ID"),
        ("zq 123456", "a child ID"),
        ("ZQ123456", "a child ID"),
        ("SW1A-1AA", "a full postcode"),
        ("sw1a_1aa", "a full postcode"),
        ("M1 1AE", "a full postcode"),
        # papermill's timings as Quarto copied them into pages (the notebooks now lose
        # that metadata before rendering): a fraction is not an ID, a whole number may be
        ('data-quarto-private-1="{&quot;duration&quot;: 0.123457}"', None),
        ("&quot;start_time&quot;: &quot;2026-12-01T21:42:48.932791+00:00&quot;", None),
        ('data-quarto-private-1="{&quot;n&quot;: 123457}"', "a child ID"),
        ("123457.0 set aside", "a child ID"),
        ("<p>12 children, 2024-25, 0.5%</p>", None),
    ],
)
def test_variants_are_found_as_whole_tokens(tmp_path, text, kind):
    hits = find_identifiers(_site(tmp_path, text), VARIANTS)
    assert [k for _, k in hits] == ([kind] if kind else [])


@pytest.mark.parametrize(
    "text",
    [
        "48210 children",  # 4821 inside a longer number
        "1.4821",  # the digits after a decimal point are a fraction, not an ID
        "a .123457 share",
        "color: #100168;",  # a colour
        "12.3457 per child",  # numbers joined by a dot are not an ID
        "2016 to 2026",  # a 4-digit ID that reads as a year is not searched in text
        "17/05/20120",
        "117/05/2012",
        "2012-05-01 and 31/05/2012",  # first and last days of a month
        "SW1A 1",  # a sector
        "ZQ-1234567",
    ],
)
def test_near_misses_are_not_hits(tmp_path, text):
    assert find_identifiers(_site(tmp_path, text), VARIANTS) == []


def test_every_published_file_is_read(tmp_path):
    site = tmp_path / "_site"
    for name, text in {
        "search.json": '[{"text": "17\\/5\\/2012"}]',
        "downloads/quality_report.csv": "file,reason\nx.csv,CHILD 4821\n",
        "run_manifest.json": '{"note": "SW1A 1AA"}',
        "site_libs/app.js": "var zq = 'ZQ-123456';",
        "overview.ipynb": '{"cells": [{"source": "born 17 May 2012"}]}',
    }.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, "utf-8")
    proc = tmp_path / "processed"
    proc.mkdir()
    pd.DataFrame({"reason": ["child 00100168 set aside"]}).to_parquet(proc / "q.parquet")
    hits = sorted(
        (p.relative_to(tmp_path).as_posix(), k) for p, k in find_identifiers(tmp_path, VARIANTS)
    )
    assert hits == [
        ("_site/downloads/quality_report.csv", "a child ID"),
        ("_site/overview.ipynb", "a date of birth"),
        ("_site/run_manifest.json", "a full postcode"),
        ("_site/search.json", "a date of birth"),
        ("_site/site_libs/app.js", "a child ID"),
        ("processed/q.parquet", "a child ID"),
    ]


# ------------------------------------------- library code is recognised by exact content
def _literal(code: str) -> str:
    """A whole number of 5+ digits in the code (not a fraction), to plant as an ID."""
    for match in re.finditer(r"(?<![0-9A-Za-z.#])[1-9][0-9]{4,}(?![0-9A-Za-z])", code):
        return match.group()
    raise AssertionError("no 5-digit literal in the library")


def test_vega_bundle_inlined_in_a_page_is_not_searched_but_the_page_is(tmp_path):
    from cpanalysis.charts.offline import bundle_script, javascript_bundle
    from cpanalysis.site.privacy_gate import known_library

    literal = _literal(javascript_bundle())
    idents = identifiers_from_tables([pd.DataFrame({"CHILD": [literal]})])
    page = f"<html><body>{bundle_script()}<p>12 children</p></body></html>"
    site = _site(tmp_path, page)
    library = known_library(site)
    assert [k for _, k in find_identifiers(site, idents)] == ["a child ID"]  # without it
    assert find_identifiers(site, idents, library) == []
    _site(tmp_path, page.replace("12 children", f"child {literal}"))
    assert [k for _, k in find_identifiers(site, idents, library)] == ["a child ID"]


def test_renderer_asset_unchanged_is_not_searched_a_changed_one_is(tmp_path):
    from importlib import resources

    from cpanalysis.site.privacy_gate import _tokens, known_library

    assets = Path(str(resources.files("smalldocs") / "assets"))
    source = next(iter(sorted(assets.rglob("bootstrap.bundle.min.js"))))
    # an alphanumeric ID that happens to be a word of the library's code
    word = sorted(t for t in _tokens(source.read_text("utf-8")) if len(t) >= 8)[0]
    idents = identifiers_from_tables([pd.DataFrame({"CHILD": [word]})])
    site = tmp_path / "_site"
    (site / "site_libs").mkdir(parents=True)
    (site / "site_libs" / source.name).write_bytes(source.read_bytes())
    library = known_library(site)
    assert find_identifiers(site, idents, library) == []
    (site / "site_libs" / source.name).write_bytes(source.read_bytes() + b"\n")  # changed
    assert [k for _, k in find_identifiers(site, idents, library)] == ["a child ID"]


def test_url_encoded_text_is_read_decoded(tmp_path):
    css = 'url("data:image/svg+xml,%3csvg fill=%27%23495057%27/%3e") /* %2817%2F05%2F2012 */'
    idents = identifiers_from_tables(
        [pd.DataFrame({"CHILD": ["495057", "23495057"], "DOB": ["17/05/2012", None]})]
    )
    hits = find_identifiers(_site(tmp_path, css, "theme.css"), idents)
    assert [k for _, k in hits] == ["a date of birth"]  # the colour is not an ID


# ------------------------------------------- the cleaning's spelling and the raw forms
# Raw cells as a return may carry them. The cleaning (normalise_ids) reads each as one
# child: "00234567" is 234567, "345678.0" is 345678, "4.56789E+5" is 456789, " 567890 "
# is 567890 and "zq678901" stays zq678901 (the gate folds case).
RAW_FORMS = identifiers_from_tables(
    [pd.DataFrame({"CHILD": ["00234567", "345678.0", "4.56789E+5", " 567890 ", "zq678901"]})]
)


def test_the_gate_looks_for_the_cleanings_spelling_of_each_child():
    from cpanalysis.cleaning import normalise_ids

    raw = pd.Series(["00234567", "345678.0", "4.56789E+5", " 567890 ", "zq678901"])
    cleaned, _ = normalise_ids(raw.str.strip(), child=True)
    assert list(cleaned) == ["234567", "345678", "456789", "567890", "zq678901"]
    # every one of them, folded, is among the IDs the gate searches
    assert RAW_FORMS.ids["a child ID"] >= {"234567", "345678", "456789", "567890", "ZQ678901"}


@pytest.mark.parametrize(
    "text",
    [
        # each child's ID planted in a page in each form a raw file may carry
        *(
            form.format(n)
            for n in ("234567", "345678", "456789", "567890")
            for form in ("<td>{}</td>", "00{}", "{}.0", " {} ", "id={},")
        ),
        "<td>2.34567E+5</td>",  # Excel's exponent form, every digit shown
        "3.45678e+05 children",
        "zq678901",
        "ZQ678901",
        "Zq-678901",
    ],
)
def test_each_raw_form_planted_in_a_page_is_found(tmp_path, text):
    hits = find_identifiers(_site(tmp_path, text), RAW_FORMS)
    assert [k for _, k in hits] == ["a child ID"]


@pytest.mark.parametrize("text", ["2.3456E+5", "1.5E+5 share", "23456.7", "x234567y"])
def test_exponent_forms_with_lost_digits_are_not_ids(tmp_path, text):
    # 2.3456E+5 is 234560 (not 234567); 23456.7 and x234567y are no ID either
    assert find_identifiers(_site(tmp_path, text), RAW_FORMS) == []


def test_an_id_the_cleaning_cannot_know_is_still_looked_for_as_written(tmp_path):
    # "1.5E+5" has lost digits: the cleaning makes it missing, yet the cell as written is
    # looked for (folded, 150000), so a page quoting it is refused
    idents = identifiers_from_tables([pd.DataFrame({"CHILD": ["1.5E+5"]})])
    assert idents.ids["a child ID"] == {"150000"}
    hits = find_identifiers(_site(tmp_path, "row 4: 150000"), idents)
    assert [k for _, k in hits] == ["a child ID"]
