"""The published site: scorecard, pages, downloads, rendering, privacy gate, atomic swap.

``cpanalysis build`` calls :func:`cpanalysis.site.build.build_site`, which runs the whole
refresh (clean -> indicators -> notebooks -> pages -> render -> privacy gate) in a scratch
folder and swaps the result into ``_site/`` only when every step succeeded.

Modules: :mod:`~cpanalysis.site.build` (the steps and the swap), :mod:`~cpanalysis.site.pages`
(generated pages and ``_quarto.yml``), :mod:`~cpanalysis.site.render` (Quarto or smalldocs,
offline check), :mod:`~cpanalysis.site.privacy_gate`, :mod:`~cpanalysis.site.manifest`.
"""
