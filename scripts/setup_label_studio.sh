#!/usr/bin/env bash
# Create .venv-ls/ with the Label Studio server (its own venv: its pins clash with the project's).
# Idempotent and quiet: does nothing when .venv-ls/bin/label-studio already runs. ~70 s, ~1 GB.
#   LABEL_STUDIO_VERSION=1.23.2 bash scripts/setup_label_studio.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-ls}"
VERSION="${LABEL_STUDIO_VERSION:-1.23.2}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ -x "$VENV/bin/label-studio" ] && "$VENV/bin/python" -c "import label_studio" >/dev/null 2>&1; then
    exit 0
fi
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
install() {  # pip's output goes to a log that is shown only when it fails
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" >"$LOG" 2>&1 || {
        cat "$LOG" >&2
        echo "setup_label_studio: pip install $* failed" >&2
        exit 1
    }
}
"$PYTHON" -m venv "$VENV"
install --upgrade pip
install "label-studio==$VERSION"
"$VENV/bin/python" -c "import label_studio" || { echo "setup_label_studio: label_studio does not import" >&2; exit 1; }
echo "setup_label_studio: $("$VENV/bin/python" -c 'import label_studio; print(label_studio.__version__)') in $VENV"
