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

# The dig commands to try, one a line:
#   expected status|what it shows|dig arguments|pattern the output must match
# They follow conf/demo.yaml and conf/svc.example.internal*.zone; --smoke
# (run by .ci/run) checks the status and the pattern (grep -E) of each.
demo_queries() {
	cat <<'EOF'
NOERROR|an A RRset, authoritative (flags: aa)|api.svc.example.internal|flags: qr aa rd;.* ANSWER: 2,
NOERROR|the same over TCP|api.svc.example.internal +tcp|flags: qr aa rd;.* ANSWER: 2,
NOERROR|the zone's SOA|svc.example.internal SOA|IN[[:space:]]+SOA[[:space:]]+ns1\.svc\.example\.internal\.
NOERROR|a CNAME followed inside the zone|www.svc.example.internal|IN[[:space:]]+CNAME[[:space:]]+api\.svc
NOERROR|a wildcard (*.apps)|anything.apps.svc.example.internal|^anything\.apps\.svc\.example\.internal\..*IN[[:space:]]+A[[:space:]]+10\.0\.1\.80
NOERROR|a delegation: referral with NS and glue, no aa|host.east.svc.example.internal|flags: qr rd;.* ANSWER: 0, AUTHORITY: 2, ADDITIONAL: 2
NOERROR|no record of that type (NODATA): SOA in authority|api.svc.example.internal MX|ANSWER: 0, AUTHORITY: 1,
NXDOMAIN|a name that does not exist: SOA in authority|nope.svc.example.internal|ANSWER: 0, AUTHORITY: 1,
REFUSED|a name outside our zones|www.example.com|
NOERROR|the vpc-east view, for clients in 127.0.0.2 (split horizon)|-b 127.0.0.2 api.svc.example.internal|ANSWER: 1,
NOERROR|who answered: CHAOS TXT id.server|id.server CH TXT|"arcdns-demo"
NOERROR|the version: CHAOS TXT version.bind|version.bind CH TXT|"arcdns [0-9]
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
	while IFS='|' read -r want what args pattern; do
		# shellcheck disable=SC2086 # args is a list of dig arguments
		out=$(dig @"$host" -p "$port" +time=2 +tries=1 $args 2>&1) || true
		got=$(printf '%s\n' "$out" |
			sed -n 's/.*opcode: QUERY, status: \([A-Z]*\),.*/\1/p' | head -n1)
		if [ "$got" = "$want" ] && { [ -z "$pattern" ] ||
			printf '%s\n' "$out" | grep -Eq -- "$pattern"; }; then
			echo "ok   dig @$host -p $port $args  ($what)"
		else
			echo "FAIL dig @$host -p $port $args  ($what: want $want${pattern:+ and /$pattern/}, got ${got:-no answer})"
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

arcdnsd is serving ${config#"$src"/} on $host port $port (pid $pid).
Try these in another terminal:

EOF
while IFS='|' read -r want what args pattern; do
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
