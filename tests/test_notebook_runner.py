"""Tests of cpanalysis.notebook_runner: parameters, fail-fast checks, clear failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

from cpanalysis.config import Config
from cpanalysis.errors import BuildError
from cpanalysis.notebook_runner import (
    check_notebook,
    notebook_parameters,
    open_data_code,
    run_notebooks,
    start_kernels,
)
from cpanalysis.warm_kernel import KernelPool, WarmKernel

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


def _config(root: Path) -> Config:
    return Config(
        root=root,
        council_name="Testshire",
        council_code="123",
        suppression_threshold=7,
        forecast_horizon=2,
    )


def _write(path: Path, cells: list, tag_parameters: int | None = 1) -> Path:
    nb = new_notebook(cells=cells)
    if tag_parameters is not None:
        nb.cells[tag_parameters].metadata["tags"] = ["parameters"]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_parameters_come_from_config_and_processed_dir_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = notebook_parameters(_config(tmp_path), Path("data/processed"))
    assert params == {
        "processed_dir": str(tmp_path.resolve() / "data" / "processed"),
        "council_name": "Testshire",
        "council_code": "123",
        "collection_years": None,
        "suppression_threshold": 7,
        "forecast_horizon": 2,
        "benchmark_source": "built-in",
        "compare_with": [],
        "population": None,  # no manifest, no [population] in the config: rates are x
    }


def test_population_is_the_demo_councils_for_synthetic_data(tmp_path):
    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / "clean_manifest.json").write_text(
        '{"is_demo": true, "collection_years": [2025, 2026]}'
    )
    params = notebook_parameters(_config(tmp_path), processed)
    assert params["population"] == {2025: 75_500, 2026: 75_500}


def test_overrides_win():
    params = notebook_parameters(_config(Path("/x")), "/x/p", {"collection_years": [2024]})
    assert params["collection_years"] == [2024]


def test_a_notebook_without_parameters_cell_is_refused(tmp_path):
    path = _write(tmp_path / "nb.ipynb", [new_raw_cell("---\n---"), new_code_cell("x=1")], None)
    with pytest.raises(BuildError, match=r"nb.ipynb has 0 cells tagged 'parameters'"):
        check_notebook(path)


def test_two_parameters_cells_are_refused(tmp_path):
    path = _write(tmp_path / "nb.ipynb", [new_code_cell("a=1"), new_code_cell("b=1")], 0)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)
    with pytest.raises(BuildError, match="has 2 cells tagged 'parameters'"):
        check_notebook(path)


def test_parameters_reach_the_kernel_and_output_lands_in_out_dir(tmp_path):
    nbs = tmp_path / "notebooks"
    _write(
        nbs / "echo.ipynb",
        [
            new_raw_cell('---\ntitle: "Echo"\n---'),
            new_code_cell('processed_dir = "nowhere"\ncouncil_code = None'),
            new_code_cell("import os\nprint(council_code, os.path.basename(os.getcwd()))"),
        ],
    )
    out = tmp_path / "_build" / "notebooks"
    executed = run_notebooks(nbs, out, tmp_path / "processed", _config(tmp_path))
    assert executed == [out / "echo.ipynb"]
    nb = nbformat.read(executed[0], as_version=4)
    # the raw front matter stays first; papermill's cell comes right after `parameters`
    assert nb.cells[0].cell_type == "raw"
    assert "injected-parameters" in nb.cells[2].metadata["tags"]
    # council code from the config; the kernel ran in the notebooks folder
    assert nb.cells[3].outputs[0]["text"] == "123 notebooks\n"


def test_a_failing_notebook_names_the_cell_and_leaves_nothing_half_written(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(FIXTURES / "broken" / "broken.ipynb", nbs)
    out = tmp_path / "_build" / "notebooks"
    with pytest.raises(BuildError) as info:
        run_notebooks(nbs, out, tmp_path / "processed", _config(tmp_path))
    assert info.value.one_line() == (
        "notebook broken.ipynb failed at cell 4 "
        "(\"raise ValueError('planted failure')\"): ValueError: planted failure"
    )
    assert not (out / "broken.ipynb").exists()
    kept = nbformat.read(tmp_path / "_build" / "failed_notebooks" / "broken.ipynb", 4)
    assert kept.metadata.papermill.exception is True


def test_fixture_notebook_reads_processed_data(tmp_path):
    """The site's stand-in notebooks read Contract 1 tables and publish a table."""
    proc = tmp_path / "processed"
    proc.mkdir()
    pd.DataFrame({"YEAR": [2024, 2025, 2025]}).to_parquet(proc / "episodes.parquet")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(FIXTURES / "site" / "overview.ipynb", nbs)
    (executed,) = run_notebooks(nbs, tmp_path / "out", proc, _config(tmp_path))
    html = nbformat.read(executed, 4).cells[-1].outputs[0]["data"]["text/html"]
    # 2024: one episode, 2025: two, for the council named in the config
    # the measure by its name (an id the wording does not know reads as words)
    assert "<td>2023-24</td><td>Testshire</td><td>Episodes</td><td>Total</td>" in html
    assert '<td class="cp-num">2</td>' in html


