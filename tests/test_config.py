"""Tests of cpanalysis.config: the statistical-neighbour setting."""

from __future__ import annotations

import pytest

from cpanalysis.config import load_config
from cpanalysis.errors import InputError


def _config(tmp_path, text: str):
    (tmp_path / "cpanalysis.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path)


def test_statistical_neighbours_default_to_none(tmp_path):
    assert _config(tmp_path, "").statistical_neighbours == ()


def test_statistical_neighbours_as_councils_or_the_dfe_model_file(tmp_path):
    named = _config(tmp_path, '[analysis]\nstatistical_neighbours = ["878", 800, "Camden"]\n')
    assert named.statistical_neighbours == ("878", "800", "Camden")
    model = _config(tmp_path, '[analysis]\nstatistical_neighbours = "sn_may_2025.xlsx"\n')
    assert model.statistical_neighbours == ("sn_may_2025.xlsx",)


def test_statistical_neighbours_of_the_wrong_type_are_an_input_error(tmp_path):
    with pytest.raises(InputError, match="wrong type"):
        _config(tmp_path, "[analysis]\nstatistical_neighbours = [[1, 2]]\n")
