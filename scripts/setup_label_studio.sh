#!/usr/bin/env bash
# Create .venv-ls/ with the Label Studio server (its own venv: its pins clash with the project's).
# Idempotent and quiet: does nothing when .venv-ls/bin/label-studio already runs. ~70 s, ~1 GB.
#   LABEL_STUDIO_VERSION=1.23.2 bash scripts/setup_label_studio.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-ls}"
VERSION="${LABEL_STUDIO_VERSION:-1.23.2}"
NAME=setup_label_studio
source scripts/venv_lib.sh

if [ -x "$VENV/bin/label-studio" ] && "$VENV/bin/python" -c "import label_studio" >/dev/null 2>&1; then
    exit 0
fi
make_venv
install --upgrade pip
install "label-studio==$VERSION"
"$VENV/bin/python" -c "import label_studio" || { echo "setup_label_studio: label_studio does not import" >&2; exit 1; }
echo "setup_label_studio: $("$VENV/bin/python" -c 'import label_studio; print(label_studio.__version__)') in $VENV"
