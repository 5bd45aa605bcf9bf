"""Care histories from tiny hand-built episode tables; every expected value worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.errors import InputError
from cpanalysis.histories import (
    annotate_episodes,
    periods_of_care,
    placement_group,
    placement_moves,
    placements,
    window_start_of,
)

COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC", "REASON_PLACE_CHANGE"]


def episodes(rows: list[tuple]) -> pd.DataFrame:
    """Episodes in the processed types (dates, category codes) from compact tuples."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("DECOM", "DEC"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("RNE", "LS", "PLACE", "REC", "REASON_PLACE_CHANGE"):
        frame[column] = frame[column].astype("category")
    frame["CHILD"] = frame["CHILD"].astype("string")
    return frame


# Child A: legal-status change (L) and X1 continuations inside one placement, a move,
# then a temporary hospital stay (T1) and the return to the same foster placement.
CHILD_A = [
    ("A", "2024-01-10", "S", "C1", "U6", "2024-05-01", "X1", None),
    ("A", "2024-05-01", "L", "C2", "U6", "2024-08-01", "X1", "CARPL"),
    ("A", "2024-08-01", "P", "C2", "U4", "2024-10-01", "X1", None),
    ("A", "2024-10-01", "P", "C2", "T1", "2024-10-10", "X1", None),
    ("A", "2024-10-10", "P", "C2", "U4", None, None, None),
]
# Child B leaves care (returned home) and comes back in the same year, then moves.
CHILD_B = [
    ("B", "2024-05-01", "S", "V2", "U6", "2024-07-01", "E4A", None),
    ("B", "2024-09-01", "S", "V2", "U6", "2024-12-01", "X1", "CREQB"),
    ("B", "2024-12-01", "B", "C1", "K2", None, None, None),
]
# Child C: adopted by the foster carers (U4 -> A5 with the same carers, RNE T), then a
# later episode recorded without RNE = S after a gap: it must still open a new period.
CHILD_C = [
    ("C", "2022-05-01", "S", "C2", "U4", "2023-09-01", "X1", "CARPL"),
    ("C", "2023-09-01", "T", "E1", "A5", "2024-06-01", "E11", None),
    ("C", "2024-09-01", "P", "V2", "U6", None, None, None),
]
# Child D: short breaks only.
CHILD_D = [("D", "2024-06-01", "S", "V3", "U6", "2024-06-03", "E13", None)]


def test_periods_of_care_chain_x1_and_restart_on_s_gap_or_non_x1_end():
    periods = periods_of_care(episodes(CHILD_A + CHILD_B + CHILD_C + CHILD_D))
    assert periods["CHILD"].tolist() == ["A", "B", "B", "C", "C", "D"]
    assert periods["START"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-10",
        "2024-05-01",
        "2024-09-01",
        "2022-05-01",
        "2024-09-01",
        "2024-06-01",
    ]
    assert periods["END"].isna().tolist() == [True, False, True, False, True, False]
    assert periods["REASON_CEASED"].tolist()[1] == "E4A"
    assert periods["REASON_CEASED"].tolist()[3] == "E11"
    assert periods["EPISODES"].tolist() == [5, 1, 2, 2, 1, 1]
    assert periods["SHORT_BREAK"].tolist() == [False, False, False, False, False, True]


def test_new_period_after_non_x1_end_even_on_the_same_day_without_s():
    ep = episodes(
        [
            ("E", "2024-04-10", "S", "C2", "U6", "2024-06-01", "E4A", None),
            ("E", "2024-06-01", "P", "C2", "U6", None, None, None),
        ]
    )
    assert len(periods_of_care(ep)) == 2


def test_x1_continuation_and_legal_status_change_are_not_moves():
    pl = placements(episodes(CHILD_A))
    # episodes 1-2 (S then L) are one placement; 3, 4 (temporary) and 5 are placements
    assert len(pl) == 4
    assert pl["PLACE"].tolist() == ["U6", "U4", "T1", "U4"]
    assert pl["START"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-10",
        "2024-08-01",
        "2024-10-01",
        "2024-10-10",
    ]
    assert pl["REASON_ENDED"].tolist()[0] == "CARPL"


def test_temporary_placement_and_return_are_not_counted_placements():
    pl = placements(episodes(CHILD_A))
    assert pl["TEMPORARY"].tolist() == [False, False, True, False]
    assert pl["RETURN_FROM_TEMPORARY"].tolist() == [False, False, False, True]
    assert pl["COUNTED"].tolist() == [True, True, False, False]
    # the hospital stay and the return belong to the same stable placement as U4
    assert pl["STABLE_ID"].nunique() == 2
    assert pl["STABLE_ID"].tolist()[1:] == [pl["STABLE_ID"].tolist()[1]] * 3


