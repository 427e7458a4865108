# Sourced, after venv.sh, by the scripts that run a mesh of their own: ./scripts/test in
# .run-test, ./bench/run and ./scripts/chaos in .run-bench (./bench/run cluster in
# .run-bench-cluster; the cluster test in .run-test-cluster), each with its own databases, streams,
# keys and logs, so that what they create never shows in the developer's showroom (.run).
# Every mesh listens on the same ports, so one runs at a time: the caller's own mesh is stopped
# meanwhile and started again at the end; another sandbox's is refused rather than fought over.
# What these functions say goes to stderr (a bench's figures are its stdout).
SANDBOXES=("$ROOT/.run-test" "$ROOT/.run-bench" "$ROOT/.run-test-cluster" "$ROOT/.run-bench-cluster")

# Whether the mesh of run directory $1 is up: its supervisord answers (supervisor.running()).
mesh_running() {
  [ -S "$1/supervisor.sock" ] && "$VENV/bin/supervisorctl" -c "$1/supervisord.conf" pid >/dev/null 2>&1
}

# enter_sandbox DIR: runs the rest of the script against the mesh of DIR (AUTOSALON_RUN_DIR).
# At exit that mesh is stopped, unless it ran before or AUTOSALON_KEEP_MESH is set, and the
# caller's own (AUTOSALON_RUN_DIR as given, .run unless set) starts again if it was stopped.
enter_sandbox() {
  sandbox_dir="$(realpath -m "$1")"
  own_run_dir="$(realpath -m "${AUTOSALON_RUN_DIR:-$ROOT/.run}")"
  local other
  for other in "${SANDBOXES[@]}"; do
    other="$(realpath -m "$other")"
    if [ "$other" != "$sandbox_dir" ] && [ "$other" != "$own_run_dir" ] && mesh_running "$other"; then
      echo "the mesh of $other is running, on the same ports: wait for it to finish, or stop it" \
        "(AUTOSALON_RUN_DIR=$other ./scripts/down)" >&2
      exit 1
    fi
  done
  sandbox_ran_before="" own_stopped=""
  mesh_running "$sandbox_dir" && sandbox_ran_before=1
  if [ "$own_run_dir" != "$sandbox_dir" ] && mesh_running "$own_run_dir"; then
    step "your mesh: stopping it while this one runs in $(basename "$sandbox_dir")" >&2
    AUTOSALON_RUN_DIR="$own_run_dir" "$PY" -m scripts.mesh down >/dev/null
    own_stopped=1
  fi
  export AUTOSALON_RUN_DIR="$sandbox_dir"
  trap leave_sandbox EXIT
}

leave_sandbox() {
  if [ -z "$sandbox_ran_before" ] && [ -z "${AUTOSALON_KEEP_MESH:-}" ] && mesh_running "$sandbox_dir"; then
    step "$(basename "$sandbox_dir"): stopping its mesh" >&2
    "$PY" -m scripts.mesh down >/dev/null
  fi
  [ -n "$own_stopped" ] || return 0
  if mesh_running "$sandbox_dir"; then
    step "your mesh: left stopped, as the mesh of $(basename "$sandbox_dir") is kept running" >&2
  else
    step "your mesh: starting it again, with this shell's AUTOSALON_* settings" >&2
    # With as many nodes as its folder was made with, not the sandbox's.
    AUTOSALON_RUN_DIR="$own_run_dir" env -u AUTOSALON_CLUSTER_NODES "$PY" -m scripts.mesh up >/dev/null
  fi
}
