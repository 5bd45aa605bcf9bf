"""The DfE validator's summary: counts by rule, rows of the council's files, no identifier.

Unit tests here need no validator: the runner is driven with a stand-in ``lac_validator``
(a few lines that flag rows the way the real one marks them), so what the runner hands back
and what the summary writes can be checked for a planted child ID. The tests marked
``validator`` run the real DfE rules in ``.venv-validator`` (``make venv-validator``).
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from cpanalysis.validation import (
    ValidationReport,
    ValidatorUnavailable,
    YearResult,
    validate_returns,
    validator_python,
)
from cpanalysis.validation.environment import VALIDATOR_PYTHON_ENV
from cpanalysis.validation.returns import VALIDATOR_COLUMNS, write_validator_tables

ROOT = Path(__file__).resolve().parents[1]
PLANTED_CHILD = "PLNT48213"
PLANTED_UPN = "Z99998888777"  # a letter and 11 digits: one short of a UPN
PLANTED_DOB = "14/07/2011"
PLANTED_POSTCODE = "SO14 0AA"


def _answer(**rules: dict) -> dict:
    return {
        "validator": "csc-validator-be-903 0.1.17",
        "ruleset": "lac2024_25",
        "children_in_header": 4,
        "children_flagged": 1,
        "rules": [{"code": code, **rule} for code, rule in rules.items()],
    }


def test_rows_are_named_by_the_councils_file_and_spreadsheet_row():
    answer = _answer(
        **{
            "168": {
                "description": "UPN not valid",
                "fields": ["UPN"],
                "tables": {"Header": {"rows": [0, 2], "flags": 2, "children": 2}},
                "flags": 2,
                "children": 2,
            }
        }
    )
    sources = {"Header": [("2024-25/header.csv", 2), ("2024-25/header.csv", 3),
                          ("2024-25/header.csv", 5)]}  # fmt: skip
    result = YearResult(2025, 2024, answer, sources)
    (row,) = result.rows()
    # positions 0 and 2 of the validator's copy are spreadsheet rows 2 and 5 of the file
    assert row["rows"] == "2024-25/header.csv rows 2, 5"
    assert row["collection_year"] == "2024-25"
    assert row["plain_english"].startswith("A UPN must be a letter")
    assert (row["flags"], row["children"], row["columns"]) == (2, 2, "UPN")
    # 1 child flagged of 4 in the header = 25 per 100
    assert result.flagged_per_100 == 25.0
    assert result.rules_firing == ["168"]


def test_summary_puts_the_latest_year_first_and_most_flags_first():
    def rule(flags: int) -> dict:
        table = {"rows": [], "flags": flags, "children": flags}
        return {"description": "d", "fields": [], "flags": flags, "children": flags,
                "tables": {"Episodes": table}}  # fmt: skip

    report = ValidationReport(
        years=[
            YearResult(2024, None, _answer(**{"101": rule(9)})),
            YearResult(2025, 2024, _answer(**{"103": rule(1), "104": rule(7)})),
        ]
    )
    frame = report.to_frame()
    assert frame[["collection_year", "rule"]].values.tolist() == [
        ["2024-25", "104"],
        ["2024-25", "103"],
        ["2023-24", "101"],
    ]


def test_a_rule_the_validator_gets_wrong_is_shown_but_not_counted_as_firing():
    answer = _answer(
        **{
            "202": {
                "description": "sex conflicts",
                "fields": ["SEX"],
                "tables": {
                    "Header": {"rows": [], "flags": 0, "children": 0, "flags_validator_wrong": 4}
                },  # fmt: skip
                "flags": 0,
                "flags_validator_wrong": 4,
                "children": 0,
            }
        }
    )
    result = YearResult(2025, 2024, answer)
    assert result.rules_firing == []
    (row,) = result.rows()
    assert (row["flags"], row["flags_validator_wrong"]) == (0, 4)


def _fake_validator(folder: Path) -> None:
    """A stand-in ``lac_validator``: flags every Header and Episodes row under rule 168."""
    pkg = folder / "lac_validator"
    (pkg / "rules").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "rules/__init__.py": "",
        "datastore.py": """
            postcodes = None
            la_df = None
            def create_datastore(dfs, metadata):
                return {**dfs, "metadata": metadata}
        """,
        "ingress.py": """
            import pandas as pd
            def read_from_text(files):
                dfs = {}
                for f in files:
                    frame = pd.read_csv(f["name"], dtype=str)
                    name = "Header" if "UPN" in frame else "Episodes"
                    dfs[name if f["description"] == "This year" else name + "_last"] = frame
                return dfs, {}
        """,
        "utils.py": """
            def process_uploaded_files(named):
                return [{"name": p, "description": d} for d, ps in named.items() for p in ps]
        """,
        "rules/ruleset_utils.py": """
            class Rule:
                code, message, affected_fields = "168", "UPN is not valid", ["UPN"]
                @staticmethod
                def func(dfs):  # the same flags when the rule runs by itself
                    return {t: list(dfs[t].index) for t in ("Header", "Episodes") if t in dfs}
            def get_year_ruleset(year):
                return {"168": Rule()}
        """,
        "lac_validator.py": """
            import pandas as pd
            class LacValidator:
                def __init__(self, metadata, files, registry):
                    self.fails = []
                    self.ds_results = {"metadata": metadata}
                    for f in files:
                        frame = pd.read_csv(f["name"], dtype=str)
                        name = "Header" if "UPN" in frame else "Episodes"
                        if f["description"] == "Prev year":
                            name += "_last"
                        frame["ERR_168"] = f["description"] == "This year"
                        self.ds_results[name] = frame
        """,
    }
    for name, text in files.items():
        (pkg / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def fake_runner(tmp_path, monkeypatch):
    _fake_validator(tmp_path / "fake")
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    for name in [m for m in sys.modules if m.startswith("lac_validator")]:
        monkeypatch.delitem(sys.modules, name)
    runner = importlib.import_module("cpanalysis.validation.runner")
    yield runner
    for name in [m for m in sys.modules if m.startswith("lac_validator")]:
        sys.modules.pop(name, None)


def _planted_return(folder: Path) -> None:
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "CHILD": [PLANTED_CHILD, "100002"],
            "SEX": ["M", "F"],
            "DOB": [PLANTED_DOB, "01/02/2012"],
            "ETHNIC": ["WBRI", "WBRI"],
            "UPN": [PLANTED_UPN, "UN1"],
            "MOTHER": ["", ""],
            "MC_DOB": ["", ""],
        }
    ).to_csv(folder / "header.csv", index=False)
    pd.DataFrame(
        {
            "CHILD": [PLANTED_CHILD],
            "DECOM": ["01/05/2024"],
            "RNE": ["S"],
            "LS": ["C2"],
            "CIN": ["N1"],
            "PLACE": ["U4"],
            "PLACE_PROVIDER": ["PR1"],
            "DEC": [""],
            "REC": [""],
            "REASON_PLACE_CHANGE": [""],
            "HOME_POST": [PLANTED_POSTCODE],
            "PL_POST": [PLANTED_POSTCODE],
            "URN": ["SC123456"],
        }
    ).to_csv(folder / "episodes.csv", index=False)


def test_a_planted_child_never_reaches_the_summary(tmp_path, fake_runner):
    raw = tmp_path / "raw"
    _planted_return(raw / "2024-25")
    (year,) = write_validator_tables(raw, tmp_path / "scratch")
    request = {
        "collection_year": "2025",
        "local_authority": "E06000045",
        "this_year": [str(p) for p in year.csvs.values()],
    }
    answer = fake_runner.run(request)
    # the stand-in flagged all three rows (two children); the runner counts, never names
    (rule,) = answer["rules"]
    assert (rule["flags"], rule["children"]) == (3, 2)
    assert answer["children_in_header"] == 2
    report = ValidationReport([YearResult(2025, None, answer, year.rows)], None, "test")
    written = report.write(tmp_path / "out")
    # the CSV opens in Excel as UTF-8, like every published CSV (a byte-order mark first)
    assert written[0].name == "validation_summary.csv"
    assert written[0].read_bytes().startswith("\ufeffcollection_year,".encode())
    text = json.dumps(answer) + "".join(p.read_text("utf-8") for p in written)
    for secret in (PLANTED_CHILD, PLANTED_UPN, PLANTED_DOB, PLANTED_POSTCODE, "100002"):
        assert secret not in text
    # what it does say: the rule, counts and the council's own rows
    assert "2024-25/header.csv rows 2, 3" in text
    assert "2024-25/episodes.csv row 2" in text


def test_the_postcode_table_is_cut_to_the_returns_postcodes(fake_runner):
    # the validator joins episodes to its table of every postcode under the letters used;
    # cut to the keys the join will look up (as it makes them), it gives the same rows
    class Table:
        def __init__(self):
            self.letters: list = []
            self._df = pd.DataFrame()

        def load_postcodes(self, letters):
            self.letters = list(letters)
            self._df = pd.DataFrame(
                {
                    "pcd": ["SO14 0AA", "SO14 0AB", "SW1A 1AA", "SO1 4"],
                    "pcd_abbr": ["SO140AA", "SO140AB", "SW1A1AA", "SO14"],
                    "laua": ["E06000045"] * 4,
                }
            )

        @property
        def dataframe(self):
            return self._df

    episodes = pd.DataFrame(  # keys are upper case with no spaces, as the join's
        {"HOME_POST": ["SO14 0AA", None], "PL_POST": ["so14 0ab", "SO14 0AA"]}
    )
    dfs = {"Episodes": episodes, "Header": pd.DataFrame({"CHILD": ["1"]})}
    table = Table()
    fake_runner._narrow_postcodes(dfs, table)
    assert table.letters == ["S"]
    assert table.dataframe["pcd_abbr"].tolist() == ["SO140AA", "SO140AB"]
    assert table.dataframe.index.tolist() == [0, 1]
    fake_runner._narrow_postcodes(dfs, None)  # no table (the stand-in's): nothing to do


def test_validator_tables_have_exactly_the_validators_headers(tmp_path):
    raw = tmp_path / "raw"
    _planted_return(raw / "2024-25")
    (year,) = write_validator_tables(raw, tmp_path / "scratch")
    assert year.year == 2025
    for name, path in year.csvs.items():
        header = path.read_text("utf-8").splitlines()[0].split(",")
        assert tuple(header) == VALIDATOR_COLUMNS[name]
    assert year.rows["Header"] == [("2024-25/header.csv", 2), ("2024-25/header.csv", 3)]


def test_no_environment_is_one_line_and_the_run_carries_on(tmp_path, monkeypatch):
    from cpanalysis.validation import environment

    monkeypatch.delenv(VALIDATOR_PYTHON_ENV, raising=False)
    monkeypatch.setattr(environment, "_checkout", lambda: None)  # not the checkout's own
    with pytest.raises(ValidatorUnavailable) as caught:
        validator_python(tmp_path, create=False)
    assert "\n" not in str(caught.value) and ".venv-validator" in str(caught.value)
    raw = tmp_path / "raw"
    _planted_return(raw / "2024-25")
    report = validate_returns(raw, root=tmp_path, create_environment=False)
    assert report.unavailable and report.years == []
    assert report.summary().startswith("DfE validator not run:")


def test_a_failed_install_is_one_line_and_not_retried_by_every_build(tmp_path, monkeypatch):
    from cpanalysis.validation import environment

    monkeypatch.delenv(VALIDATOR_PYTHON_ENV, raising=False)
    monkeypatch.setattr(environment, "_checkout", lambda: None)
    calls = []

    def offline(env):
        calls.append(env)
        return [[sys.executable, "-c", "import sys; sys.exit('ERROR: no matching distribution')"]]

    monkeypatch.setattr(environment, "_install_commands", offline)
    with pytest.raises(ValidatorUnavailable, match="no network.*no matching distribution"):
        validator_python(tmp_path)
    # the next build within the hour does not wait for pip again ...
    with pytest.raises(ValidatorUnavailable, match="within the last hour"):
        validator_python(tmp_path)
    assert len(calls) == 1
    # ... but `make venv-validator` (force) does
    with pytest.raises(ValidatorUnavailable, match="no network"):
        validator_python(tmp_path, force=True)
    assert len(calls) == 2


def test_a_python_without_the_validator_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(VALIDATOR_PYTHON_ENV, sys.executable)  # has cpanalysis, no validator
    with pytest.raises(ValidatorUnavailable, match="does not import the DfE validator"):
        validator_python(tmp_path)


# --------------------------------------------------------------- the real DfE validator
@pytest.fixture(scope="session")
def validator_env() -> Path:
    try:
        return validator_python(ROOT)
    except ValidatorUnavailable as exc:
        pytest.skip(f"the DfE validator's environment cannot be made here: {exc}")


@pytest.mark.validator
def test_our_table_headers_are_the_validators(validator_env):
    import subprocess

    code = "import json; from lac_validator.config import column_names as c; print(json.dumps(c))"
    done = subprocess.run([str(validator_env), "-c", code], capture_output=True, text=True)
    theirs = json.loads(done.stdout)
    assert {k: tuple(v) for k, v in theirs.items() if k in VALIDATOR_COLUMNS} == VALIDATOR_COLUMNS


@pytest.mark.validator
def test_the_real_rules_flag_a_planted_bad_upn_and_never_name_the_child(validator_env, tmp_path):
    raw = tmp_path / "raw"
    _planted_return(raw / "2024-25")
    report = validate_returns(raw, root=ROOT)
    assert report.unavailable is None
    (year,) = report.years
    frame = report.to_frame()
    upn = frame[frame["rule"] == "168"]
    # the planted UPN is one digit short, so rule 168 flags it; "UN1" (unknown) is valid
    assert upn["rows"].tolist() == ["2024-25/header.csv row 2"]
    written = report.write(tmp_path / "out")
    text = "".join(p.read_text("utf-8") for p in written)
    for secret in (PLANTED_CHILD, PLANTED_UPN, PLANTED_DOB, PLANTED_POSTCODE):
        assert secret not in text
    assert year.children_in_header == 2


def _summary() -> dict:
    def rule(year, code, flags, wrong=0):
        return {"collection_year": year, "rule": code, "plain_english": f"meaning {code}",
                "description": "d", "flags": flags, "children": flags, "tables": "Header",
                "columns": "SEX", "rows": "", "flags_validator_wrong": wrong}  # fmt: skip

    report_years = [
        {"collection_year": "2023-24", "children_in_header": 50, "children_flagged": 9,
         "flagged_per_100": 18.0, "rules_failed": []},
        {"collection_year": "2024-25", "previous_year": "2023-24", "children_in_header": 200,
         "children_flagged": 2, "flagged_per_100": 1.0, "rules_run": 280,
         "rules_failed": ["231"]},
    ]  # fmt: skip
    return {
        "validator": "csc-validator-be-903 0.1.17",
        "unavailable": None,
        "years": report_years,
        "rules": [
            rule("2024-25", "393", 2),
            rule("2024-25", "202", 0, wrong=190),
            rule("2023-24", "168", 9),
        ],  # fmt: skip
        "known_faults": [
            {"rule": "202", "reason": "re-coded sex"},
            {"rule": "231", "reason": "reads a column never made"},
        ],  # fmt: skip
    }


def test_page_section_shows_the_latest_years_firing_rules_and_the_validators_faults():
    from cpanalysis.validation.page import validation_section

    text = validation_section(_summary(), "downloads/validation_summary.csv")
    # 2 children flagged is a small count: "1 to 5", and no rate per 100 (2 / 200 * 100
    # = 1 would give the 2 back); rule 393's 2 flags and 2 children are c
    assert "**2024-25, checked against 2023-24:** 1 to 5 of 200 children" in text
    assert "by at least one rule; 1 of the 280 rules fire" in text
    assert "per 100" not in text
    firing = text.split("most flags first")[1].split("</table>")[0]
    assert "meaning 393" in firing
    assert firing.count(">c<") == 2 and ">2<" not in firing
    # 202 flagged only rows the fault explains; 168 fired in an older year: neither listed
    assert "meaning 202" not in firing and "meaning 168" not in firing
    faults = text.split("Rules the validator gets wrong")[1]
    assert "190 rows not counted" in faults and "could not run" in faults
    assert "(downloads/validation_summary.csv)" in text


def test_page_section_says_in_one_line_when_the_rules_did_not_run():
    from cpanalysis.validation.page import validation_section

    text = validation_section({"unavailable": "could not install (no network?)"}, None)
    from cpanalysis.escaping import unescape_markdown  # the reason is escaped as text

    assert unescape_markdown(text.rstrip()).endswith(
        "The DfE's rules were not run: could not install (no network?)."
    )
    assert "<table" not in text


# ------------------------------------------- the validator's known faults, on tiny tables
def _ctx(**tables) -> dict:
    return {"results": tables, "history": None, "rule": None, "code": ""}


def test_rule_202_flags_only_a_real_change_of_sex_as_real():
    from cpanalysis.validation import runner

    header = pd.DataFrame({"CHILD": ["a", "b", "c"], "SEX": ["M", "F", "M"]})
    last = pd.DataFrame({"CHILD": ["a", "b", "c"], "SEX": ["1", "2", "2"]})
    hit = pd.Series([True, True, True])
    wrong = runner._wrong_202(_ctx(Header=header, Header_last=last), "Header", hit)
    # a: 1 -> M and b: 2 -> F are the 2024-25 re-coding; c: 2 (female) -> M is a change
    assert wrong.tolist() == [True, True, False]


def test_rule_146_is_wrong_only_on_k3():
    from cpanalysis.validation import runner

    episodes = pd.DataFrame({"PLACE": ["K3", "X9"]})
    wrong = runner._wrong_146(_ctx(Episodes=episodes), "Episodes", pd.Series([True, True]))
    assert wrong.tolist() == [True, False]


def test_social_worker_rules_are_wrong_for_children_who_left_care():
    from cpanalysis.validation import runner

    episodes = pd.DataFrame({"CHILD": ["a", "b"], "DEC": [None, "02/02/2026"]})
    sw = pd.DataFrame({"CHILD": ["a", "b"], "SW_DEC": ["01/03/2026", "02/02/2026"]})
    ctx = _ctx(Episodes=episodes, SWEpisodes=sw)
    wrong = runner._wrong_after_leaving(ctx, "SWEpisodes", pd.Series([True, True]))
    # a is still looked after (open episode): its flag stands; b left care in February
    assert wrong.tolist() == [False, True]


def test_sw12_is_wrong_for_a_child_with_two_periods_of_care():
    from cpanalysis.validation import runner

    episodes = pd.DataFrame(
        {
            "CHILD": ["a", "a", "b"],
            "RNE": ["S", "S", "S"],
            "DECOM": ["01/05/2025", "01/09/2025", "01/06/2025"],
            "DEC": ["01/06/2025", None, None],
            "REC": ["E4A", None, None],
        }
    )
    hit = pd.Series([True, True, True])
    wrong = runner._wrong_across_periods(_ctx(Episodes=episodes), "Episodes", hit)
    # a left in June and came back in September; b has one period, its flag stands
    assert wrong.tolist() == [True, True, False]


@pytest.mark.validator
def test_the_default_demo_council_passes_the_dfes_rules(validator_env, tmp_path):
    from cpanalysis.synthetic import write_demo_returns

    raw = tmp_path / "demo"
    write_demo_returns(raw)  # the default demo: seed 903, 500 children, 2016-17 to 2025-26
    report = validate_returns(raw, root=ROOT, years=[2025, 2026])
    assert report.unavailable is None
    assert [r.year for r in report.years] == [2025, 2026]
    for result in report.years:
        # at most 1 child flagged per 100 children in the header, each year
        assert result.children_in_header > 800
        assert result.flagged_per_100 <= 1.0, result.rules_firing


def test_the_published_rules_table_withholds_small_counts_of_children():
    # 393 flags 2 children (2 rows): both c; 168 flags 9: shown; 202 none: 0 shown
    from cpanalysis.validation.page import published_summary, validation_section

    table = published_summary(_summary()).set_index("rule")
    assert table.loc["393", ["flags", "children"]].tolist() == ["c", "c"]
    assert table.loc["168", ["flags", "children"]].tolist() == [9, 9]
    assert table.loc["202", ["flags", "children"]].tolist() == [0, 0]
    # a threshold of 1 publishes the 2 (and the rate), as the council set it
    text = validation_section(_summary(), None, threshold=1)
    assert "2 of 200 children in the return are flagged by at least one rule (1 per 100)" in text
