# shellcheck shell=bash
# The benchmarks' baseline: NGINX serving the files under $work/root as JSON on 127.0.0.1:$port.
# Sourced by scripts/bench/*.sh; stop it with `"$nginx" -p "$work" -c "$work/nginx.conf" -s stop`.

# static_nginx_tools: installs wrk and NGINX when missing (Debian), then sets NGINX to NGINX's path.
static_nginx_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  if ((${#missing[@]})); then
    printf 'bench: installing %s\n' "${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# static_nginx_start NGINX_BIN WORK_DIR PORT
static_nginx_start() {
  local nginx=$1 work=$2 port=$3
  mkdir -p "$work/logs"
  # NGINX's workers run as an unprivileged user; mktemp made the directory private.
  chmod 755 "$work"
  chmod -R a+rX "$work/root"
  cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port;
    root $work/root;
    location / { default_type application/json; }
  }
}
NGINX
  # Not the bench lock's descriptor: a daemon that outlives a killed bench would hold the lock.
  "$nginx" -p "$work" -c "$work/nginx.conf" 9>&-
}