def test_moves_with_reason_from_episode_before_and_types():
    moves = placement_moves(episodes(CHILD_A + CHILD_B))
    a = moves.loc[moves["CHILD"] == "A"]
    assert a["MOVE_DATE"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-08-01",
        "2024-10-01",
        "2024-10-10",
    ]
    assert a["REASON"].tolist()[0] == "CARPL"
    assert a["TEMPORARY"].tolist() == [False, True, True]
    assert a["COUNTED"].tolist() == [True, False, False]
    b = moves.loc[moves["CHILD"] == "B"]
    # leaving and re-entering care is not a move; only the move to the children's home is
    assert len(b) == 1
    assert b["REASON"].tolist() == ["CREQB"]
    assert b["FROM_GROUP"].tolist() == ["Foster placements"]
    assert b["TO_GROUP"].tolist() == ["Secure homes and children's homes"]
    assert b["SAME_CARER"].tolist() == [False]


def test_adoption_by_foster_carers_is_a_placement_but_the_same_carer_spell():
    ep = annotate_episodes(episodes(CHILD_C))
    first_period = ep.loc[ep["PERIOD_ID"] == ep["PERIOD_ID"].min()]
    assert first_period["PLACEMENT_ID"].nunique() == 2
    assert first_period["CARER_ID"].nunique() == 1
    assert first_period["CARER_START"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2022-05-01"]
    moves = placement_moves(episodes(CHILD_C))
    assert moves["SAME_CARER"].tolist() == [True]


def test_short_break_episodes_are_flagged():
    ep = annotate_episodes(episodes(CHILD_A + CHILD_D))
    assert ep.loc[ep["CHILD"] == "D", "SHORT_BREAK"].tolist() == [True]
    assert not ep.loc[ep["CHILD"] == "A", "SHORT_BREAK"].any()


def test_unsorted_input_and_several_councils_kept_apart():
    rows = episodes(CHILD_B)
    two = pd.concat([rows.assign(LA="111"), rows.assign(LA="222")]).iloc[::-1]
    periods = periods_of_care(two)
    assert periods.groupby("LA").size().tolist() == [2, 2]


def test_placement_groups():
    codes = pd.Series(["U1", "A5", "K2", "P1", "T3", "ZZ", None], dtype="string")
    assert placement_group(codes).tolist()[:6] == [
        "Foster placements",
        "Placed for adoption",
        "Secure homes and children's homes",
        "Placed with parents or other person with parental responsibility",
        "Other placements",
        "Other placements",
    ]
    assert pd.isna(placement_group(codes).tolist()[6])


def test_missing_column_is_a_clear_input_error():
    with pytest.raises(InputError, match="REC"):
        annotate_episodes(episodes(CHILD_A).drop(columns=["REC"]))


# Left truncation: the data window starts on 1 April 2016 (first return 2016-17).
WINDOW = pd.Timestamp("2016-04-01")
TRUNCATION = [
    # K1: first episode we hold began before the window and is not a start: unknown
    ("K1", "2015-06-01", "P", "C2", "U4", "2016-09-01", "X1", "CARPL"),
    ("K1", "2016-09-01", "P", "C2", "U6", None, None, None),
    # K2: began before the window, but RNE S says the child entered care then: known
    ("K2", "2015-06-01", "S", "C2", "U4", None, None, None),
    # K3: first episode after the window's start without RNE S: known (a recording slip)
    ("K3", "2016-05-01", "P", "C2", "U4", None, None, None),
    # K4: first episode began on the window's first day: known
    ("K4", "2016-04-01", "L", "C2", "U4", None, None, None),
    # K5: a truncated period that ended, then a new period started in the window: the
    # second period is known
    ("K5", "2014-01-01", "L", "C2", "U4", "2016-06-01", "E4A", None),
    ("K5", "2017-01-01", "S", "V2", "U6", None, None, None),
]


def test_period_start_known_unless_truncated_by_the_data_window():
    periods = periods_of_care(annotate_episodes(episodes(TRUNCATION), window_start=WINDOW))
    assert periods["CHILD"].tolist() == ["K1", "K2", "K3", "K4", "K5", "K5"]
    assert periods["START_KNOWN"].tolist() == [False, True, True, True, False, True]
    # START stays the first date we hold (an upper bound on entering care)
    assert periods["START"].dt.strftime("%Y-%m-%d").tolist()[0] == "2015-06-01"


def test_start_known_on_every_episode_of_the_period():
    ep = annotate_episodes(episodes(TRUNCATION), window_start=WINDOW)
    k1 = ep.loc[ep["CHILD"] == "K1", "PERIOD_START_KNOWN"].tolist()
    assert k1 == [False, False]  # both episodes belong to the truncated period


def test_window_start_derived_from_the_earliest_collection_year_of_the_episodes():
    # YEAR 2017 is the 2016-17 return: the window opens on 1 April 2016, as above
    years = [2017, 2017, 2017, 2017, 2017, 2017, 2018]
    with_year = episodes(TRUNCATION).assign(YEAR=years)
    assert window_start_of(with_year) == WINDOW
    assert window_start_of(None, [2019, 2017]) == WINDOW
    assert window_start_of(episodes(TRUNCATION)) is None
    periods = periods_of_care(with_year)
    assert periods["START_KNOWN"].tolist() == [False, True, True, True, False, True]
    # without YEAR nor a window start, the window is not known: every start counts as known
    assert periods_of_care(episodes(TRUNCATION))["START_KNOWN"].all()
