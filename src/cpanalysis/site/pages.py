"""Write the site's project folder: ``_quarto.yml``, the generated pages, notebooks, CSVs.

The pages that are not notebooks are generated per build from the build's own data, so they
can never disagree with it:

* ``index.qmd``: the corporate parenting scorecard (:mod:`cpanalysis.scorecard`);
* ``data_quality.qmd``: the cleaning report (rows read, kept and set aside per file, by
  rule) from ``quality_report.json``;
* ``about.qmd``: which returns, demo or real, council, years, and the run manifest;
* ``downloads.qmd``: every CSV behind the site;
* ``_banner.html``: the line on every page saying whether the data are synthetic or real.

Tables are raw HTML blocks (``{=html}``), which Quarto and smalldocs both pass through.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import yaml

from cpanalysis.escaping import front_matter, html_text, markdown_text, yaml_document
from cpanalysis.labels import measure_name, wording
from cpanalysis.narrative import compare_sentence
from cpanalysis.publish import figures_table, html_table, to_open_data_csv
from cpanalysis.schema import year_label
from cpanalysis.scorecard import (
    NOT_FROM_RETURN,
    PERCENT_MARGIN,
    RELATIVE_MARGIN,
    scorecard_summary,
)
from cpanalysis.site.sparkline import sparkline_svg

__all__ = [
    "NOTEBOOK_PAGES",
    "SiteContext",
    "copy_download",
    "banner_html",
    "scorecard_page",
    "health_and_support_page",
    "data_quality_page",
    "about_page",
    "downloads_page",
    "site_config",
    "write_project",
    "publishable_notebook",
]

#: The notebooks the navbar links to, in order.
NOTEBOOK_PAGES = (
    "overview.ipynb",
    "placement_stability.ipynb",
    "time_to_adoption.ipynb",
    "care_leavers_neet.ipynb",
    "sufficiency.ipynb",
)


@dataclass
class SiteContext:
    """What the generated pages say about this build.

    Attributes
    ----------
    council_name : str
        Shown in the title and the banner.
    is_demo : bool
        True when built on synthetic returns.
    years : list of int
        Collection years in the data.
    manifest : dict
        The run manifest (see :mod:`cpanalysis.site.manifest`), shown on "About the data".
    """

    council_name: str
    is_demo: bool
    years: list[int]
    manifest: dict[str, Any]

    @property
    def span(self) -> str:
        """``"2016-17 to 2025-26"``, or ``"no years"``."""
        if not self.years:
            return "no years"
        first, last = year_label(min(self.years)), year_label(max(self.years))
        return first if first == last else f"{first} to {last}"

    @property
    def data_sentence(self) -> str:
        """One sentence: demo or real data, whose, which years."""
        if self.is_demo:
            return (
                f"Built on synthetic demo data (made-up children, not real records) for "
                f"{self.council_name}, collection years {self.span}."
            )
        return f"Built on {self.council_name}'s SSDA903 returns, collection years {self.span}."


_NUM = ' class="cp-num"'


def _raw(block: str) -> str:
    return f"\n```{{=html}}\n{block}\n```\n"


def _front(title: str, **options: str) -> str:
    return front_matter(title, **options)


def banner_html(ctx: SiteContext) -> str:
    """The banner on every page: demo (amber) or real (green) data, council, years.

    A named region (a landmark), as it comes before the navbar: everything a screen reader
    user can jump to is then in a landmark.
    """
    kind = "cp-demo" if ctx.is_demo else "cp-real"
    label = "DEMO DATA" if ctx.is_demo else "REAL DATA"
    return (
        f'<div class="cp-data-banner {kind}" role="region" aria-label="Which data">'
        f"{label}: {html_text(ctx.data_sentence)}</div>\n"
    )


def _mark(rag: str) -> str:
    if not rag:
        return ""
    return f'<span class="cp-rag cp-rag-{rag}">{html_text(rag)}</span>'


def _thousands(text: str) -> str:
    """``"81770"`` -> ``"81,770"`` for reading on a page; symbols and decimals unchanged.

    The CSV downloads keep the DfE's bare numbers; only the page adds separators.
    """
    text = str(text)
    return f"{int(text):,}" if text.isdigit() else text


def _measure_cell(row: dict) -> str:
    """The measure's name, linked to its page, with the note (e.g. SGO quarters) under it."""
    name = html_text(row["indicator"])
    if row.get("page"):
        name = f'<a href="{html_text(row["page"])}">{name}</a>'
    if row.get("note"):
        name += f'<br><span class="cp-note">{html_text(row["note"])}</span>'
    return name


