#!/usr/bin/env bash
# Real servers for the tests of stores/redis, stores/postgres and
# examples/replicas: a redis-server and a PostgreSQL on loopback ports, with
# throw-away data directories.
#
#   .ci/services.sh install     install redis-server and postgresql (Debian
#                               packages) when they are missing
#   .ci/services.sh start       install when missing, start both servers and
#                               print the settings as export lines, so that
#                               eval "$(.ci/services.sh start)" sets them
#   .ci/services.sh stop [DIR]  stop the servers started in DIR (default
#                               $TYPEDAUTH_SERVICES_DIR) and remove DIR
#
# The settings exported by start:
#   TYPEDAUTH_REDIS_ADDR     host:port of the redis-server
#   TYPEDAUTH_POSTGRES_URL   connection URL of the PostgreSQL superuser
#   TYPEDAUTH_REDIS_SERVER   path of the redis-server binary
#   TYPEDAUTH_PG_BIN         directory of the PostgreSQL binaries (initdb, pg_ctl)
#   TYPEDAUTH_SERVICES_DIR   the data directory, for stop
#
# PostgreSQL refuses to run as root: as root, the cluster is created and run
# as the postgres user that the Debian package creates.
set -euo pipefail

log() { echo "services: $*" >&2; }

pg_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
	done
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v initdb)"; return 0
	fi
	return 1
}

install() {
	local need=()
	command -v redis-server >/dev/null || need+=(redis-server)
	pg_bin >/dev/null || need+=(postgresql)
	[ ${#need[@]} -eq 0 ] && return 0
	# Test packages started in parallel may all get here: one installs, the
	# others wait for it and find the servers installed.
	if command -v flock >/dev/null; then
		exec 9>/tmp/typedauth-services-install.lock
		flock 9
		need=()
		command -v redis-server >/dev/null || need+=(redis-server)
		pg_bin >/dev/null || need+=(postgresql)
		[ ${#need[@]} -eq 0 ] && return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "missing ${need[*]}; install them (apt-get install ${need[*]}) or run this script as root"
		return 1
	fi
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends "${need[@]}" >&2
	# The packages' own services are not used: ours run on their own ports.
	service redis-server stop >/dev/null 2>&1 || true
}

# free_port prints a loopback TCP port that nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	log "no free port found"; return 1
}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
	install
	local bin redis_port pg_port redis
	dir=$(mktemp -d /tmp/typedauth-services.XXXXXX)
	chmod 755 "$dir"
	redis=$(command -v redis-server)
	bin=$(pg_bin)

	redis_port=$(free_port)
	mkdir -p "$dir/redis"
	"$redis" --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save "" --appendonly no \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
		sleep 0.1
	done
	log "redis-server on 127.0.0.1:$redis_port"

	pg_port=$(free_port)
	mkdir -p "$dir/pg"
	if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/pg"; fi
	as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w -t 60 \
		-o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
		start >&2
	log "postgres on 127.0.0.1:$pg_port"

	echo "export TYPEDAUTH_SERVICES_DIR=$dir"
	echo "export TYPEDAUTH_REDIS_ADDR=127.0.0.1:$redis_port"
	echo "export TYPEDAUTH_POSTGRES_URL=postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
	echo "export TYPEDAUTH_REDIS_SERVER=$redis"
	echo "export TYPEDAUTH_PG_BIN=$bin"
}

stop() {
	local dir=${1:-${TYPEDAUTH_SERVICES_DIR:-}}
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then log "nothing to stop"; return 0; fi
	case "$dir" in /tmp/typedauth-services.*) ;; *) log "refusing to stop $dir"; return 1 ;; esac
	if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >&2 || true
	fi
	rm -rf "$dir"
	log "stopped"
}

case "${1:-}" in
install) install ;;
start) dir="" ; start || { [ -n "$dir" ] && stop "$dir"; exit 1; } ;;
stop) stop "${2:-}" ;;
*) echo "usage: $0 install|start|stop [DIR]" >&2; exit 2 ;;
esac
