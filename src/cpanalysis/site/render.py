"""Render the site's project folder to HTML with Quarto or, where it is absent, smalldocs.

Quarto cannot be a pip dependency (its PyPI package downloads from GitHub at install time),
so the site is rendered by real Quarto where ``quarto`` is on PATH (conda users get it from
``environment.yml``) and by smalldocs, a pure-Python renderer of the same ``_quarto.yml``,
``.qmd`` pages and executed notebooks, everywhere else. The build says which was used.

Either way the result must open with no request to any other host (a council network, a
file share), and must work when opened as files (``file://``, no web server). After
rendering, with either renderer:

* :func:`strip_cdn_shims` removes the jQuery and require.js tags Quarto adds from
  cdn.jsdelivr.net to every notebook page whose outputs include HTML (its Jupyter
  "javascript widget" shims; hard-coded, no option turns them off; our pages need
  neither), and the ``define('jquery', ...)`` line that would fail without require.js;
* :func:`share_vega_bundle` moves the vega bundle each notebook page carries inline
  (~0.9 MB, the same on every page) into one classic script in ``site_libs/cpanalysis/``,
  so a page is its own text and charts, and the bundle is read once per visit;
* :func:`ship_search_index` ships the search index as a script as well: browsers refuse
  ``fetch("search.json")`` from ``file://`` (both renderers fetch it; Quarto's issue 3028
  was closed as not planned), so the script answers that one request from memory;
* :func:`classic_module_scripts` turns Quarto's ES-module scripts (1.6 and later load
  ``quarto.js``, which imports ``tabsets/tabsets.js``, as ``type="module"``, which Chromium
  blocks from ``file://``: Quarto issue 11904) into one deferred classic script;
* :func:`accessible_pages` adds what neither renderer writes: a skip link to the main
  content, a name for the site's navigation landmark, and a scrolling box (keyboard
  reachable, named by the table's caption) around each table, so a wide table scrolls
  sideways on a phone instead of having its right-hand columns cut off;
* :func:`check_offline` then refuses any page that still loads a script, stylesheet, font
  or image from another host.
"""

from __future__ import annotations

import hashlib
import html
import json
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
    "share_vega_bundle",
    "ship_search_index",
    "classic_module_scripts",
    "accessible_pages",
    "make_portable",
    "check_offline",
]

#: Where the build puts the files it shares between pages.
SHARED_LIBS = Path("site_libs") / "cpanalysis"

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


def _prefix(page: Path, site_dir: Path) -> str:
    """The relative path from ``page`` back to the site's root (``""`` or ``"../"``...)."""
    return "../" * (len(page.relative_to(site_dir).parts) - 1)


_BUNDLE = re.compile(r"<script data-cpa-bundle>\n(.*?)\n</script>", re.DOTALL)