def _mark_cell(row: dict) -> str:
    """The mark as a word (it reads in greyscale and to a screen reader) and its yardstick."""
    if not row["rag"]:
        return ""
    against = row["yardstick"].replace("council target", "target")
    return f'{_mark(row["rag"])} <span class="cp-note">against {html_text(against)}</span>'


def scorecard_table(card: pd.DataFrame) -> str:
    """The scorecard as an accessible HTML table, one header row per priority.

    Needs the columns of :func:`cpanalysis.scorecard.build_scorecard`. Each row has its
    five-year trend as an inline SVG with the figures in words, a link to the measure's
    page, and a mark written as a word as well as a colour. The statistical neighbours'
    column appears only when the card has their figures.
    """
    year, last = card.attrs.get("year"), card.attrs.get("last_year")
    trend_years = list(card.attrs.get("trend_years") or [])
    neighbours = bool(card.attrs.get("has_neighbours"))
    heads = [
        "Measure",
        f"Last {len(trend_years)} years" if trend_years else "Trend",
        f"This year ({year_label(year)})" if year else "This year",
        f"Last year ({year_label(last)})" if last else "Last year",
        "Change on last year",
        "England",
        *(["Statistical neighbours"] if neighbours else []),
        "Mark",
    ]
    head = "".join(f'<th scope="col">{html_text(h)}</th>' for h in heads)
    body = []
    for priority, rows in card.groupby("priority", sort=False):
        body.append(
            f'<tr class="cp-priority"><th scope="rowgroup" colspan="{len(heads)}">'
            f"{html_text(str(priority))}</th></tr>"
        )
        for row in rows.fillna("").to_dict("records"):
            if row["source"] == NOT_FROM_RETURN:
                body.append(
                    f'<tr class="cp-outside"><th scope="row">{html_text(row["indicator"])}'
                    f'</th><td colspan="{len(heads) - 1}">{NOT_FROM_RETURN}</td></tr>'
                )
                continue
            shown = row["trend"].split("; ") if row["trend"] else []
            spark = sparkline_svg(row["indicator"], trend_years, shown) if shown else ""
            england = _thousands(row["england"])
            if england and row["england_year"]:
                england = f"{england} ({row['england_year']})"
            cells = [
                f'<td class="cp-trend">{spark}</td>',
                f"<td{_NUM}>{html_text(_thousands(row['this_year']))}</td>",
                f"<td{_NUM}>{html_text(_thousands(row['last_year']))}</td>",
                f"<td>{html_text(row['direction'])}</td>",
                f"<td>{html_text(england)}</td>",
            ]
            if neighbours:
                sn = _thousands(row["neighbours"])
                if sn and row["neighbours_year"]:
                    sn = f"{sn} ({row['neighbours_year']})"
                title = f' title="{html_text(row["neighbours_note"])}"' if sn else ""
                cells.append(f"<td{title}>{html_text(sn)}</td>")
            cells.append(f"<td>{_mark_cell(row)}</td>")
            body.append(f'<tr><th scope="row">{_measure_cell(row)}</th>{"".join(cells)}</tr>')
    # a scroll container of its own (Bootstrap's table-responsive), focusable and named, so
    # a phone scrolls the table sideways rather than cutting its last columns off
    return (
        '<div class="table-responsive cp-scorecard-wrap" role="region" tabindex="0" '
        'aria-label="Scorecard table (scrolls sideways on a small screen)">'
        '<table class="table table-sm cp-table cp-scorecard">'
        "<caption>Corporate parenting scorecard: the last five years, this year, last year, "
        f"England and mark</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def rag_rule_text() -> str:
    """The red/amber/green rule in words, as the committee reads it on the page."""
    margin_pct = f"{PERCENT_MARGIN:g} percentage points"
    margin_rel = f"{RELATIVE_MARGIN:.0%}"
    return (
        "Each mark compares this year's figure with a yardstick: the council's own target "
        "where it has set one, otherwise England's latest published figure. *Green*: at or "
        f"better than the yardstick. *Amber*: worse, but by no more than {margin_pct} for "
        f"a percentage, or {margin_rel} of the yardstick for days, rates and averages "
        "(on a yardstick of 500 days, up to 50 days more). *Red*: worse by more than that. "
        "There is no mark where there is no yardstick, where this year's figure is withheld, "
        "or where neither a higher nor a lower figure is better (such as the number of "
        "children looked after). Figures are compared as published, rounded to whole "
        "numbers (per-child averages to one decimal place): two figures that read the same "
        'are the same, and "better" or "worse" always matches what the reader sees.'
    )


def scorecard_page(card: pd.DataFrame, ctx: SiteContext) -> str:
    """``index.qmd``: the summary, the scorecard, how the marks are set, what symbols mean."""
    return (
        _front(f"{ctx.council_name}: corporate parenting scorecard", **{"page-layout": "full"})
        + f"\n**{scorecard_summary(card)}**\n\n"
        + "Each measure links to its page; how the marks are set is explained below the "
        "table.\n"
        + _raw(scorecard_table(card))
        + "\n[Download the scorecard (CSV)](downloads/scorecard.csv)\n\n"
        "## How the marks are set\n\n" + rag_rule_text() + "\n\n## Reading the table\n\n"
        "The measures of the corporate parenting strategy come first, priority by priority, "
        "then the DfE's headline measures. Measures the SSDA903 return does not hold are "
        f"listed as *{NOT_FROM_RETURN}*: their figures come from other records. England's "
        "figure is its latest published one up to this year (the year is shown); national "
        "counts are not shown beside the council's, which they cannot be compared with. "
        + (
            "The statistical neighbours' figure is the plain average of the published "
            "figures of the councils the DfE's model finds most like this one.\n\n"
            if card.attrs.get("has_neighbours")
            else "\n\n"
        )
        + "`c` = withheld to protect confidentiality (a count of children between 1 and "
        "the suppression threshold, or a figure from which one could be worked out); "
        "`x` = not available.\n\n"
        "**Looking ahead.** The [Sufficiency](sufficiency.html) page projects the children "
        "looked after by placement group and age band a year and three years ahead, with "
        "costs and a scenario, and says how such projections did against what happened.\n"
    )


#: The sections of "Health and support": measures of the committee's strategy that are not
#: on an analysis page, with what each figure counts and whether higher is better.
SUPPORT_SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str, bool | None], ...]], ...] = (
    (
        "Health",
        "Of the children looked after for at least 12 months at 31 March, the share whose "
        "health care was up to date (from the return's OC2 table). Development checks are "
        "for children under 5; Strengths and Difficulties Questionnaires for ages 5 to 16.",
        (
            ("health_assessment_pct", "of children looked after for 12 months or more had "
             "an up-to-date health assessment", True),
            ("health_check_pct", "of children under 5 looked after for 12 months or more "
             "had up-to-date development checks", True),
            ("immunisations_pct", "of children looked after for 12 months or more had "
             "up-to-date immunisations", True),
            ("teeth_check_pct", "of children looked after for 12 months or more had their "
             "teeth checked by a dentist", True),
            ("sdq_completed_pct", "of children aged 5 to 16 looked after for 12 months or "
             "more had a completed Strengths and Difficulties Questionnaire", True),
        ),
    ),
    (
        "Reviews and social workers",
        "Statutory reviews of each child's care plan, and how often children's social "
        "worker changed (recorded from the 2023-24 return).",
        (
            ("reviews_on_time_pct", "of children looked after had every review on time", True),
            ("sw_changes_per_child", "was the average number of social worker changes per "
             "child looked after at 31 March", False),
        ),
    ),
    (
        "Missing from care",
        "Children with at least one missing incident (whereabouts unknown) that began in "
        "the year. Fewer is better; a count is not compared with England's total.",
        (("missing_children", "children went missing from care during the year", None),),
    ),
    (
        "Special guardianship orders",
        "Special guardianship orders made to former foster carers or other carers, ending a "
        "child's time in care (by quarter on the scorecard).",
        (("sgo_granted", "special guardianship orders were made during the year", None),),
    ),
)  # fmt: skip

