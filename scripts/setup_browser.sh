#!/usr/bin/env bash
# What the report's browser tests need: Debian's chromium (apt) and Playwright's Python package in
# .venv (it drives the system chromium; no browser download). Idempotent and quiet: does nothing
# when both are there. First run on a bare machine: ~80 MB download, about a minute.
#   bash scripts/setup_browser.sh            # chromium + playwright
#   WITH_CJK_FONTS=1 bash scripts/setup_browser.sh   # + fonts-noto-cjk (for README screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
PLAYWRIGHT="${PLAYWRIGHT_SPEC:-playwright>=1.50,<2}"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

fail() { cat "$LOG" >&2; echo "setup_browser: $*" >&2; exit 1; }

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
if [ "${WITH_CJK_FONTS:-0}" = 1 ] && ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    packages+=(fonts-noto-cjk)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    { $SUDO apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
        >"$LOG" 2>&1 || fail "apt-get install ${packages[*]} failed"
fi
/usr/bin/chromium --version >"$LOG" 2>&1 || fail "/usr/bin/chromium does not run"

if ! "$PYTHON" -c "import playwright.sync_api" >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "$PLAYWRIGHT" >"$LOG" 2>&1 \
        || fail "pip install $PLAYWRIGHT failed"
fi
"$PYTHON" -c "import playwright.sync_api" || fail "playwright does not import"
