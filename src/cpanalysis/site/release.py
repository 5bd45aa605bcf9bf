"""Publish the new site and the new processed data together, or not at all.

A site and the processed data it was built from must never be seen mixed (a new site over
old data), and a kill must never leave no ``_site`` at all. Folders cannot be swapped in one
atomic step, so publishing is a two-phase swap with a journal:

1. **prepare**: each new folder is put beside its target (same file system, so every later
   step is a ``rename``), the committed placeholders (``README.md``, ``.gitkeep``) are
   copied in, and any left-over ``.previous`` folder is removed;
2. **commit**: the journal ``_build/publish.json`` is written (and synced), naming every
   (new, target, previous) triple. From this moment the publish *will* complete;
3. **swap**: for each target, ``target -> previous`` then ``new -> target``;
4. **finish**: the previous folders are deleted, then the journal.

Killed before step 2: nothing changed (the next build clears the scratch folders). Killed
after it: the next build, before doing anything else, reads the journal and rolls the swap
forward (:func:`recover`) -- each step can be told done or not from which folders exist, so
recovery can itself be killed and rerun. No state is ever left in which one folder is new
and the other old once a build has started again, and no ``.previous`` or ``.old-<pid>``
copy outlives the build that made it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from cpanalysis.errors import BuildError

__all__ = ["JOURNAL_NAME", "CARRIED_OVER", "previous_of", "publish", "recover"]

log = logging.getLogger(__name__)

#: The publish journal, inside ``_build``.
JOURNAL_NAME = "publish.json"
#: Files a target folder keeps across swaps (committed placeholders).
CARRIED_OVER = ("README.md", ".gitkeep")


def previous_of(target: Path) -> Path:
    """Where ``target`` is parked during a swap: ``.<name>.previous`` beside it."""
    return target.with_name(f".{target.name}.previous")


def _incoming_of(target: Path) -> Path:
    return target.with_name(f".{target.name}.incoming")


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_journal(path: Path, moves: list[dict[str, str]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"moves": moves}, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _sync_dir(path.parent)


def _prepare(new: Path, target: Path) -> Path:
    """Put ``new`` beside ``target`` (renamed there, or copied across file systems)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for name in CARRIED_OVER:
        if (target / name).is_file() and not (new / name).exists():
            shutil.copy2(target / name, new / name)
    _remove(previous_of(target))
    incoming = _incoming_of(target)
    _remove(incoming)
    try:
        os.rename(new, incoming)
    except OSError:  # another file system: copy beside the target, so the swap is renames
        shutil.copytree(new, incoming)
        shutil.rmtree(new, ignore_errors=True)
    return incoming


def _roll_forward(moves: list[dict[str, str]]) -> None:
    """Finish every swap of a committed journal; safe to run again after any kill."""
    for move in moves:
        new, target, previous = Path(move["new"]), Path(move["target"]), Path(move["previous"])
        if not new.exists():
            if not target.exists():
                raise BuildError(
                    f"publishing: {target} and its new copy are both missing; rebuild the site"
                )
            continue  # this swap was done
        if target.exists():
            if previous.exists():
                raise BuildError(
                    f"publishing: {target}, {previous} and {new} all exist; move one of them "
                    "away by hand (the journal cannot tell which is current)"
                )
            os.rename(target, previous)
        os.rename(new, target)
        _sync_dir(target.parent)
    for move in moves:
        _remove(Path(move["previous"]))


def publish(pairs: list[tuple[Path, Path]], build_dir: Path) -> None:
    """Replace each target by its new folder, all of them or (if killed) on the next start.

    Parameters
    ----------
    pairs : list of (Path, Path)
        ``(new folder, target folder)``, e.g. the staged site and ``_site``, the staged
        processed data and ``data/processed``.
    build_dir : Path
        The project's ``_build`` folder, where the journal lives.
    """
    journal = Path(build_dir) / JOURNAL_NAME
    moves = []
    for new, target in pairs:
        incoming = _prepare(Path(new), Path(target))
        moves.append(
            {"new": str(incoming), "target": str(target), "previous": str(previous_of(target))}
        )
    _write_journal(journal, moves)
    _roll_forward(moves)
    journal.unlink()
    _sync_dir(journal.parent)


def recover(build_dir: Path, targets: list[Path] = ()) -> bool:
    """Finish a publish that a killed build committed; True when there was one to finish.

    Without a journal, the scratch copies (``.<name>.incoming``) a publish killed before it
    committed left beside ``targets`` are removed (the targets were not touched then).
    """
    journal = Path(build_dir) / JOURNAL_NAME
    if not journal.is_file():
        for target in targets:
            _remove(_incoming_of(Path(target)))
        return False
    try:
        moves = json.loads(journal.read_text(encoding="utf-8"))["moves"]
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(
            f"publishing: the journal {journal} of an interrupted publish cannot be read "
            f"({type(exc).__name__}); check _site and data/processed by hand, then delete it"
        ) from exc
    log.warning("finishing the publish of a build that was interrupted (journal %s)", journal)
    _roll_forward(moves)
    journal.unlink()
    _sync_dir(journal.parent)
    return True
