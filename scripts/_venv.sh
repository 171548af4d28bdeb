# Shared by scripts/demo and scripts/test: create .venv with Python 3.11+ if missing and install
# the project (with the extras named in $1) whenever pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras=${1:-}  # callers pass it explicitly: a bare `source` would hand over their own arguments
pick_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "leadpost needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)" >&2
  return 1
}
if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "creating .venv with $py" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing leadpost${extras:+[$extras]} into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
fi
