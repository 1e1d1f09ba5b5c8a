# shellcheck shell=bash
# The database by statement, for the benches (sourced by scripts/lib/bench.sh): PostgreSQL's
# pg_stat_statements in the bench's own scratch database, reset when the measured window
# starts, then the statements that took the most time (execution + planning), per unit of work.
#
#   pgss_setup "$DB"            # after the migrations, before the services connect
#   pgss_reset "$DB"            # the window starts
#   pgss_snapshot "$DB"         # the window ends (later checks' statements stay out)
#   pgss_report "$DB" "$paid" "paid order"
#
# pg_stat_statements must be in shared_preload_libraries, which takes a restart of PostgreSQL.
# The bench never restarts the shared server: without the library it prints how to enable it
# and carries on without per-statement figures. PG_STAT_STATEMENTS=enable adds it with ALTER
# SYSTEM (kept with the libraries already listed) for the next restart, done by whoever owns the
# server. PGSS_TOP (15) statements are printed.

PGSS=0

# pgss_setup DB: sets PGSS=1 when per-statement figures can be taken in DB (the extension
# created there, planning tracked for the database's sessions), else says why not.
pgss_setup() {
  local db=$1 libs available
  libs=$(bench_psql -d postgres -Atc "SHOW shared_preload_libraries")
  available=$(bench_psql -d postgres -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'")
  if [[ $available == 0 ]]; then
    say "per-statement figures off: the pg_stat_statements extension is not installed (Debian: the postgresql package ships it)"
    return 0
  fi
  if [[ ,${libs// /}, == *,pg_stat_statements,* ]]; then
    bench_psql -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
      -c "ALTER DATABASE $db SET pg_stat_statements.track_planning = on"
    PGSS=1
    return 0
  fi
  local want="'pg_stat_statements'" restart
  [[ -n $libs ]] && want="$(sed "s/[^,][^,]*/'&'/g; s/' */'/g; s/,/, /g" <<<"${libs// /}"), $want"
  restart="pg_ctlcluster --skip-systemctl-redirect $(bench_psql -d postgres -Atc "SELECT current_setting('server_version_num')::int / 10000") main restart"
  if [[ ${PG_STAT_STATEMENTS:-} == enable ]]; then
    bench_psql -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = $want"
    say "PG_STAT_STATEMENTS=enable: shared_preload_libraries = $want is set (ALTER SYSTEM) and takes effect when" \
      "PostgreSQL restarts. The bench does not restart the shared server (other work uses it): restart it when" \
      "nothing else needs it (e.g. \`$restart\`). This run goes on without per-statement figures."
  else
    say "per-statement figures off: pg_stat_statements is not in shared_preload_libraries (now '${libs}')." \
      "To enable: run the bench once with PG_STAT_STATEMENTS=enable (ALTER SYSTEM), then restart PostgreSQL" \
      "when nothing else uses it (e.g. \`$restart\`); docs/performance.md has the details."
  fi
}

# pgss_reset DB: forgets DB's statements so far (other databases' statistics are left alone).
pgss_reset() {
  ((PGSS)) || return 0
  bench_psql -d "$1" -Atc "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)" >/dev/null
}

# pgss_snapshot DB: keeps DB's statements as they are now (table public.bench_statements).
pgss_snapshot() {
  ((PGSS)) || return 0
  bench_psql -d "$1" -c "CREATE TABLE public.bench_statements AS SELECT * FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT LIKE 'SELECT pg_stat_statements_reset(%'"
}

# pgss_report DB COUNT UNIT: DB's statements between pgss_reset and pgss_snapshot by total time (execution +
# planning): calls, total and mean ms, ms per UNIT (COUNT of them), rows, share of the total.
pgss_report() {
  ((PGSS)) || return 0
  local db=$1 count=$2 unit=$3 top=${PGSS_TOP:-15}
  echo
  echo "database by statement ($db, pg_stat_statements over the window; top-level statements, triggers' work included in theirs):"
  bench_psql -d "$db" -AtF$'\t' -v n="$count" -v top="$top" <<'SQL' |
WITH s AS (
  SELECT calls, total_exec_time + total_plan_time AS ms, total_plan_time AS plan_ms, rows,
         regexp_replace(query, '\s+', ' ', 'g') AS q
  FROM public.bench_statements
), t AS (SELECT sum(ms) AS all_ms, sum(calls) AS all_calls FROM s)
SELECT * FROM (
  SELECT 0 AS k, calls, round(ms::numeric, 1), round(plan_ms::numeric, 1), round((ms / greatest(calls, 1))::numeric, 3),
         round((ms / greatest(:n, 1))::numeric, 3), rows, round((100 * ms / nullif(t.all_ms, 0))::numeric, 1), left(q, 110)
  FROM s, t ORDER BY ms DESC LIMIT :top) AS top_rows
UNION ALL
SELECT 1, all_calls, round(all_ms::numeric, 1), NULL, round((all_ms / greatest(all_calls, 1))::numeric, 3),
       round((all_ms / greatest(:n, 1))::numeric, 3), NULL, 100, 'all statements of the database' FROM t
ORDER BY k, 3 DESC;
SQL
    awk -F'\t' -v unit="$unit" '
      BEGIN { printf "%9s %10s %9s %9s %12s %9s %6s  %s\n", "calls", "total ms", "plan ms", "mean ms", "ms/" unit, "rows", "share", "statement" }
      { printf "%9s %10s %9s %9s %12s %9s %5s%%  %s\n", $2, $3, ($4 == "" ? "" : $4), $5, $6, $7, $8, $9 }'
}