def share_vega_bundle(site_dir: Path) -> list[Path]:
    """Move each page's inline vega bundle into one classic script under ``site_libs``.

    The notebooks carry the bundle inline (``<script data-cpa-bundle>``, see
    :mod:`cpanalysis.charts.offline`) so they draw offline on their own; on the site the
    same 0.9 MB would be in every analysis page. The script's text is written once, named
    by its hash (``site_libs/cpanalysis/vega-<hash>.js``), and each page loads it with a
    plain ``<script src>`` in the same place: classic scripts run in document order, so
    the charts after it find ``vegaEmbed`` exactly as before, from ``file://`` too.

    Returns
    -------
    list of Path
        The bundle files written (one, unless pages were made by different versions).
    """
    written: dict[str, Path] = {}
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "<script data-cpa-bundle>" not in text:
            continue

        def shared(match: re.Match[str], page: Path = page) -> str:
            code = match.group(1)
            digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]
            rel = SHARED_LIBS / f"vega-{digest}.js"
            if digest not in written:
                (site_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (site_dir / rel).write_text(code + "\n", encoding="utf-8")
                written[digest] = site_dir / rel
            return f'<script src="{_prefix(page, site_dir)}{rel.as_posix()}"></script>'

        page.write_text(_BUNDLE.sub(shared, text), encoding="utf-8")
    return sorted(written.values())


_SEARCH_SHIM = """\
/* The site's search index, shipped as a script: from file:// a browser refuses
   fetch("search.json"), so that one request is answered from this copy. */
(function () {
  "use strict";
  window.cpaSearchIndex = %s;
  if (window.location.protocol !== "file:" || typeof window.fetch !== "function") {
    return;
  }
  var fetchFromNetwork = window.fetch.bind(window);
  window.fetch = function (resource, options) {
    var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
    if (/(^|\\/)search\\.json([?#]|$)/.test(String(url))) {
      return Promise.resolve(new Response(JSON.stringify(window.cpaSearchIndex), {
        status: 200,
        headers: { "Content-Type": "application/json" }
      }));
    }
    return fetchFromNetwork(resource, options);
  };
})();
"""
#: Quarto's search gives up on file:// with an alert; with the index shipped it need not.
_QUARTO_FILE_GUARD = re.compile(r"""window\.location\.protocol\s*===\s*["']file:["']""")


def ship_search_index(site_dir: Path) -> Path | None:
    """Ship ``search.json`` as ``site_libs/cpanalysis/search-index.js`` and load it on every page.

    Both renderers' search boxes ``fetch("search.json")``, which browsers block from
    ``file://``. The script holds the same index and, on ``file://`` only, answers that
    request from memory; served over http nothing changes. Quarto's ``quarto-search.js``
    also refuses to search from ``file://`` (an alert); that test is switched off.

    Returns
    -------
    Path or None
        The script written, or None when the site has no search index.
    """
    index = site_dir / "search.json"
    if not index.is_file():
        return None
    entries = json.loads(index.read_text(encoding="utf-8"))
    rel = SHARED_LIBS / "search-index.js"
    target = site_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    # U+2028/2029 are valid in JSON but ended a line in older JavaScript engines
    payload = payload.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    target.write_text(_SEARCH_SHIM % payload, encoding="utf-8")
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        tag = f'<script src="{_prefix(page, site_dir)}{rel.as_posix()}"></script>'
        if tag in text or "</head>" not in text:
            continue
        page.write_text(text.replace("</head>", tag + "</head>", 1), encoding="utf-8")
    for script in sorted(site_dir.glob("site_libs/quarto-search/*.js")):
        code = script.read_text(encoding="utf-8")
        new = _QUARTO_FILE_GUARD.sub("false /* cpanalysis ships the index as a script */", code)
        if new != code:
            script.write_text(new, encoding="utf-8")
    return target


_MODULE_TAG = re.compile(
    r"<script\b(?P<before>[^>]*?)\bsrc=\"(?P<src>[^\"]+)\"(?P<after>[^>]*)>\s*</script>",
    re.IGNORECASE,
)
_IS_MODULE = re.compile(r"\s*\btype=[\"']module[\"']", re.IGNORECASE)
_IMPORT_ALL = re.compile(
    r"""^\s*import\s+\*\s+as\s+(\w+)\s+from\s+["'](\.{1,2}/[^"']+)["'];?[ \t]*$"""
)
_ANY_IMPORT = re.compile(r"""^\s*import\b(?!\s*\()""", re.MULTILINE)
_EXPORT_DECL = re.compile(
    r"^(\s*)export\s+((?:async\s+)?function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)",
    re.MULTILINE,
)
_EXPORT_LIST = re.compile(r"^\s*export\s*\{([^}]*)\}\s*;?[ \t]*$", re.MULTILINE)
_CLASSIC_MARK = "/* cpanalysis: ES module made a classic script for file:// */"


def _module_body(path: Path, seen: tuple[Path, ...] = ()) -> tuple[str, set[Path]]:
    """The module's code with its ``import * as x from "./y.js"`` lines inlined.

    Returns the code (still at the module's top level: wrap it in a function) and the
    module files it inlined. Only namespace imports of relative files are understood; any
    other import or export form raises, so a Quarto upgrade that changes them fails the
    build with a message instead of publishing a site whose scripts do not run.
    """
    if path in seen:
        raise BuildError(
            f"{path.name}: circular import of ES modules ({' -> '.join(p.name for p in seen)})"
        )
    if not path.is_file():
        raise BuildError(f"{path}: imported ES module not found")
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    inlined: set[Path] = set()
    for line in lines:
        found = _IMPORT_ALL.match(line)
        if not found:
            out.append(line)
            continue
        name, rel = found.groups()
        dep = (path.parent / rel).resolve()
        body, more = _module_body(dep, (*seen, path))
        names: dict[str, str] = {}
        for m in _EXPORT_DECL.finditer(body):
            names[m.group(3)] = m.group(3)
        for listed in _EXPORT_LIST.findall(body):
            for part in listed.split(","):
                if part.strip():
                    local, _, public = part.strip().partition(" as ")
                    names[(public or local).strip()] = local.strip()
        body = _EXPORT_LIST.sub("", _EXPORT_DECL.sub(r"\1\2 \3", body))
        if re.search(r"^\s*export\b", body, re.MULTILINE):
            raise BuildError(f"{dep.name}: an export form the file:// rewrite does not know")
        members = ", ".join(f"{public}: {local}" for public, local in names.items())
        out.append(f"const {name} = (function () {{\n{body}\nreturn {{ {members} }};\n}})();")
        inlined |= {dep, *more}
    code = "\n".join(out)
    if _ANY_IMPORT.search(code) or "import.meta" in code:
        raise BuildError(f"{path.name}: an import form the file:// rewrite does not know")
    return code, inlined


def classic_module_scripts(site_dir: Path) -> int:
    """Make the site's own ES-module scripts deferred classic scripts; return pages changed.

    Quarto 1.6+ writes ``<script src="site_libs/quarto-html/quarto.js" type="module">``
    (and the same for ``tabsets/tabsets.js``), and ``quarto.js`` begins
    ``import * as tabsets from "./tabsets/tabsets.js";``. Chromium refuses module scripts
    from ``file://``, so the table of contents and tabsets stayed inert. Each module a page
    loads is rewritten in place as one function (its imports inlined, so their top-level
    names stay private as in a module, in strict mode as modules are) and loaded with
    ``defer``, which runs it at the same moment a module would run; a module that another
    one on the page imports loses its own tag, as its code is now inside that one.
    smalldocs writes no modules, so its pages are left alone.
    """
    tagged: dict[Path, list[tuple[Path, str]]] = {}
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for match in _MODULE_TAG.finditer(text):
            attrs = match.group("before") + match.group("after")
            src = match.group("src")
            if _IS_MODULE.search(attrs) and not re.match(r"(?:[a-z]+:)?//", src, re.I):
                script = (page.parent / src.split("?")[0].split("#")[0]).resolve()
                tagged.setdefault(page, []).append((script, src))
    # every module is read before any is rewritten: one may be inlined into another
    converted: dict[Path, set[Path]] = {}
    classic: dict[Path, str] = {}
    for script in sorted({s for found in tagged.values() for s, _ in found}):
        if not script.is_file():
            raise BuildError(f"{script.name}: a page loads this ES module, but it is not there")
        if script.read_text(encoding="utf-8").startswith(_CLASSIC_MARK):
            converted[script] = set()
            continue
        body, converted[script] = _module_body(script)
        classic[script] = f'{_CLASSIC_MARK}\n(function () {{\n"use strict";\n{body}\n}})();\n'
    for script, code in classic.items():
        script.write_text(code, encoding="utf-8")
    changed = 0
    for page, found in tagged.items():
        on_page = {s for s, _ in found}
        inside_another = set().union(*(converted[s] for s in on_page))
        text = page.read_text(encoding="utf-8")

        def rewrite(
            match: re.Match[str], page: Path = page, inside_another: set[Path] = inside_another
        ) -> str:
            attrs = match.group("before") + match.group("after")
            src = match.group("src")
            if not _IS_MODULE.search(attrs) or re.match(r"(?:[a-z]+:)?//", src, re.I):
                return match.group(0)
            script = (page.parent / src.split("?")[0].split("#")[0]).resolve()
            if script in inside_another:
                return ""
            before = _IS_MODULE.sub("", match.group("before")).rstrip()
            after = _IS_MODULE.sub("", match.group("after"))
            return f'<script{before} src="{src}"{after} defer></script>'

        new = _MODULE_TAG.sub(rewrite, text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


SKIP_LINK = '<a class="cp-skip-link" href="#quarto-document-content">Skip to main content</a>'
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_NAVBAR = re.compile(r"<nav\b(?![^>]*\baria-label=)(?=[^>]*\bclass=\"navbar\b)", re.IGNORECASE)
_TABLE = re.compile(r"<table\b.*?</table>", re.IGNORECASE | re.DOTALL)
_CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption>", re.IGNORECASE | re.DOTALL)
_SCROLL_OPEN = '<div class="cp-scroll" role="region" tabindex="0" aria-label="{label}">'


def _table_label(table: str) -> str:
    found = _CAPTION.search(table)
    words = (
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else ""
    )
    return html.escape(f"Table: {words}" if words else "Table", quote=True)


def accessible_pages(site_dir: Path) -> int:
    """Add a skip link, a named navigation landmark and scrolling tables; return pages changed.

    * The skip link is the first thing in the body (shown when it has the keyboard focus)
      and jumps to the main content, past the navbar (WCAG 2.4.1).
    * The navbar's ``<nav>`` is named ("Site"), so a screen reader's landmark list tells it
      from the table of contents.
    * Each table goes in ``<div class="cp-scroll" role="region" tabindex="0">``: on a phone
      it scrolls sideways inside that box (WCAG 1.4.10 allows this for data tables), and
      the box can be scrolled from the keyboard and is named by the table's caption.
    """
    changed = 0
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = text
        if SKIP_LINK not in new and 'id="quarto-document-content"' in new:
            new = _BODY_OPEN.sub(lambda m: m.group(0) + SKIP_LINK, new, count=1)
        new = _NAVBAR.sub('<nav aria-label="Site"', new)

        def wrapped(match: re.Match[str], text: str = new) -> str:
            before = text[: match.start()]
            opened = before.rfind('<div class="cp-scroll"')
            if opened >= 0 and before.find(">", opened) == len(before) - 1:
                return match.group(0)  # already in its box (a second pass)
            opening = _SCROLL_OPEN.format(label=_table_label(match.group(0)))
            return f"{opening}{match.group(0)}</div>"

        new = _TABLE.sub(wrapped, new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def make_portable(site_dir: Path) -> None:
    """Every post-render fix, in order: a rendered site that works offline from ``file://``.

    Used on both renderers' output (each step leaves alone what it does not find).
    """
    strip_cdn_shims(site_dir)
    share_vega_bundle(site_dir)
    ship_search_index(site_dir)
    classic_module_scripts(site_dir)
    accessible_pages(site_dir)


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
    make_portable(site_dir)
    check_offline(site_dir)
    pages = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*.html"))
    return RenderResult(renderer=name, site_dir=site_dir, pages=pages, warnings=warnings)
