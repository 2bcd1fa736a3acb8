#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv, installs the project, then runs what you ask.
#   ./dev.sh serve        web app + API + model endpoint on http://127.0.0.1:3000
#   ./dev.sh test [ARGS]  the test suite (pytest ARGS), both layers; ./dev.sh test tests/unit for one
#   ./dev.sh ARGS         any sentiment-app command, e.g. ./dev.sh pipeline --data ../shared/data
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/sentiment-app ] || [ pyproject.toml -nt .venv/.installed ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
  touch .venv/.installed
fi
case "${1:-}" in
  test) shift; exec .venv/bin/pytest "$@" ;;
  "") exec .venv/bin/sentiment-app --help ;;
  *) exec .venv/bin/sentiment-app "$@" ;;
esac
