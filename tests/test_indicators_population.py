"""Population measures on a hand-built council; every expected value worked by hand."""

from __future__ import annotations

import pandas as pd

from cpanalysis.indicators.population import population_measures

COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"]


def frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    for column in out.columns:
        if column in ("DECOM", "DEC", "DOB", "DUC"):
            out[column] = pd.to_datetime(out[column])
    return out


EPISODES = frame(
    [
        # P1: in care since 2023, open at 31 March
        ("P1", "2023-06-01", "S", "C2", "U4", None, None),
        # P2: started in the year and ceased ON 31 March: not looked after at 31 March
        ("P2", "2024-06-01", "S", "V2", "U6", "2025-03-31", "E4A"),
        # P3: started ON 31 March: looked after at 31 March
        ("P3", "2025-03-31", "S", "V2", "U6", None, None),
        # P4: left and came back in the same year: one start and one cessation counted
        ("P4", "2024-05-01", "S", "C1", "U6", "2024-07-01", "E4A"),
        ("P4", "2024-09-01", "S", "C1", "U6", None, None),
        # P5: a short break only: left out of everything
        ("P5", "2024-06-01", "S", "V3", "U6", "2024-06-03", "E13"),
        # P6: adopted in the year
        ("P6", "2022-01-01", "S", "E1", "A6", "2024-10-01", "E12"),
        # P7: unaccompanied asylum-seeking child
        ("P7", "2024-11-01", "S", "V2", "K2", None, None),
    ],
    COLUMNS,
)
HEADER = frame(
    [
        ("P1", "2020-02-29", "F", 2025),  # 29 February birthday: 5 on 1 March 2025
        ("P2", "2015-01-01", "M", 2025),
        ("P3", "2025-01-01", "M", 2025),
        ("P4", "2010-06-01", "1", 2024),  # old sex code 1 = male
        ("P4", "2010-06-01", "M", 2025),
        ("P5", "2012-01-01", "F", 2025),
        ("P6", "2021-01-01", "F", 2025),
        ("P7", "2008-01-01", "M", 2025),
    ],
    ["CHILD", "DOB", "SEX", "YEAR"],
)
UASC = frame([("P7", None, 2025)], ["CHILD", "DUC", "YEAR"])


def measures(population: dict[int, int] | None = None) -> pd.DataFrame:
    return population_measures(
        EPISODES, HEADER, UASC, [2025], geography="Demo", population=population
    )


def value(frame: pd.DataFrame, measure: str, breakdown: str = "Total") -> float:
    row = frame.loc[(frame["measure"] == measure) & (frame["breakdown"] == breakdown)]
    assert len(row) == 1, (measure, breakdown)
    return float(row["value"].iloc[0])


def test_headline_counts_with_31_march_boundary_reentry_and_short_break():
    m = measures()
    assert value(m, "cla_31_march") == 4  # P1, P3, P4, P7 (not P2: ceased on 31 March)
    assert value(m, "started") == 4  # P2, P3, P4 (once), P7; not the short break
    assert value(m, "ceased") == 3  # P2, P4, P6
    assert value(m, "adopted") == 1
    assert value(m, "uasc_31_march") == 1


def test_ceased_by_reason_groups_and_total():
    m = measures()
    assert value(m, "ceased_by_reason", "Returned home to parents or relatives") == 2
    assert value(m, "ceased_by_reason", "Adopted") == 1
    assert value(m, "ceased_by_reason", "Total") == 3


def test_breakdowns_at_31_march_including_29_february_birthday():
    m = measures()
    assert value(m, "cla_by_age_group", "5 to 9 years") == 1  # P1, born 29 Feb 2020
    assert value(m, "cla_by_age_group", "Under 1 year") == 1
    assert value(m, "cla_by_age_group", "10 to 15 years") == 1
    assert value(m, "cla_by_age_group", "16 years and over") == 1
    assert value(m, "cla_by_sex", "Male") == 3
    assert value(m, "cla_by_sex", "Female") == 1
    assert value(m, "cla_by_legal_status", "Voluntary agreement under section 20") == 2
    assert value(m, "cla_by_legal_status", "Full care order") == 1
    assert value(m, "cla_by_legal_status", "Interim care order") == 1
    assert value(m, "cla_by_placement_type", "Foster placements") == 3
    assert value(m, "cla_by_placement_type", "Secure homes and children's homes") == 1
    assert value(m, "cla_by_placement_type", "Total") == 4


def test_rates_per_10000_only_with_a_population():
    without = measures()
    assert without.loc[without["measure"] == "cla_rate_per_10000", "symbol"].tolist() == ["x"]
    m = measures({2025: 20_000})
    assert value(m, "cla_rate_per_10000") == 2.0  # 4 / 20,000 x 10,000
    assert value(m, "started_rate_per_10000") == 2.0
    assert value(m, "ceased_rate_per_10000") == 1.5
    m = measures({2024: 20_000})
    row = m.loc[m["measure"] == "cla_rate_per_10000"]
    assert row["symbol"].tolist() == ["x"]


def test_measure_frame_contract_columns_and_types():
    m = measures()
    assert list(m.columns[:8]) == [
        "time_period",
        "geography",
        "measure",
        "breakdown",
        "numerator",
        "denominator",
        "value",
        "unit",
    ]
    assert str(m["numerator"].dtype) == "Int64"
    assert set(m["unit"]) == {"count", "rate_per_10000"}
    assert set(m["geography"]) == {"Demo"}