def test_notebooks_share_a_warm_kernel_but_each_starts_from_a_clean_slate(tmp_path):
    # one worker: both notebooks run in the same kernel process, one after the other
    nbs = tmp_path / "notebooks"
    cells = [
        new_raw_cell('---\ntitle: "Slate"\n---'),
        new_code_cell('processed_dir = "nowhere"'),
        new_code_cell("import os\nprint(os.getpid(), 'left_behind' in dir())"),
        new_code_cell("left_behind = 1\nfrom cpanalysis.charts.offline import chart_html"),
        new_code_cell(
            "import altair as alt\nprint('cpa-chart-1' in chart_html(alt.Chart().mark_point()))"
        ),
    ]
    _write(nbs / "a.ipynb", cells)
    _write(nbs / "b.ipynb", cells)
    executed = run_notebooks(nbs, tmp_path / "out", tmp_path / "processed", _config(tmp_path), 1)
    first, second = (nbformat.read(p, as_version=4) for p in executed)
    pid_a, seen_a = first.cells[3].outputs[0]["text"].split()
    pid_b, seen_b = second.cells[3].outputs[0]["text"].split()
    assert pid_a == pid_b  # the same kernel ran both
    assert (seen_a, seen_b) == ("False", "False")  # the second saw nothing of the first
    # execution counts and chart ids start again, as in a fresh kernel
    for nb in (first, second):
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == [1, 2, 3, 4, 5]  # parameters, papermill's injected cell, 3 cells
        assert nb.cells[-1].outputs[0]["text"] == "True\n"


def test_a_failure_in_one_notebook_leaves_the_next_one_in_the_same_kernel_unharmed(tmp_path):
    nbs = tmp_path / "notebooks"
    _write(
        nbs / "a_fails.ipynb",
        [new_raw_cell("---\n---"), new_code_cell("x = 1"), new_code_cell("1 / 0")],
    )
    _write(
        nbs / "b_runs.ipynb",
        [new_raw_cell("---\n---"), new_code_cell("x = 2"), new_code_cell("print(x)")],
    )
    out = tmp_path / "out"
    with pytest.raises(BuildError, match=r"a_fails.ipynb failed at cell 2 .*ZeroDivisionError"):
        run_notebooks(nbs, out, tmp_path / "processed", _config(tmp_path), 1)
    ran = nbformat.read(out / "b_runs.ipynb", as_version=4)
    assert ran.cells[-1].outputs[0]["text"] == "2\n"
    assert not (out / "a_fails.ipynb").exists()


def _slate_notebooks(nbs: Path) -> list:
    cells = [
        new_raw_cell('---\ntitle: "Pool"\n---'),
        new_code_cell('processed_dir = "nowhere"'),
        new_code_cell(
            "import os, sys\n"
            "print(os.getpid(), 'statsmodels.tsa.arima.model' in sys.modules,"
            " 'warmed' in dir(), sorted(k for k in dir() if not k.startswith('_')))"
        ),
    ]
    for name in ("a", "b", "c"):
        _write(nbs / f"{name}.ipynb", cells)
    return cells


