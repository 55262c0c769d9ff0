"""``python -m zhibiao.eval --gold DIR --pred DIR`` / ``--run CORPUS``: the ``zhibiao eval`` command alone."""

from zhibiao.eval.cli import main

raise SystemExit(main())
