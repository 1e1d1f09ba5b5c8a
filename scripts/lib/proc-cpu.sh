# shellcheck shell=bash
# CPU time per process from /proc, for the benches (sourced by scripts/lib/bench.sh): which
# process spends how much CPU per unit of work (a paid order) over a measured window.
#
#   cpu_track "PostgreSQL (all processes)" "$(cpu_listener_pid 5432)"
#   cpu_track catalog "$catalog_pid"
#   cpu_sample "$WORK/cpu.start"; ...the window...; cpu_sample "$WORK/cpu.end"
#   cpu_report "$WORK/cpu.start" "$WORK/cpu.end" "$paid" "paid order"
#
# A tracked process counts with every process under it: its own threads (the kernel sums them
# in /proc/PID/stat), its live descendants (PostgreSQL's backends under the postmaster,
# RabbitMQ's helpers under beam.smp) and the ones that ended inside the window (their time is
# in the parent's cutime/cstime once reaped). A process that runs to completion inside the
# window (the load generator) is run with cpu_run_counted, which records its whole CPU time.
# Times are clock ticks (USER_HZ); the machine's busy time from /proc/stat gives the row
# "everything else on the machine" (other builds, other tests on the shared servers).

CPU_NAMES=()
CPU_ROOTS=()
CPU_COUNTED=()

# cpu_listener_pid PORT: the pid of the process listening on TCP PORT (empty when unknown).
cpu_listener_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}

# cpu_track NAME PID: count PID and everything under it as NAME (nothing when PID is empty).
cpu_track() {
  if [[ -z $2 ]]; then
    printf 'bench: cpu: no process for %s, not counted\n' "$1" >&2
    return 0
  fi
  CPU_NAMES+=("$1")
  CPU_ROOTS+=("$2")
}

# cpu_run_counted NAME COMMAND...: runs COMMAND (stdout and stderr as usual) and, when it ends,
# records its CPU time (and its children's) for cpu_sample under NAME; returns its status.
cpu_run_counted() {
  local name=$1 file
  shift
  file=$(mktemp /tmp/commerce-bench-cpu.XXXXXX)
  rm -f "$file"
  CPU_COUNTED+=("$name|$file")
  # The subshell's cutime/cstime hold exactly the command's time once it is reaped.
  (
    status=0
    "$@" || status=$?
    awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$BASHPID/stat" >"$file.tmp" && mv "$file.tmp" "$file"
    exit "$status"
  )
}

# cpu_forget_counted: drops the commands cpu_run_counted recorded (and their files).
cpu_forget_counted() {
  local entry
  for entry in "${CPU_COUNTED[@]}"; do rm -f "${entry#*|}"; done
  CPU_COUNTED=()
}

# cpu_sample FILE: "name<TAB>ticks" per tracked name, "@busy" (the machine's busy ticks, all
# cores), "@wall" (seconds since the epoch) and "@cores".
cpu_sample() {
  local out=$1 spec="" i entry
  for i in "${!CPU_NAMES[@]}"; do spec+="${CPU_ROOTS[i]}|${CPU_NAMES[i]}"$'\n'; done
  # /proc/PID/stat: "pid (comm) state ppid ..." with utime, stime, cutime, cstime the 14th-17th
  # fields; comm may hold spaces and parentheses, so the fields are counted after the last ')'.
  # A process may end between the glob and the read: cat then fails, and pipefail must not.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v spec="$spec" '
    BEGIN { n = split(spec, lines, "\n"); for (i = 1; i <= n; i++) if (lines[i] != "") {
      split(lines[i], kv, "|"); root[kv[1]] = kv[2]; order[++k] = kv[2]; ticks[kv[2]] = 0 } }
    { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
      parent[pid] = f[2]; own[pid] = f[12] + f[13] + f[14] + f[15] }
    END {
      for (pid in own) {
        p = pid
        for (hops = 0; p != "" && p > 1 && hops < 64; hops++) {
          if (p in root) { ticks[root[p]] += own[pid]; break }
          p = parent[p]
        }
      }
      for (i = 1; i <= k; i++) printf "%s\t%d\n", order[i], ticks[order[i]]
    }' >"$out"
  for entry in "${CPU_COUNTED[@]}"; do
    printf '%s\t%s\n' "${entry%%|*}" "$(cat "${entry#*|}" 2>/dev/null || echo 0)" >>"$out"
  done
  awk '$1 == "cpu" {printf "@busy\t%d\n", $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat >>"$out"
  printf '@wall\t%s\n@cores\t%s\n' "$(date +%s.%N)" "$(nproc)" >>"$out"
}

# cpu_report START END COUNT UNIT: the table of CPU seconds per tracked process between the two
# samples, and milliseconds of CPU per UNIT (COUNT of them in the window), largest first.
cpu_report() {
  local start=$1 end=$2 count=$3 unit=$4 hz
  hz=$(getconf CLK_TCK)
  awk -F'\t' -v hz="$hz" -v n="$count" -v unit="$unit" '
    FNR == NR { a[$1] = $2; next }
    { b[$1] = $2; if ($1 !~ /^@/) names[++k] = $1 }
    END {
      wall = b["@wall"] - a["@wall"]; cores = b["@cores"]; busy = (b["@busy"] - a["@busy"]) / hz
      printf "\nCPU time in the measured window: %.1f s on %d cores, %d %ss (from /proc: threads, children and reaped children included)\n", wall, cores, n, unit
      printf "%-34s %9s %14s %9s\n", "process", "CPU s", "ms per " unit, "of busy"
      for (i = 1; i <= k; i++) {
        d[i] = (b[names[i]] - a[names[i]]) / hz # a counted command has no start: 0
        if (d[i] < 0) d[i] = 0
        sum += d[i]
      }
      # largest first (insertion sort: a dozen rows)
      for (i = 1; i <= k; i++) idx[i] = i
      for (i = 2; i <= k; i++) for (j = i; j > 1 && d[idx[j]] > d[idx[j - 1]]; j--) { t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t }
      for (i = 1; i <= k; i++) row(names[idx[i]], d[idx[i]])
      row("all of the above", sum)
      row("everything else on the machine", busy - sum > 0 ? busy - sum : 0)
      row("machine busy (all cores)", busy)
      printf "%-34s %9.2f\n", "machine capacity (cores × window)", cores * wall
    }
    function row(name, s) {
      printf "%-34s %9.2f %14s %8.1f%%\n", name, s, (n > 0 ? sprintf("%.2f", 1000 * s / n) : "-"), (busy > 0 ? 100 * s / busy : 0)
    }' "$start" "$end"
}
