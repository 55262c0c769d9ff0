# Shared by the scripts/setup_*.sh that build a side venv: sourced, not run.
#   VENV=.venv-x NAME=setup_x; source scripts/venv_lib.sh; make_venv; install pkg==1.0
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

make_venv() {  # the venv, when it is not there yet
    test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
}

install() {  # pip's output goes to a log that is shown only when it fails
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" >"$LOG" 2>&1 || {
        cat "$LOG" >&2
        echo "$NAME: pip install $* failed" >&2
        exit 1
    }
}
