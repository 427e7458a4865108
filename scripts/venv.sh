# Sourced by the scripts: makes sure .venv exists with exactly the pinned dependencies.
# Skips the install when pyproject.toml has not changed since the last one.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

step() { printf '==> %s\n' "$*"; }

ensure_venv() {
  local stamp want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  stamp="$VENV/.autosalon-deps"
  if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    step "python venv: up to date"
  else
    step "python venv: installing pinned dependencies (about a minute the first time)"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$PY" - "$ROOT/pyproject.toml" > "$VENV/.autosalon-requirements.txt" <<'PYEOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for requirement in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
    print(requirement)
PYEOF
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$VENV/.autosalon-requirements.txt"
    echo "$want" > "$stamp"
  fi
  # The repo root and the generated code are importable without installing the project.
  local site
  site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  printf '%s\n%s\n' "$ROOT" "$ROOT/gen/python" > "$site/autosalon.pth"
  export PATH="$VENV/bin:$PATH"
}
