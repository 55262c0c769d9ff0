"""zhibiao.eval: the evaluation harness (``zhibiao eval``).

Metrics: ``teds`` (TEDS / TEDS-S via apted), ``cells`` (aligned cell text accuracy), ``fields``
(typed per-field P/R/F1, indicator P/R/F1, exact records), ``spans`` (entity-level strict),
``speed`` (pipeline timings per page/table). ``gold`` loads gold, ``harness`` runs and scores,
``peers`` runs pdfplumber and RapidOCR+RapidTable on the same pages, ``report`` writes
json/markdown/html, ``gate`` compares with ``eval/baselines/dev.json``, ``cli`` is the command.
"""