def test_kernels_started_early_run_the_notebooks_as_fresh_ones_would(tmp_path):
    nbs = tmp_path / "notebooks"
    _slate_notebooks(nbs)
    with start_kernels(nbs, 2) as pool:
        # queued behind the warm-up; it names something, which no notebook may see
        pool.prepare("warmed = True")
        executed = run_notebooks(
            nbs, tmp_path / "out", tmp_path / "processed", _config(tmp_path), kernels=pool
        )
        pids = {k.km.provisioner.pid for k in pool.kernels() if isinstance(k, WarmKernel)}
    plain = run_notebooks(nbs, tmp_path / "plain", tmp_path / "processed", _config(tmp_path))
    lines = [nbformat.read(p, as_version=4).cells[3].outputs[0]["text"] for p in executed]
    fresh_lines = [nbformat.read(p, as_version=4).cells[3].outputs[0]["text"] for p in plain]
    assert {line.split(" ", 1)[0] for line in lines} <= {str(pid) for pid in pids}
    assert len(pids) == 2  # the pool's two kernels ran them
    for line, fresh_line in zip(lines, fresh_lines, strict=True):
        imported, warmed, names = line.rstrip("\n").split(" ", 3)[1:]
        # the warm-up imported the models; the prepared name was wiped by the clean slate
        assert (imported, warmed) == ("True", "False")
        assert names == fresh_line.rstrip("\n").split(" ", 3)[3]  # the same namespace
    assert fresh_lines[0].split(" ", 3)[1:3] == ["False", "False"]  # unpooled: not imported
    fresh = nbformat.read(plain[0], as_version=4)
    pooled = nbformat.read(executed[0], as_version=4)
    counts = [[c.get("execution_count") for c in nb.cells] for nb in (pooled, fresh)]
    assert counts[0] == counts[1]


def test_a_kernel_that_cannot_start_fails_each_notebook_in_one_line(tmp_path):
    nbs = tmp_path / "notebooks"
    _slate_notebooks(nbs)
    with KernelPool(1, "no-such-kernel", nbs) as pool:
        with pytest.raises(BuildError) as info:
            run_notebooks(
                nbs, tmp_path / "out", tmp_path / "processed", _config(tmp_path), kernels=pool
            )
    assert info.value.one_line().startswith("notebook a.ipynb failed: NoSuchKernel: ")
    assert "\n" not in info.value.one_line()


def test_closing_the_pool_stops_a_warm_up_it_no_longer_needs_quietly(tmp_path, capfd):
    # a build that fails at its first step must not wait for the kernels' imports
    import time

    pool = KernelPool(1, "python3", tmp_path, warm_up="import time\ntime.sleep(600)")
    pool.__enter__()
    deadline = time.monotonic() + 120
    while not isinstance(pool._slots[0], WarmKernel) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until the kernel is up and the sleep has begun
    kernel = pool._slots[0]
    assert isinstance(kernel, WarmKernel)
    time.sleep(1)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 60  # not the 600 s of the warm-up
    assert kernel.km is None  # shut down
    # stopped, not interrupted: no traceback of the warm-up on the build's own stderr
    assert "KeyboardInterrupt" not in capfd.readouterr().err


def test_open_data_code_passes_the_notebooks_parameters(tmp_path):
    params = notebook_parameters(_config(tmp_path), tmp_path / "processed")
    code = open_data_code(params)
    assert code.startswith(
        "__import__('cpanalysis.analysis', fromlist=['open_analysis']).open_analysis("
        f"{str(tmp_path.resolve() / 'processed')!r}, **"
    )
    kwargs = eval(code.split(", **", 1)[1][:-1])  # a plain literal of the parameters
    assert kwargs == {k: v for k, v in params.items() if k != "processed_dir"}


def test_the_longest_notebook_last_time_runs_first_and_times_are_kept(tmp_path):
    nbs = tmp_path / "notebooks"
    log = tmp_path / "order.txt"
    for name in ("a", "b", "c"):
        _write(
            nbs / f"{name}.ipynb",
            [
                new_raw_cell("---\n---"),
                new_code_cell('processed_dir = "nowhere"'),
                new_code_cell(f"with open({str(log)!r}, 'a') as f:\n    f.write('{name}')"),
            ],
        )
    seconds = {"a.ipynb": 1.0, "c.ipynb": 9.0}  # b unknown: first, then c, then a
    executed = run_notebooks(
        nbs, tmp_path / "out", tmp_path / "processed", _config(tmp_path), 1, seconds=seconds
    )
    assert log.read_text() == "bca"
    assert [p.name for p in executed] == ["a.ipynb", "b.ipynb", "c.ipynb"]  # source order
    assert set(seconds) == {"a.ipynb", "b.ipynb", "c.ipynb"}
    assert all(t > 0 for t in seconds.values()) and seconds["c.ipynb"] != 9.0  # this run's
