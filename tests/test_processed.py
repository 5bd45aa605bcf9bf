"""load_processed: the processed folder read back per Contract 1."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cpanalysis.errors import InputError
from cpanalysis.processed import (
    TABLES,
    ProcessedData,
    empty_table,
    load_processed,
    processed_columns,
)


def test_missing_folder_tells_the_user_what_to_run(tmp_path) -> None:
    with pytest.raises(InputError, match="cpanalysis clean") as info:
        load_processed(tmp_path / "nowhere")
    assert "make site" in str(info.value)


def test_folder_without_manifest_is_not_processed_data(tmp_path) -> None:
    (tmp_path / "episodes.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="clean_manifest.json"):
        load_processed(tmp_path)


def test_contract_columns() -> None:
    episodes = processed_columns("episodes")
    assert list(episodes)[:2] == ["CHILD", "DECOM"]
    assert list(episodes)[-4:] == ["YEAR", "LA", "PL_DISTANCE", "REPAIR"]
    assert episodes["DECOM"] == "datetime64[ns]"
    assert episodes["PLACE"] == "category"
    header = processed_columns("header")
    assert "UPN" not in header
    assert header["MOTHER"] == "Int64"
    assert "SW_ID" in processed_columns("sw_episodes")
    assert "DOLO_START" in processed_columns("dolo")


def test_empty_table_is_typed() -> None:
    frame = empty_table("reviews")
    assert frame.empty
    assert list(frame.columns) == ["CHILD", "DOB", "REVIEW", "REVIEW_CODE", "YEAR", "LA"]
    assert str(frame["REVIEW"].dtype) == "datetime64[ns]"


def test_load_reads_tables_manifest_and_quality(tmp_path) -> None:
    episodes = pd.DataFrame(
        {
            "CHILD": pd.Series(["C0123456789ab"], dtype="string"),
            "DECOM": pd.to_datetime(["2024-05-01"]),
            "YEAR": [2025],
            "LA": pd.Series(["999"], dtype="string"),
        }
    )
    episodes.to_parquet(tmp_path / "episodes.parquet", index=False)
    manifest = {
        "council": {"name": "Testshire", "code": "123"},
        "is_demo": True,
        "collection_years": [2025, 2024],
        "rows": {"episodes": 1},
    }
    (tmp_path / "clean_manifest.json").write_text(json.dumps(manifest))
    quality = {"summary": [{"source": "a.csv", "table": "episodes", "rows_read": 2}]}
    (tmp_path / "quality_report.json").write_text(json.dumps(quality))

    data = load_processed(tmp_path)
    assert isinstance(data, ProcessedData)
    assert data.episodes["CHILD"].tolist() == ["C0123456789ab"]
    assert data.years == [2024, 2025]
    assert (data.la_code, data.council_name, data.is_demo) == ("123", "Testshire", True)
    assert data.quality_summary["rows_read"].tolist() == [2]
    # absent tables are empty frames with their columns
    assert data.oc3.empty and "ACTIV" in data.oc3.columns
    assert set(data.tables()) == set(TABLES)
