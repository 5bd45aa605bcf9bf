"""Render the site's project folder to HTML with Quarto or, where it is absent, smalldocs.

Quarto cannot be a pip dependency (its PyPI package downloads from GitHub at install time),
so the site is rendered by real Quarto where ``quarto`` is on PATH (conda users get it from
``environment.yml``) and by smalldocs, a pure-Python renderer of the same ``_quarto.yml``,
``.qmd`` pages and executed notebooks, everywhere else. The build says which was used.

Either way the result must open with no request to any other host (a council network, a
file share). Quarto adds jQuery and require.js from cdn.jsdelivr.net to every notebook page
whose outputs include HTML (its Jupyter "javascript widget" shims; hard-coded, no option
turns them off). Our pages need neither (the charts carry their own inlined vega bundle),
so :func:`strip_cdn_shims` removes those tags and the ``define('jquery', ...)`` line that
would fail without require.js; :func:`check_offline` then refuses any page that still loads
a script, stylesheet, font or image from another host.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cpanalysis.errors import BuildError

__all__ = [
    "RenderResult",
    "which_renderer",
    "renderer_label",
    "render_project",
    "strip_cdn_shims",
    "check_offline",
]

#: Warnings of smalldocs that are expected with our ``_quarto.yml`` (Quarto-only keys).
EXPECTED_WARNINGS = ("html-table-processing",)

_SHIM_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=\"https?://(?:cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)/"
    r"[^\"]*(?:require|jquery|html-manager)[^\"]*\"[^>]*>\s*</script>\s*",
    re.IGNORECASE,
)
_JQUERY_DEFINE = re.compile(
    r"<script type=\"application/javascript\">\s*define\('jquery',\s*\[\],\s*function\(\)\s*"
    r"\{\s*return window\.jQuery;\s*\}\)\s*</script>\s*"
)
#: Attributes that make the browser fetch something when the page opens.
_EXTERNAL = re.compile(
    r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(src|href)=[\"']"
    r"((?:https?:)?//[^\"']+)[\"']",
    re.IGNORECASE,
)
_CSS_EXTERNAL = re.compile(r"(@import\s+(?:url\()?|url\()\s*[\"']?(?:https?:)?//", re.IGNORECASE)


@dataclass
class RenderResult:
    """What rendering produced.

    Attributes
    ----------
    renderer : str
        ``"Quarto <version>"`` or ``"smalldocs <version>"``.
    site_dir : Path
        The rendered site (``<project>/_site``).
    pages : list of Path
        HTML pages, relative to ``site_dir``.
    warnings : list of str
        The renderer's warnings, less the expected ones.
    """

    renderer: str
    site_dir: Path
    pages: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def which_renderer() -> str:
    """``"quarto"`` when the ``quarto`` command is on PATH, else ``"smalldocs"``."""
    return "quarto" if shutil.which("quarto") else "smalldocs"


def renderer_label(renderer: str | None = None) -> str:
    """``"Quarto 1.8.26"`` or ``"smalldocs 0.5.4"``: the renderer and its version."""
    renderer = renderer or which_renderer()
    if renderer == "quarto":
        version = subprocess.run(
            ["quarto", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        return f"Quarto {version}"
    import smalldocs

    return f"smalldocs {smalldocs.__version__}"


def _render_quarto(project: Path) -> tuple[str, list[str]]:
    done = subprocess.run(
        ["quarto", "render", str(project), "--no-execute"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    if done.returncode != 0:
        last = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()][-1:]
        reason = " ".join(last) or f"exit {done.returncode}"
        raise BuildError(f"quarto render failed: {reason}")
    return renderer_label("quarto"), []


def _render_smalldocs(project: Path) -> tuple[str, list[str]]:
    from smalldocs.config import BuildError as SmalldocsBuildError
    from smalldocs.config import ConfigError
    from smalldocs.site import build

    try:
        site = build(project, quiet=True)
    except (ConfigError, SmalldocsBuildError) as exc:
        raise BuildError(f"smalldocs render failed: {exc}") from exc
    warnings = [w for w in site.warnings if not any(e in w for e in EXPECTED_WARNINGS)]
    return renderer_label("smalldocs"), warnings


def strip_cdn_shims(site_dir: Path) -> int:
    """Remove Quarto's CDN jQuery/require.js tags from every page; return how many pages changed."""
    changed = 0
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = _JQUERY_DEFINE.sub("", _SHIM_SCRIPT.sub("", text))
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def check_offline(site_dir: Path) -> None:
    """Refuse a site whose pages or stylesheets load anything from another host.

    Links the reader clicks (``<a href="https://...">``) are fine; what a browser fetches by
    itself when a page opens (scripts, stylesheets, fonts, images, frames) is not.

    Raises
    ------
    BuildError
        Naming the first page and the address it would fetch.
    """
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="ignore")
        for match in _EXTERNAL.finditer(text):
            tag, attr, url = match.groups()
            if tag.lower() == "link" and not re.search(
                r"rel=[\"'](?:stylesheet|preload|modulepreload|icon)", match.group(0), re.I
            ):
                continue
            raise BuildError(
                f"{page.relative_to(site_dir).as_posix()} would load {url} when opened "
                "(the site must work offline)"
            )
    for sheet in sorted(site_dir.rglob("*.css")):
        if _CSS_EXTERNAL.search(sheet.read_text(encoding="utf-8", errors="ignore")):
            raise BuildError(
                f"{sheet.relative_to(site_dir).as_posix()} imports a stylesheet or font from "
                "another host (the site must work offline)"
            )


def render_project(project: Path, renderer: str | None = None) -> RenderResult:
    """Render ``project`` (a folder with ``_quarto.yml``) into ``project/_site``.

    Parameters
    ----------
    project : Path
        The build's project folder: ``_quarto.yml``, pages, executed notebooks.
    renderer : str, optional
        ``"quarto"`` or ``"smalldocs"`` (default: :func:`which_renderer`).

    Raises
    ------
    BuildError
        If the renderer fails, or the result would make a request to another host.
    """
    renderer = renderer or which_renderer()
    if renderer == "quarto":
        name, warnings = _render_quarto(project)
    elif renderer == "smalldocs":
        name, warnings = _render_smalldocs(project)
    else:
        raise BuildError(f"unknown renderer {renderer!r}: use 'quarto' or 'smalldocs'")
    site_dir = project / "_site"
    if not site_dir.is_dir():
        raise BuildError(f"{name} wrote no site into {site_dir}")
    strip_cdn_shims(site_dir)
    check_offline(site_dir)
    pages = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*.html"))
    return RenderResult(renderer=name, site_dir=site_dir, pages=pages, warnings=warnings)
