"""The one way every value from settings or data is written into a page, front matter or YAML.

A council name, a code, a file name or a value quoted from a return is text, never markup:
a name like ``</script><script>alert(1)</script>`` must show as those characters, and a name
like ``Council of "Testshire"`` must not break (or add keys to) a page's YAML front matter.
Each output context has its own rule, and this module is the only place that writes them:

* :func:`html_text` -- text inside HTML (raw ``{=html}`` blocks, the banner, table cells,
  attribute values): ``& < > " '`` become entities.
* :func:`markdown_text` -- text inside Markdown that Quarto (pandoc) or smalldocs renders:
  every ASCII punctuation character that Markdown could read as markup is backslash-escaped
  (both read ``\\*`` as a literal ``*``), ``& < >`` become entities (so no raw HTML can
  start), and line breaks become spaces (so no heading, list or fence can start).
* :func:`front_matter` -- a page's YAML front matter, dumped by :mod:`yaml` from a mapping
  (so a value can never close its quotes and add a key); the text values (title) are
  :func:`markdown_text` first, because both renderers read a title as Markdown.
* :func:`yaml_document` -- a whole YAML file (the build's ``_quarto.yml``), dumped, never
  pasted together from strings.

Why not only ``html.escape``: pandoc and smalldocs read text in Markdown (and a front-matter
title) as Markdown, where ``[x](javascript:...)`` or ``*`` is markup without any ``<``.
"""

from __future__ import annotations

import html
import re
from typing import Any

import yaml

__all__ = ["html_text", "markdown_text", "unescape_markdown", "front_matter", "yaml_document"]

#: ASCII punctuation that Markdown may read as markup, backslash-escaped by markdown_text
#: (CommonMark and pandoc both treat a backslash before any ASCII punctuation as literal).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^$@=:\"'])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def html_text(value: object) -> str:
    """``value`` as text inside HTML: safe in element content and in quoted attributes.

    >>> html_text('<b title="x">')
    '&lt;b title=&quot;x&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def markdown_text(value: object) -> str:
    """``value`` as literal text inside Markdown (a paragraph, a heading, a link's text).

    >>> markdown_text('Council of "Testshire" <b>')
    'Council of \\\\"Testshire\\\\" &lt;b&gt;'
    >>> markdown_text("line one\\n# not a heading")
    'line one \\\\# not a heading'
    """
    text = " ".join(str(value).split())  # no line break: nothing can start a new block
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def unescape_markdown(text: str) -> str:
    """The text a reader sees from :func:`markdown_text` output (for tests and checks).

    >>> unescape_markdown(markdown_text('a "b" <c> & d.'))
    'a "b" <c> & d.'
    """
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))


def yaml_document(data: Any) -> str:
    """A YAML document for ``data`` (one scalar per value, quoted where YAML needs it)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


def front_matter(title: object, **options: str | int | bool) -> str:
    """A page's front matter: ``title`` as literal text, ``options`` as given (page settings).

    ``options`` are the page's own settings from code (``page-layout="full"``), never text
    from settings or data; the title is the only text and is escaped for Markdown.

    >>> print(front_matter('A "quoted"\\ninclude-before-body: x'), end="")
    ---
    title: 'A \\"quoted\\" include\\-before\\-body\\: x'
    ---
    """
    return f"---\n{yaml_document({'title': markdown_text(title), **options})}---\n"