#: Measures shown on "Health and support", in page order.
SUPPORT_MEASURES = tuple(m for _, _, items in SUPPORT_SECTIONS for m, _, _ in items)


def health_and_support_page(
    measures: pd.DataFrame,
    comparators: pd.DataFrame | None,
    ctx: SiteContext,
    *,
    threshold: int = 5,
) -> str:
    """``health_and_support.qmd``: the strategy's measures that no analysis page shows.

    Health checks, dental checks, immunisations, SDQs, reviews, social-worker changes,
    children missing from care and SGOs: for each, a sentence with this year, last year and
    England where its figure is held, and at the foot the page's figures as one folded wide
    table. ``measures`` must be suppressed (it is refused otherwise).
    """
    council = measures.loc[measures["measure"].isin(SUPPORT_MEASURES)]
    england = comparators if comparators is not None else measures.iloc[0:0]
    parts = [
        _front("Health and support", subtitle="Health, reviews, missing from care and special "
               "guardianship"),
        f"\n{markdown_text(ctx.data_sentence)}\n",
    ]  # fmt: skip
    for heading, intro, items in SUPPORT_SECTIONS:
        parts.append(f"\n## {heading}\n\n{intro}\n")
        for measure, what, higher in items:
            if not council["measure"].eq(measure).any():
                continue
            parts.append(f"\n### {measure_name(measure)}\n\n")
            parts.append(
                compare_sentence(
                    council,
                    england,
                    measure,
                    what=what,
                    higher_is_better=higher,
                    threshold=threshold,
                    with_england=wording(measure).compare_england,
                )
                + "\n"
            )
    if len(council):
        table = figures_table(
            council,
            "health_and_support",
            caption="Health, reviews, missing from care and special guardianship by year",
            measures=SUPPORT_MEASURES,
        )
        parts.append("\n## The figures\n" + _raw(table.to_html()))
    return "".join(parts)


