"""The report of a run: reference data, class profiles, figures, tables and the summary page.

=============  ================================================================================
module         what
=============  ================================================================================
reference      Hillenbrand et al.'s women's means; measured means beside them; formant lines
profiles       each class's mean frequency profile of a method's maps
figures        the figures (confusion, history, profiles, examples, vowel chart, methods)
tables         the agreement, comparison and headline tables, formatted by kind
page           the summary page (HTML) and its headline figures
=============  ================================================================================
"""
