"""Stage 8, the report of a run (rules in ``workflow/rules/report.smk``): reference data, class
profiles, figures, tables, the summary page and the explorer.

Reads every stage's outputs (test metrics, maps, formants, agreement, evidence, sanity and
causal tables, the verdict) and Hillenbrand et al.'s reference formants. Writes
``results/<run>/report/``: ``<experiment>/`` (figures and tables per experiment),
``formants.tsv``, ``verdict.tsv`` and ``tests.tsv``, ``index.html`` and ``summary.json`` (the
summary page and its figures), ``summary_page.html`` (the same page in one file, for
``snakemake --report``) and ``explorer/`` (a static page with its data files).

==============  ==============================================================================
module          what
==============  ==============================================================================
reference       Hillenbrand et al.'s women's means; measured means beside them; formant lines
profiles        each class's mean frequency profile of a method's maps
colours         one fixed colour per class, shared by the figures and the explorer
figures         the figures (confusion, history, profiles, examples, vowel chart, methods), each
                a PNG at print resolution with its SVG beside it
paper           the study's figure: class-mean spectrogram, map, spectrum and profile
tables          the agreement, comparison and headline tables, formatted by kind
render          the page's jinja2 templates (templates/), its figures and links to the explorer
headline        the answer on the first screen: sentences from the numbers, the compact verdict
page            the summary page (HTML) and its headline figures
standalone      the summary page in one file, its figures inlined (for ``snakemake --report``)
explorer        the explorer page (Bokeh): every test token, its spectrogram, maps, sound
explorer_plots  the explorer's figures, table and widgets
explorer_data   the explorer's data files: token tables, and arrays in chunks loaded on demand
explorer.js     the explorer's glue in the browser (fills Bokeh's models, loads the chunks)
==============  ==============================================================================
"""