def _quality_tables(quality: dict[str, Any]) -> str:
    summary = pd.DataFrame(quality.get("summary", []))
    details = pd.DataFrame(quality.get("details", []))
    notes = pd.DataFrame(quality.get("notes", []))
    parts = []
    if not summary.empty:
        shown = summary.rename(
            columns={
                "source": "File",
                "table": "Table",
                "year": "Collection year",
                "rows_read": "Rows read",
                "rows_kept": "Rows kept",
                "rows_replaced": "Replaced by a later return",
                "rows_set_aside": "Rows set aside",
                "balanced": "Balanced",
            }
        )
        if "Collection year" in shown:
            shown["Collection year"] = shown["Collection year"].map(
                lambda y: year_label(int(y)) if pd.notna(y) else ""
            )
        if "Balanced" in shown:
            shown["Balanced"] = shown["Balanced"].map({True: "yes", False: "NO"})
        numeric = {"Rows read", "Rows kept", "Replaced by a later return", "Rows set aside"}
        caption = "Rows read, kept, replaced by a later return and set aside, by file"
        parts.append(_raw(html_table(shown, caption, numeric=numeric)))
    if not details.empty:
        by_rule = pd.DataFrame()
        if {"rule", "action", "count"} <= set(details.columns):
            # a count withheld ("c", quality_published) withholds its rule's total too
            counts = pd.to_numeric(details["count"], errors="coerce")
            totals = (
                details.assign(_n=counts, _withheld=counts.isna())
                .groupby(["rule", "action"], sort=True)
                .agg(n=("_n", "sum"), withheld=("_withheld", "any"))
                .reset_index()
            )
            totals["n"] = totals["n"].astype("int64").astype(str).where(~totals["withheld"], "c")
            by_rule = totals[["rule", "action", "n"]]
        if not by_rule.empty:
            by_rule.columns = ["Rule", "Action", "Rows or values"]
            caption = "Rows set aside and values changed, by rule"
            parts.append(_raw(html_table(by_rule, caption, numeric={"Rows or values"})))
        wanted = ["source", "table", "rule", "column", "action", "count", "reason"]
        keep = [c for c in wanted if c in details]
        shown = details[keep].rename(columns=str.capitalize)
        parts.append(
            _raw(html_table(shown, "Every finding, by file, rule and column", numeric={"Count"}))
        )
    if not notes.empty:
        shown = notes.rename(columns={"source": "File", "message": "Note"})
        parts.append(_raw(html_table(shown, "Notes on the files read")))
    return "".join(parts) or "\nThe cleaning report is empty.\n"


