#!/bin/bash
# demo.sh -- the README's demo command: install what is missing, build, and
# run arcdnsd on loopback with conf/demo.yaml until Ctrl-C, printing dig
# commands to try.
#
# Usage: scripts/demo.sh [--smoke]
#   --smoke  run every printed dig command, check its status, stop the
#            daemon and exit 0 or 1 (used by .ci/run; needs no terminal)
# Environment: BUILD_DIR (default: build), JOBS, DEMO_CONFIG (default:
#   conf/demo.yaml), DEMO_TIMEOUT (seconds to wait for "ready:", 30),
#   ARCDNSD (run this daemon binary; skips installing and building).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in
/*) ;;
*) build="$src/$build" ;;
esac
config=${DEMO_CONFIG:-$src/conf/demo.yaml}
wait_s=${DEMO_TIMEOUT:-30}

smoke=
case "${1:-}" in
--smoke) smoke=yes ;;
"") ;;
*)
	echo "usage: $0 [--smoke]" >&2
	exit 2
	;;
esac

if [ -n "${ARCDNSD:-}" ]; then
	daemon=$ARCDNSD # a daemon built elsewhere: no install, no build
else
	"$src/scripts/install-deps.sh"
	BUILD_DIR="$build" "$src/scripts/build.sh"
	daemon="$build/src/arcdnsd"
fi

# The dig commands to try: "expected-rcode|what it shows|dig arguments".
# They follow conf/demo.yaml and conf/svc.example.internal.zone; --smoke
# (run by CI) checks that each one still gets the status shown here.
demo_queries() {
	cat <<'EOF'
NOERROR|an A record, authoritative (flags: aa)|api.svc.example.internal
NOERROR|the same over TCP|api.svc.example.internal +tcp
NOERROR|the zone's SOA and NS|svc.example.internal SOA
NOERROR|a name with no record of that type: NODATA, SOA in authority|api.svc.example.internal MX
NXDOMAIN|a name that does not exist: NXDOMAIN, SOA in authority|nope.svc.example.internal
REFUSED|a name outside our zones: REFUSED|www.example.com
NOERROR|the view for 127.0.0.2 (split horizon)|-b 127.0.0.2 api.svc.example.internal
NOERROR|who answered: CHAOS TXT id.server|id.server CH TXT
NOERROR|the version: CHAOS TXT version.bind|version.bind CH TXT
EOF
}

echo "demo: checking $config"
"$daemon" -t -c "$config"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arcdns-demo.XXXXXX")
log="$tmp/arcdnsd.log"
pid=

stop() {
	local i
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "demo: stopping arcdnsd (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=
}
cleanup() {
	stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; stop; exit 0' INT TERM HUP

echo "demo: starting $daemon -f -c $config"
if [ -n "$smoke" ]; then
	"$daemon" -f -c "$config" 2>"$log" </dev/null &
else
	# The log goes to the terminal and to a file we watch for "ready:".
	# tee ignores Ctrl-C so that the daemon's last lines still show.
	"$daemon" -f -c "$config" 2> >(trap '' INT; exec tee "$log" >&2) </dev/null &
fi
pid=$!

# Wait for the ready line (the contract for tests and orchestration).
deadline=$((SECONDS + wait_s))
until grep -q 'ready:' "$log" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" && rc=0 || rc=$?
		pid=
		echo "demo: arcdnsd exited (status $rc) before it was ready:" >&2
		cat "$log" >&2
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "demo: arcdnsd not ready after ${wait_s}s:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done

# Where it listens, from the ready line ("... listening on 127.0.0.1:5300
# [::1]:5300"); the first IPv4 address, else 127.0.0.1:5300.
addr=$(grep -m1 -o 'listening on .*' "$log" |
	grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+\.[0-9]\+:[0-9]\+' | head -n1 || true)
host=${addr%:*}
port=${addr##*:}
[ -n "$addr" ] || { host=127.0.0.1; port=5300; }

if [ -n "$smoke" ]; then
	failed=0
	while IFS='|' read -r want what args; do
		# shellcheck disable=SC2086 # args is a list of dig arguments
		out=$(dig @"$host" -p "$port" +time=2 +tries=1 $args 2>&1) || true
		got=$(printf '%s\n' "$out" |
			sed -n 's/.*opcode: QUERY, status: \([A-Z]*\),.*/\1/p' | head -n1)
		if [ "$got" = "$want" ]; then
			echo "ok   dig @$host -p $port $args  ($got)"
		else
			echo "FAIL dig @$host -p $port $args  (want $want, got ${got:-no answer})"
			printf '%s\n' "$out" | sed 's/^/     /'
			failed=$((failed + 1))
		fi
	done < <(demo_queries)
	stop
	if [ "$failed" -ne 0 ]; then
		echo "demo: $failed of $(demo_queries | wc -l) queries failed; log:" >&2
		cat "$log" >&2
		exit 1
	fi
	echo "demo: smoke test passed"
	exit 0
fi

cat <<EOF

arcdnsd is serving conf/demo.yaml on $host port $port (pid $pid).
Try these in another terminal:

EOF
while IFS='|' read -r want what args; do
	printf '  # %s\n  dig @%s -p %s %s\n\n' "$what" "$host" "$port" "$args"
done < <(demo_queries)
cat <<EOF
  # reload the config and zones after editing them
  kill -HUP $pid

Press Ctrl-C to stop.
EOF

wait "$pid" && rc=0 || rc=$?
pid=
echo "demo: arcdnsd exited with status $rc"
exit "$rc"
