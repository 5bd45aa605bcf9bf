"""The stock-and-flow forecast: hand-built histories whose rates and answers are known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cpanalysis import stock_flow as sf
from cpanalysis.errors import InputError

IN_HOUSE, AGENCY = 0, 1


def _episodes(rows: list[tuple]) -> pd.DataFrame:
    """Episodes from (child, decom, dec, place, provider) rows; legal status C2."""
    frame = pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "PLACE", "PLACE_PROVIDER"])
    frame["DECOM"] = pd.to_datetime(frame["DECOM"])
    frame["DEC"] = pd.to_datetime(frame["DEC"])
    frame["LS"] = "C2"
    frame["RNE"] = "S"
    frame["REC"] = np.where(frame["DEC"].notna(), "E4A", None)
    return frame


def _header(children, dob="2015-01-01") -> pd.DataFrame:
    return pd.DataFrame({"CHILD": list(children), "DOB": pd.Timestamp(dob)})


def steady_history(months: int = 48, per_month: int = 10, stay: int = 2):
    """``per_month`` children enter on the 15th of every month and leave ``stay`` months on.

    Every child is 5 to 9 years old in in-house foster care (U4, PR1). With ``stay=2``
    each child is looked after at two month ends: at every month end 20 children are
    looked after (10 new, 10 in their second month), and 10 of the 20 leave before the
    next: an entry rate of 10 a month and a leaving rate of 1/2 a month at every time in
    care, whose steady state is entries / leaving = 20.
    """
    rows = []
    start = pd.Timestamp("2020-01-15")
    for m in range(months):
        decom = start + pd.DateOffset(months=m)
        dec = decom + pd.DateOffset(months=stay)
        for i in range(per_month):
            rows.append((f"c{m}-{i}", decom, dec, "U4", "PR1"))
    episodes = _episodes(rows)
    return episodes, _header(episodes["CHILD"])


def test_placement_groups_from_code_and_provider():
    place = pd.Series(["U4", "U6", "U1", "K2", "K3", "A5", "P1", "U5", None])
    provider = pd.Series(["PR1", "PR4", "PR1", "PR4", "PR4", "PR1", "PR0", "PR5", None])
    groups = [sf.GROUPS[i] for i in sf.sufficiency_group(place, provider)]
    assert groups == [
        "Fostering: in-house",
        "Fostering: agency",
        "Kinship fostering",
        "Residential",
        "Semi-independent",
        "Placed for adoption",
        "Other",
        "Fostering: agency",
        "Other",
    ]


def test_month_end_states_follow_the_31_march_rule_and_skip_temporary_placements():
    # child a: in-house from 10 Jan, a temporary T3 from 20 Feb to 5 Mar, back, leaves on
    # 31 March (not looked after at the end of 31 March); child b: agency, still open
    episodes = _episodes(
        [
            ("a", "2024-01-10", "2024-02-20", "U4", "PR1"),
            ("a", "2024-02-20", "2024-03-05", "T3", None),
            ("a", "2024-03-05", "2024-03-31", "U4", "PR1"),
            ("b", "2024-02-29", None, "U6", "PR4"),
        ]
    )
    panel = sf.monthly_states(episodes, _header(["a", "b"]), "2024-01-01", "2024-04-30")
    jan = (2024 - 1970) * 12
    got = {(r.child, r.month - jan): r.group for r in panel.itertuples()}
    # a (code 0): Jan, Feb (on the temporary placement: counted in-house), not March
    # b (code 1): from the end of February (started on the last day) to April
    assert got == {
        (0, 0): IN_HOUSE,
        (0, 1): IN_HOUSE,
        (1, 1): AGENCY,
        (1, 2): AGENCY,
        (1, 3): AGENCY,
    }
    # born 1 January 2015: 9 years and 0 months at the end of January 2024
    assert panel.loc[panel["child"] == 0, "months_old"].tolist() == [108, 109]


def test_known_constant_rates_are_recovered_and_project_to_their_steady_state():
    episodes, header = steady_history()
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11  # December 2023
    rates = sf.estimate_rates(panel, origin, window_months=24)
    assert rates.entries == pytest.approx(10.0)
    band_5_to_9 = 2
    # the same 1/2 in every time-in-care band (those not seen borrow the band's rate)
    assert rates.leave[band_5_to_9, :, IN_HOUSE] == pytest.approx([0.5] * 6)
    stock = sf.stock_at(panel, origin)
    assert stock.sum() == 20  # two cohorts of 10
    # from half the steady state: 10 * 0.5 + 10 = 15 after one month, 17.5, ... to 20
    path = sf.project(stock / 2, rates, 60)
    assert path[1].sum() == pytest.approx(15.0)
    assert path[2].sum() == pytest.approx(17.5)
    assert path[60].sum() == pytest.approx(20.0, abs=1e-9)
    # and from the steady state itself it stays there
    assert sf.project(stock, rates, 36)[36].sum() == pytest.approx(20.0, abs=1e-9)


def test_children_turning_18_leave_at_their_birthday():
    # three 17-year-olds who never leave otherwise: one turns 18 after 2 months, one after
    # 5, one after 11: a year on, none is left
    rows = [(c, "2020-01-15", None, "K2", "PR4") for c in ("x", "y", "z")]
    episodes = _episodes(rows)
    header = pd.DataFrame(
        {
            "CHILD": ["x", "y", "z"],
            "DOB": pd.to_datetime(["2004-03-01", "2004-06-01", "2004-12-01"]),
        }
    )
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2021-12-31")
    origin = (2021 - 1970) * 12 + 11
    # the recorded history ends when they turn 18 (the panel keeps ages 0-17 only)
    stock = np.zeros((sf.N_MONTHS_OF_AGE, sf.MAX_MONTHS_IN + 1, len(sf.GROUPS)))
    stock[[214, 211, 205], sf.MAX_MONTHS_IN, 3] = 1  # 2, 5 and 11 months before turning 18
    rates = sf.estimate_rates(panel, origin, window_months=12)
    zero = sf.Rates(
        entries=0.0,
        entry_share=rates.entry_share,
        leave=np.zeros_like(rates.leave),
        move=np.broadcast_to(np.eye(len(sf.GROUPS)), rates.move.shape).copy(),
        window_months=12,
        origin=origin,
        entry_months=12,
        entry_count=0,
    )
    totals = sf.project(stock, zero, 12).sum(axis=(1, 2, 3))
    assert totals[[0, 1, 2, 5, 11, 12]].tolist() == [3, 3, 2, 1, 0, 0]


def test_scenarios_more_entries_raise_the_stock_and_the_agency_shift_moves_it():
    episodes, header = steady_history()
    # a second stream of agency placements so the shift has something to move
    agency = _episodes(
        [
            (f"g{m}", pd.Timestamp("2020-01-15") + pd.DateOffset(months=m), None, "U6", "PR4")
            for m in range(48)
        ]
    )
    episodes = pd.concat([episodes, agency], ignore_index=True)
    header = _header(episodes["CHILD"])
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11
    rates = sf.estimate_rates(panel, origin, window_months=24)
    stock = sf.stock_at(panel, origin)
    base = sf.project(stock, rates, 12)[12]
    more = rates.scaled(entry_factor=1.1)
    assert more.entries == pytest.approx(rates.entries * 1.1)
    assert sf.project(stock, more, 12)[12].sum() > base.sum()
    shifted_path = sf.project(stock, rates.scaled(agency_to_in_house=0.5), 12)
    # a month on the same children have arrived, half of the agency ones placed in-house
    # (later on the totals differ: in-house children here leave, agency ones never do)
    first = sf.project(stock, rates, 1)[1]
    assert shifted_path[1].sum() == pytest.approx(first.sum())
    month_one = sf.group_totals(shifted_path[1])
    assert month_one[AGENCY] == pytest.approx(sf.group_totals(first)[AGENCY] - 0.5)
    shifted, base = sf.group_totals(shifted_path[12]), sf.group_totals(base)
    assert shifted[AGENCY] < base[AGENCY]
    assert shifted[IN_HOUSE] > base[IN_HOUSE]


def test_intervals_widen_with_the_horizon():
    # 10 entries a month, nobody has left yet: the stock grows by about 10 a month, and
    # the number of entries to come (and their rate) is ever less certain further ahead
    episodes, header = steady_history(stay=60)
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11
    rates = sf.estimate_rates(panel, origin, window_months=24)
    sims = sf.simulate(sf.stock_at(panel, origin), rates, 36, n_sims=400, seed=1)
    totals = sims.sum(axis=(2, 3))
    width = np.percentile(totals, 97.5, axis=0) - np.percentile(totals, 2.5, axis=0)
    assert width[0] == 0  # the origin's stock is known
    assert width[1] < width[12] < width[36]
    # and the simulations centre on the projection: 480 now, 10 more a month
    assert totals[:, 36].mean() == pytest.approx(480 + 360, rel=0.02)
    expected = sf.project(sf.stock_at(panel, origin), rates, 36)[36].sum()
    assert expected == pytest.approx(840)


def test_simulated_steady_state_centres_on_entries_over_leaving():
    episodes, header = steady_history()
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11
    rates = sf.estimate_rates(panel, origin, window_months=24)
    sims = sf.simulate(sf.stock_at(panel, origin), rates, 24, n_sims=400, seed=2)
    assert sims.sum(axis=(2, 3))[:, 24].mean() == pytest.approx(20, rel=0.05)


def test_truncated_episodes_know_nothing_after_the_origin():
    episodes = _episodes(
        [
            ("a", "2024-01-10", "2024-06-01", "U4", "PR1"),
            ("b", "2024-04-01", None, "U4", "PR1"),
            ("c", "2024-05-02", "2024-05-20", "U4", "PR1"),
        ]
    )
    cut = sf.truncate_episodes(episodes, pd.Timestamp("2024-04-30"))
    assert cut["CHILD"].tolist() == ["a", "b"]
    assert cut["DEC"].isna().all() and cut["REC"].isna().all()


def test_backtest_uses_only_data_before_each_origin():
    episodes, header = steady_history(months=60)
    kwargs = dict(horizon=12, window_months=12, origin_step=6, min_history=24, with_ets=False)
    before = sf.backtest_stock_flow(episodes, header, "2020-01-01", "2024-12-31", **kwargs)
    # a surge of 200 entries after 30 June 2023 changes what happened after that date
    # only: every forecast made at an origin on or before it must stay exactly the same
    surge = _episodes([(f"s{i}", "2023-07-10", None, "K2", "PR4") for i in range(200)])
    changed = pd.concat([episodes, surge], ignore_index=True)
    after = sf.backtest_stock_flow(
        changed, _header(changed["CHILD"]), "2020-01-01", "2024-12-31", **kwargs
    )
    cols = ["origin", "series", "stock_flow", "naive"]
    early = before.errors["origin"] <= "2023-06-30"
    assert early.sum() > 0 and (~early).sum() > 0
    pd.testing.assert_frame_equal(
        before.errors.loc[early, cols].reset_index(drop=True),
        after.errors.loc[after.errors["origin"] <= "2023-06-30", cols].reset_index(drop=True),
    )
    # ... while the actual values those forecasts are judged against did change
    total = (before.errors["series"] == "Total") & (before.errors["target"] > "2023-07-31")
    assert (after.errors.loc[total, "actual"] - before.errors.loc[total, "actual"]).eq(200).all()
    # and later origins did see the surge
    late = (after.errors["origin"] > "2023-07-31") & (after.errors["series"] == "Residential")
    assert (after.errors.loc[late, "naive"] == 200).all()


def test_backtest_on_a_steady_history_is_exact_and_says_who_won():
    episodes, header = steady_history(months=60)
    # origins from 2022 on: every window then lies in the steady part of the history (in
    # 2020's first month only the first 10 children are in care, which would tilt the
    # pooled leaving rate of the under-3-months band)
    bt = sf.backtest_stock_flow(
        episodes,
        header,
        "2020-01-01",
        "2024-12-31",
        window_months=12,
        min_history=24,
        with_ets=False,
    )
    total = bt.total()
    assert total["mae_stock_flow"] == pytest.approx(0.0, abs=1e-9)
    assert total["mae_naive"] == 0.0
    assert set(bt.summary["series"]) == {"Total", *sf.GROUPS}


def test_too_short_a_history_is_a_clear_error():
    episodes, header = steady_history(months=12)
    with pytest.raises(InputError, match="back-test 12 months ahead needs more than"):
        sf.backtest_stock_flow(episodes, header, "2020-01-01", "2020-12-31", with_ets=False)


def test_time_in_care_is_only_a_lower_bound_for_children_in_care_before_the_data():
    # a: in care before the data begin, on a placement-change episode (the period began
    # earlier: unknown); b: a period that began just before the data (RNE S: known)
    episodes = _episodes(
        [
            ("a", "2023-11-10", None, "U4", "PR1"),
            ("b", "2023-12-10", None, "U4", "PR1"),
        ]
    )
    episodes.loc[0, "RNE"] = "P"
    panel = sf.monthly_states(episodes, _header(["a", "b"]), "2024-01-01", "2024-02-29")
    rows = panel.sort_values(["child", "month"])
    assert rows["months_in"].tolist() == [2, 3, 1, 2]
    assert rows["known_in"].tolist() == [False, False, True, True]


def test_the_back_test_cut_of_the_panel_is_the_panel_of_the_cut_episodes():
    # what backtest_stock_flow relies on: states up to an origin built from all episodes
    # equal those built from the episodes as they stood at the origin
    episodes = _episodes(
        [
            ("a", "2023-11-10", "2024-02-20", "U4", "PR1"),
            ("a", "2024-02-20", "2024-03-05", "T3", None),
            ("a", "2024-03-05", "2024-07-31", "K2", "PR4"),
            ("b", "2024-02-29", "2024-05-02", "U6", "PR4"),
            ("b", "2024-05-02", None, "U3", "PR1"),
            ("c", "2024-04-30", "2024-04-30", "U4", "PR1"),
            ("d", "2024-06-01", None, "A6", "PR1"),
        ]
    )
    episodes.loc[0, "RNE"] = "P"
    header = _header(["a", "b", "c", "d"])
    full = sf.monthly_states(episodes, header, "2024-01-01", "2024-12-31")
    for origin in pd.date_range("2024-01-31", "2024-12-31", freq="ME"):
        cut = sf.monthly_states(
            sf.truncate_episodes(episodes, origin), header, "2024-01-01", origin
        )
        month = sf.month_number(pd.DatetimeIndex([origin]))[0]
        sliced = full.loc[full["month"] <= month]
        key = ["child", "month"]
        # child codes follow first appearance, the same in both
        pd.testing.assert_frame_equal(
            cut.sort_values(key).reset_index(drop=True),
            sliced.sort_values(key).reset_index(drop=True),
        )


def test_uncertain_rates_widen_the_interval_around_the_same_centre():
    # the steady state of 20 (10 entries a month, half leave each month): simulated with
    # the rates taken as exact, and with each future drawing its own rates from the few
    # child-months behind them (here a short window: 12 months, 120 entries)
    episodes, header = steady_history()
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11
    rates = sf.estimate_rates(panel, origin, window_months=12)
    assert rates.entry_count == 120  # at the 12 month ends of 2023
    band_5_to_9 = 2
    # behind the leaving rate of the under-3-months band: 20 children at each of the 12
    # month ends from December 2022 to November 2023 (each followed by one), +24 pseudo
    assert rates.leave_n[band_5_to_9, 0, IN_HOUSE] == pytest.approx(240 + sf.SHRINK_MONTHS)
    # no counts behind the rates (as when built by hand): taken as exact
    exact = dataclasses.replace(rates, leave_n=None, move_n=None, entry_mix_n=0.0, entry_count=0)
    stock = sf.stock_at(panel, origin)

    def spread(r: sf.Rates) -> tuple[float, float]:
        totals = sf.simulate(stock, r, 24, n_sims=2000, seed=4).sum(axis=(2, 3))[:, 24]
        return totals.mean(), totals.std()

    mean_exact, sd_exact = spread(exact)
    mean_drawn, sd_drawn = spread(rates)
    assert mean_exact == pytest.approx(20, rel=0.03)
    assert mean_drawn == pytest.approx(20, rel=0.03)
    # chance alone: the stock of a Poisson stream is Poisson, sd about sqrt(20) = 4.5;
    # the entry rate's Gamma (sd 10 / sqrt(120), ~1 in 11) and the leaving rate's Beta add
    # about 2 in quadrature
    assert sd_exact == pytest.approx(np.sqrt(20), rel=0.1)
    assert sd_drawn > sd_exact * 1.05


def test_backtest_intervals_say_how_often_they_held():
    episodes, header = steady_history(months=60)
    bt = sf.backtest_stock_flow(
        episodes,
        header,
        "2020-01-01",
        "2024-12-31",
        window_months=12,
        min_history=24,
        origin_step=6,
        with_ets=False,
        n_sims=200,
    )
    total = bt.total()
    # every origin's forecast is exact (20), and the interval around it holds 20
    assert (bt.errors["lower"] <= bt.errors["actual"]).all()
    assert (bt.errors["actual"] <= bt.errors["upper"]).all()
    assert total["held"] == total["n_origins"] == 4
    assert total["coverage"] == 1.0
    # a group no child is ever in: an interval of exactly 0, which holds the 0
    residential = bt.summary.set_index("series").loc["Residential"]
    assert residential["held"] == 4


def test_simulated_futures_keep_the_entry_mix_across_ages_and_groups():
    # 10 children a month aged 5 into in-house fostering and 2 aged 16 into supported
    # accommodation (K3), each staying two month ends: steady states of 20 and 4. Each
    # future draws its own entry mix, one share of all (age, group) cells together: the
    # simulated means stay on 20 and 4 (a mix normalised within each year of age would
    # send as many 16-year-olds as 5-year-olds: 12 and 12)
    rows, dobs = [], {}
    start = pd.Timestamp("2020-01-15")
    for m in range(48):
        decom = start + pd.DateOffset(months=m)
        dec = decom + pd.DateOffset(months=2)
        for i in range(10):
            rows.append((f"y{m}-{i}", decom, dec, "U4", "PR1"))
            dobs[f"y{m}-{i}"] = decom - pd.DateOffset(years=5, months=6)
        for i in range(2):
            rows.append((f"o{m}-{i}", decom, dec, "K3", "PR4"))
            dobs[f"o{m}-{i}"] = decom - pd.DateOffset(years=16, months=3)
    episodes = _episodes(rows)
    header = pd.DataFrame({"CHILD": list(dobs), "DOB": list(dobs.values())})
    panel = sf.monthly_states(episodes, header, "2020-01-01", "2023-12-31")
    origin = (2023 - 1970) * 12 + 11
    rates = sf.estimate_rates(panel, origin, window_months=24)
    stock = sf.stock_at(panel, origin)
    semi = sf.GROUPS.index("Semi-independent")
    expected = sf.group_totals(sf.project(stock, rates, 24)[24])
    assert expected[[IN_HOUSE, semi]] == pytest.approx([20, 4], abs=0.01)
    sims = sf.simulate(stock, rates, 24, n_sims=1000, seed=6)[:, 24].sum(axis=1)
    assert sims[:, IN_HOUSE].mean() == pytest.approx(20, rel=0.05)
    assert sims[:, semi].mean() == pytest.approx(4, rel=0.1)