def data_quality_page(
    quality: dict[str, Any],
    ctx: SiteContext,
    validation: dict[str, Any] | None = None,
    threshold: int = 5,
) -> str:
    """``data_quality.qmd``: the cleaning report of this build, then the DfE's rules."""
    from cpanalysis.validation.page import validation_section

    balanced = quality.get("balanced")
    verdict = (
        "Every row read is accounted for, file by file: rows read = rows kept + rows replaced "
        "by a later return (each year's return repeats the episodes still open at 31 March; "
        "the latest version is kept, so nothing is lost) + rows set aside (could not be used; "
        "the rule says why)."
        if balanced
        else "**Some files do not balance (rows read is not rows kept plus rows replaced plus "
        "rows set aside): see "
        "the table below.**"
        if balanced is False
        else ""
    )
    return (
        _front("Data quality") + f"\n{markdown_text(ctx.data_sentence)}\n\n"
        "How the returns were read and cleaned. Each cleaning rule is named; a row is never "
        "dropped silently: it is either kept (possibly with values repaired) or set aside "
        "with the rule that set it aside. Row numbers are as a spreadsheet shows them. "
        f"Where any count of a file is 1 to {threshold} records, every count of that file "
        "shows `c` (its counts add up to one another, so one alone would not hide it), as "
        "small numbers of children are withheld in every published table.\n\n"
        f"{verdict}\n" + _quality_tables(quality) + "\n"
        "[Download the full report (CSV)](downloads/quality_report.csv)\n"
        + validation_section(
            validation,
            "downloads/validation_summary.csv" if validation and validation.get("years") else None,
            threshold=threshold,
        )
    )


def _manifest_rows(manifest: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for key in ("data_kind", "council_name", "council_code", "collection_years", "renderer",
                "started", "finished", "python"):  # fmt: skip
        if key in manifest:
            value = manifest[key]
            if key == "collection_years":
                value = ", ".join(year_label(int(y)) for y in value)
            rows.append({"Item": key.replace("_", " "), "Value": str(value)})
    for key, value in sorted(manifest.get("parameters", {}).items()):
        rows.append({"Item": f"parameter: {key}", "Value": json.dumps(value)})
    for key, value in sorted(manifest.get("packages", {}).items()):
        rows.append({"Item": f"package: {key}", "Value": str(value)})
    return pd.DataFrame(rows, columns=["Item", "Value"])


def about_page(ctx: SiteContext) -> str:
    """``about.qmd``: the data behind the site and the run manifest as tables."""
    manifest = ctx.manifest
    files = pd.DataFrame(manifest.get("input_files", []))
    if not files.empty:  # the file and its digest only: no size (a number of the build's own)
        files = files.reindex(columns=["path", "sha256"]).rename(
            columns={"path": "File", "sha256": "SHA-256"}
        )
    kind = (
        "**synthetic demo returns** generated by `cpanalysis demo` (no real child is in them)"
        if ctx.is_demo
        else f"**{markdown_text(ctx.council_name)}'s own SSDA903 returns** (from `data/raw/`)"
    )
    return (
        _front("About the data") + f"\n{markdown_text(ctx.data_sentence)}\n\n"
        f"This site was built from {kind}, collection years {ctx.span}. A collection year "
        "runs from 1 April to 31 March and is named by the year it ends (2024-25 = the return "
        "for 1 April 2024 to 31 March 2025).\n\n"
        "Before anything was analysed, child IDs were replaced by keyed pseudonyms, dates of "
        "birth cut to the month, postcodes cut to the sector, UPNs dropped and social-worker "
        "IDs replaced by pseudonyms. Counts of 1 to the suppression threshold are published as "
        "`c`. Before the site is published, every file of it is checked against the child "
        "IDs, UPNs, dates of birth and postcodes of the input returns; the build refuses to "
        "publish if any is found.\n\n"
        "## Input files\n"
        + (
            _raw(html_table(files, "Files read, with their SHA-256 checksums"))
            if not files.empty
            else "\nNone recorded.\n"
        )
        + "\n## Run manifest\n\nHow this site was built (also in `run_manifest.json` beside the "
        "site).\n" + _raw(html_table(_manifest_rows(manifest), "Run manifest"))
    )


def downloads_page(downloads: dict[str, str], ctx: SiteContext) -> str:
    """``downloads.qmd``: a link to every CSV in ``downloads/`` with what it holds."""
    items = "\n".join(
        f"- [{markdown_text(name)}](downloads/{quote(name)}): {markdown_text(text)}"
        for name, text in downloads.items()
    )
    return (
        _front("Downloads") + f"\n{markdown_text(ctx.data_sentence)}\n\n"
        "Every table on this site as CSV, in the shape of the DfE's open data (one row per "
        "year, area, measure and breakdown). Withheld figures are `c` (confidential), figures "
        "that do not apply `z`, figures not available `x`. Tables inside the analysis pages "
        "also have their own download link under each table.\n\n" + items + "\n"
    )


def site_config(template: Path, ctx: SiteContext, present: set[str]) -> dict[str, Any]:
    """The build's ``_quarto.yml``: the template with the council's title, less absent pages.

    Notebooks missing from the build (e.g. a project that has not written one yet) are taken
    out of ``project.render`` and the navbar, so no link is broken.
    """
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    config["project"]["render"] = [p for p in config["project"]["render"] if p in present]
    navbar = config["website"]["navbar"]
    navbar["left"] = [item for item in navbar["left"] if item.get("href") in present]
    for menu in navbar.get("right", []):
        if "menu" in menu:
            menu["menu"] = [item for item in menu["menu"] if item.get("href") in present]
    config["website"]["title"] = "Corporate parenting"  # short: the navbar has many links
    config["website"]["page-footer"] = {
        "center": markdown_text(
            f"{ctx.data_sentence} Children looked after (SSDA903) analysed with cpanalysis."
        )
    }
    return config


def write_project(
    project: Path,
    *,
    template: Path,
    ctx: SiteContext,
    scorecard: pd.DataFrame,
    quality: dict[str, Any],
    notebooks: list[Path],
    methodology: Path | None,
    downloads: dict[str, Path],
    validation: dict[str, Any] | None = None,
    measures: pd.DataFrame | None = None,
    comparators: pd.DataFrame | None = None,
    threshold: int = 5,
) -> list[str]:
    """Write the project folder the renderer reads; return the pages listed for rendering.

    Parameters
    ----------
    project : Path
        Folder to fill (created; must be empty or absent).
    template : Path
        The repository's ``_quarto.yml``.
    ctx : SiteContext
        Council, demo or real, years, manifest.
    scorecard : DataFrame
        From :func:`cpanalysis.scorecard.build_scorecard`.
    quality : dict
        Content of ``quality_report.json`` (``summary``, ``details``, ``notes``, ``balanced``).
    notebooks : list of Path
        Executed notebooks; copied in under their own names.
    methodology : Path or None
        The repository's ``methodology.qmd`` (a short placeholder page when absent).
    downloads : dict
        CSV name -> file to copy into ``downloads/`` (beside the scorecard's own CSV).
    validation : dict, optional
        ``validation_summary.json`` of the DfE's rules (:mod:`cpanalysis.validation`).
    measures, comparators : DataFrame, optional
        The council's suppressed measures and England's figures, for "Health and support"
        (the page is left out without them).
    threshold : int
        The suppression threshold, named where a figure is withheld.
    """
    project.mkdir(parents=True, exist_ok=True)
    (project / "downloads").mkdir(exist_ok=True)
    for nb in notebooks:
        publishable_notebook(nb, project / nb.name)
    if methodology is not None and methodology.is_file():
        shutil.copyfile(methodology, project / "methodology.qmd")
    else:
        (project / "methodology.qmd").write_text(
            _front("Methodology") + "\nThe methodology page is not in this build.\n",
            encoding="utf-8",
        )
    css = resources.files("cpanalysis.site_assets").joinpath("site.css").read_text("utf-8")
    (project / "site.css").write_text(css, encoding="utf-8")
    (project / "_banner.html").write_text(banner_html(ctx), encoding="utf-8")

    described = {"scorecard.csv": "the scorecard on the home page, as shown"}
    (project / "downloads" / "scorecard.csv").write_text(
        to_open_data_csv(scorecard.drop(columns=[], errors="ignore")), encoding="utf-8"
    )
    for name, path in sorted(downloads.items()):
        copy_download(path, project / "downloads" / name)
        described[name] = _describe(name)

    pages = {
        "index.qmd": scorecard_page(scorecard, ctx),
        "data_quality.qmd": data_quality_page(quality, ctx, validation, threshold=threshold),
        "about.qmd": about_page(ctx),
        "downloads.qmd": downloads_page(described, ctx),
    }
    if measures is not None and measures["measure"].isin(SUPPORT_MEASURES).any():
        pages["health_and_support.qmd"] = health_and_support_page(
            measures, comparators, ctx, threshold=threshold
        )
    for name, text in pages.items():
        (project / name).write_text(text, encoding="utf-8")
    present = set(pages) | {nb.name for nb in notebooks} | {"methodology.qmd"}
    config = site_config(template, ctx, present)
    (project / "_quarto.yml").write_text(yaml_document(config), encoding="utf-8")
    return list(config["project"]["render"])


#: Notebook metadata a renderer needs; everything else (papermill's parameters, paths and
#: timings, nbclient's execution times) is the run's own and is dropped before rendering.
_NOTEBOOK_METADATA = ("kernelspec", "language_info")
_CELL_METADATA = ("tags",)


def publishable_notebook(source: Path, dest: Path) -> Path:
    """Copy an executed notebook for rendering, without the run's own metadata.

    Quarto copies each cell's metadata into the page (``data-quarto-private-1="{...
    &quot;start_time&quot;: &quot;2026-12-01T21:42:48.932791+00:00&quot;...}"``): papermill's
    microseconds and durations are 6-digit numbers, the same shape as child IDs, and made the
    privacy gate refuse 2 builds in 5. They say nothing a reader needs, so only the keys in
    :data:`_NOTEBOOK_METADATA` and :data:`_CELL_METADATA` are kept, and cell ids become
    ``cell-<n>``; sources and outputs are untouched.
    """
    nb = json.loads(Path(source).read_text(encoding="utf-8"))
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in _NOTEBOOK_METADATA}
    for index, cell in enumerate(nb.get("cells", [])):
        if "id" in cell:  # random hex ids ("98395450") could read as a number: renumbered
            cell["id"] = f"cell-{index}"
        cell["metadata"] = {
            k: v for k, v in cell.get("metadata", {}).items() if k in _CELL_METADATA
        }
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def copy_download(source: Path, dest: Path) -> Path:
    """Copy a file into ``downloads/``; a CSV gets the UTF-8 byte-order mark if it lacks one.

    Every published CSV carries the mark so that Excel on Windows reads it as UTF-8 (a
    council name with an accent, "£"), whichever step wrote it: the build's own
    validation summary is written without one, so the copy adds it rather than every
    writer having to remember.
    """
    data = Path(source).read_bytes()
    if dest.suffix.lower() == ".csv" and not data.startswith(_BOM_BYTES):
        data = _BOM_BYTES + data
    Path(dest).write_bytes(data)
    return Path(dest)


_BOM_BYTES = "\ufeff".encode()


def _describe(name: str) -> str:
    if name == "quality_report.csv":
        return "the cleaning report: every rule, file and column, with counts"
    if name == "validation_summary.csv":
        return "the DfE's validation rules: flags and children flagged, by year and rule"
    if name.startswith("indicators_"):
        topic = name.removeprefix("indicators_").removesuffix(".csv").replace("_", " ")
        return f"indicators: {topic} (tidy, suppressed)"
    if name.startswith("england"):
        return "England's published figures used for comparison"
    return "table"
