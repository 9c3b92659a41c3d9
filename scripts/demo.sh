#!/bin/bash
# demo.sh -- the README's demo command: install what is missing, build, and
# run on loopback until Ctrl-C
#   - arcsim, a local ARC cluster (conf/sim.yaml: routing controls
#     route-us-east-1 and route-us-west-2, both On), plain HTTP on
#     127.0.0.1:8440..8444, admin interface on 127.0.0.1:8445;
#   - arcdnsd mirroring it (conf/demo.yaml) on port 5300, with ARC-driven
#     failover, multivalue and role records;
# then print dig commands to try, and the command that flips a routing
# control through ARC's API so that dig shows the answers follow.
#
# Usage: scripts/demo.sh [--smoke]
#   --smoke  run every printed dig command and check its status and output,
#            flip route-us-east-1 Off with the printed command, check that
#            the ARC-driven answers follow, flip it back On, check again,
#            stop both and exit 0 or 1 (used by .ci/run; needs no terminal)
# Environment: BUILD_DIR (default: build), JOBS, DEMO_CONFIG (default:
#   conf/demo.yaml), DEMO_SIM_CONFIG (default: conf/sim.yaml), DEMO_TIMEOUT
#   (seconds to wait for "ready:" and for the mirror, 30), ARCDNSD (run
#   this daemon binary; skips installing and building) and ARCSIM (this
#   arcsim; default: next to ARCDNSD).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in
/*) ;;
*) build="$src/$build" ;;
esac
config=${DEMO_CONFIG:-$src/conf/demo.yaml}
simconf=${DEMO_SIM_CONFIG:-$src/conf/sim.yaml}
wait_s=${DEMO_TIMEOUT:-30}
# conf/demo.yaml's arc: endpoints are arcsim's default ports
sim_base=8440
sim_admin=127.0.0.1:8445
flip_region=us-west-2 # the endpoint the flip command talks to
flip_url=http://127.0.0.1:8441/v1

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
	daemon=$ARCDNSD # built elsewhere: no install, no build
	arcsim=${ARCSIM:-$(dirname "$ARCDNSD")/arcsim}
else
	"$src/scripts/install-deps.sh"
	BUILD_DIR="$build" "$src/scripts/build.sh"
	daemon="$build/src/arcdnsd"
	arcsim=${ARCSIM:-$build/src/arcsim}
fi
ctl=$(dirname "$daemon")/arcdnsctl

# The dig commands to try, one a line:
#   expected status|what it shows|dig arguments|pattern the output must match
# They follow conf/demo.yaml and conf/svc.example.internal*.zone with
# route-us-east-1 On; --smoke (run by .ci/run) checks the status and the
# pattern (grep -E) of each.
demo_queries() {
	cat <<'EOF'
NOERROR|failover (ARC-driven): us-east-1's addresses while route-us-east-1 is On, TTL 5|api.svc.example.internal|IN[[:space:]]+A[[:space:]]+10\.0\.1\.10
NOERROR|the same over TCP|api.svc.example.internal +tcp|flags: qr aa rd;.* ANSWER: 2,
NOERROR|failover, IPv6|api.svc.example.internal AAAA|IN[[:space:]]+AAAA[[:space:]]+2001:db8:1::10
NOERROR|multivalue: the addresses of every region whose control is On|web.svc.example.internal|ANSWER: 2,
NOERROR|role: "active" for the region failover picks|us-east-1.role.svc.example.internal TXT|"active"
NOERROR|role: "passive" for the others|us-west-2.role.svc.example.internal TXT|"passive"
NOERROR|a static CNAME into the failover name|www.svc.example.internal|IN[[:space:]]+CNAME[[:space:]]+api\.svc
NOERROR|the vpc-east view, for clients in 127.0.0.2 (split horizon): one address|-b 127.0.0.2 api.svc.example.internal|ANSWER: 1,
NOERROR|the zone's SOA (its serial moves on every flip)|svc.example.internal SOA|IN[[:space:]]+SOA[[:space:]]+ns1\.svc\.example\.internal\.
NOERROR|the mirror: every control, its freshness and a hash of the state|state.arcdns CH TXT|"east On
NOERROR|a wildcard (*.apps)|anything.apps.svc.example.internal|^anything\.apps\.svc\.example\.internal\..*IN[[:space:]]+A[[:space:]]+10\.0\.1\.80
NOERROR|a delegation: referral with NS and glue, no aa|host.east.svc.example.internal|flags: qr rd;.* ANSWER: 0, AUTHORITY: 2, ADDITIONAL: 2
NOERROR|no record of that type (NODATA): SOA in authority|api.svc.example.internal MX|ANSWER: 0, AUTHORITY: 1,
NXDOMAIN|a name that does not exist: SOA in authority|nope.svc.example.internal|ANSWER: 0, AUTHORITY: 1,
REFUSED|a name outside our zones|www.example.com|
NOERROR|who answered: CHAOS TXT id.server|id.server CH TXT|"arcdns-demo"
NOERROR|the version: CHAOS TXT version.bind|version.bind CH TXT|"arcdns [0-9]
EOF
}

echo "demo: checking $config"
"$daemon" -t -c "$config"

# Credentials and ARNs of the cluster, as arcsim prints them for arcdnsd:
#   #   export AWS_ACCESS_KEY_ID='...' AWS_SECRET_ACCESS_KEY='...'
#   "route-us-east-1": { arn: "arn:aws:..." }   # On in DefaultControlPanel
simcfg=$("$arcsim" -c "$simconf" --plain --base-port "$sim_base" --print-arcdns-config)
creds=$(printf '%s\n' "$simcfg" | sed -n 's/^[[:space:]]*#[[:space:]]*export //p' | head -n1)
akid=$(printf '%s\n' "$creds" | sed -n "s/.*AWS_ACCESS_KEY_ID='\([^']*\)'.*/\1/p")
secret=$(printf '%s\n' "$creds" | sed -n "s/.*AWS_SECRET_ACCESS_KEY='\([^']*\)'.*/\1/p")
arn_of() {
	printf '%s\n' "$simcfg" | sed -n "s/^[[:space:]]*\"\{0,1\}$1\"\{0,1\}:.*arn: \"\([^\"]*\)\".*/\1/p" | head -n1
}
arn_east=$(arn_of route-us-east-1)
if [ -z "$akid" ] || [ -z "$secret" ] || [ -z "$arn_east" ]; then
	echo "demo: no credentials or ARN in arcsim --print-arcdns-config:" >&2
	printf '%s\n' "$simcfg" >&2
	exit 1
fi
export AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret
unset AWS_SESSION_TOKEN AWS_PROFILE

# arcdnsd binds with SO_REUSEPORT: a second daemon on port 5300 (another
# demo still running) would share the queries with this one. Refuse to
# start next to anything that holds the demo's ports.
if command -v ss >/dev/null 2>&1; then
	busy=$(ss -Hlnut 2>/dev/null | awk '{print $5}' |
		grep -E ':(5300|8053|844[0-5])$' | sort -u | tr '\n' ' ' || true)
	if [ -n "$busy" ]; then
		echo "demo: ports in use: $busy(another demo running? stop it first)" >&2
		ss -Hlnutp 2>/dev/null | grep -E ':(5300|8053|844[0-5])[[:space:]]' >&2 || true
		exit 1
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arcdns-demo.XXXXXX")
log="$tmp/arcdnsd.log"
simlog="$tmp/arcsim.log"
pid=
simpid=

stop_pid() { # stop_pid PID NAME
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		echo "demo: stopping $2 (pid $1)"
		kill -TERM "$1" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$1" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
stop() {
	stop_pid "$pid" arcdnsd
	pid=
	stop_pid "$simpid" arcsim
	simpid=
}
cleanup() {
	stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; stop; exit 0' INT TERM HUP

# wait_ready PID LOG NAME -- wait for the "ready:" line (the contract for
# tests and orchestration), bounded by DEMO_TIMEOUT.
wait_ready() {
	local deadline=$((SECONDS + wait_s)) rc
	until grep -q 'ready:' "$2" 2>/dev/null; do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" && rc=0 || rc=$?
			echo "demo: $3 exited (status $rc) before it was ready:" >&2
			cat "$2" >&2
			exit 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "demo: $3 not ready after ${wait_s}s:" >&2
			cat "$2" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# start VAR NAME LOG COMMAND... -- in the background, its pid in VAR (for
# stop), then wait for it to be ready; in a terminal the log also goes to
# stderr (tee ignores Ctrl-C so that the last lines show).
start() {
	local var=$1 name=$2 logf=$3
	shift 3
	echo "demo: starting $*"
	if [ -n "$smoke" ]; then
		"$@" 2>"$logf" </dev/null &
	else
		"$@" 2> >(trap '' INT; exec tee "$logf" >&2) </dev/null &
	fi
	printf -v "$var" '%s' "$!"
	wait_ready "$!" "$logf" "$name"
}

start simpid arcsim "$simlog" "$arcsim" -f -c "$simconf" --plain --base-port "$sim_base" \
	--admin "$sim_admin"
start pid arcdnsd "$log" "$daemon" -f -c "$config"

# Where arcdnsd listens, from the ready line ("... listening on
# 127.0.0.1:5300 [::1]:5300"); the first IPv4 address, else 127.0.0.1:5300.
addr=$(grep -m1 -o 'listening on .*' "$log" |
	grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+\.[0-9]\+:[0-9]\+' | head -n1 || true)
host=${addr%:*}
port=${addr##*:}
[ -n "$addr" ] || { host=127.0.0.1; port=5300; }

# The flip, as printed: ARC's UpdateRoutingControlState with the AWS SDK
# (python3-boto3), against arcsim's us-west-2 endpoint.
flip_cmd() { # flip_cmd STATE
	printf '%s' "AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY='$secret' python3 -c 'import boto3, sys; boto3.client(\"route53-recovery-cluster\", region_name=\"$flip_region\", endpoint_url=\"$flip_url\").update_routing_control_state(RoutingControlArn=sys.argv[1], RoutingControlState=sys.argv[2])' $arn_east $1"
}
short() { # short DIG-ARGS... -- the answer's rdata, sorted, on one line
	dig @"$host" -p "$port" +time=1 +tries=1 +short "$@" 2>/dev/null | sort | tr '\n' ' '
}
# wait_answer WANT DIG-ARGS... -- until +short shows WANT (bounded)
wait_answer() {
	local want=$1 t0=$SECONDS got=
	shift
	while [ $((SECONDS - t0)) -lt "$wait_s" ]; do
		got=$(short "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	echo "demo: dig $* still shows '$got', not '$want', after ${wait_s}s" >&2
	return 1
}
ms() { date +%s%N | cut -c1-13; }

# The mirror has the controls once api answers us-east-1's addresses.
east_api="10.0.1.10 10.0.1.11 "
west_api="10.1.1.10 "
if ! wait_answer "$east_api" api.svc.example.internal; then
	cat "$log" >&2
	exit 1
fi

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
	nq=$(demo_queries | wc -l)
	serial() { short svc.example.internal SOA | cut -d' ' -f3; }
	serial0=$(serial)
	# One flip and back, with the printed command; the answers follow.
	for step in "Off|$west_api|passive|active" "On|$east_api|active|passive"; do
		IFS='|' read -r state api east west <<<"$step"
		if ! bash -c "$(flip_cmd "$state")"; then
			echo "FAIL the flip command (route-us-east-1 $state):"
			flip_cmd "$state"
			echo
			failed=$((failed + 1))
			continue
		fi
		t0=$(ms)
		if wait_answer "$api" api.svc.example.internal &&
			wait_answer "\"$east\" " us-east-1.role.svc.example.internal TXT &&
			wait_answer "\"$west\" " us-west-2.role.svc.example.internal TXT; then
			echo "ok   route-us-east-1 $state: api is ${api% }, us-east-1 role $east ($(($(ms) - t0)) ms after the flip returned)"
		else
			echo "FAIL route-us-east-1 $state: the answers did not follow"
			failed=$((failed + 1))
		fi
		nq=$((nq + 1))
	done
	serial1=$(serial)
	if [ -n "$serial0" ] && [ -n "$serial1" ] && [ "$serial1" != "$serial0" ]; then
		echo "ok   the SOA serial moved on: $serial0 -> $serial1"
	else
		echo "FAIL the SOA serial did not move: '$serial0' -> '$serial1'"
		failed=$((failed + 1))
	fi
	nq=$((nq + 1))
	code=$(python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("none")' http://127.0.0.1:8053/readyz)
	if [ "$code" = 200 ]; then
		echo "ok   http://127.0.0.1:8053/readyz: 200"
	else
		echo "FAIL http://127.0.0.1:8053/readyz: $code"
		failed=$((failed + 1))
	fi
	nq=$((nq + 1))
	if out=$("$ctl" -c "$config" controls 2>&1) &&
		printf '%s\n' "$out" | grep -q '^east[[:space:]]*On'; then
		echo "ok   arcdnsctl controls: east On"
	else
		echo "FAIL arcdnsctl controls:"
		printf '%s\n' "$out" | sed 's/^/     /'
		failed=$((failed + 1))
	fi
	nq=$((nq + 1))
	stop
	if [ "$failed" -ne 0 ]; then
		echo "demo: $failed of $nq checks failed; arcdnsd log:" >&2
		cat "$log" >&2
		echo "demo: arcsim log:" >&2
		cat "$simlog" >&2
		exit 1
	fi
	echo "demo: smoke test passed"
	exit 0
fi

cat <<EOF

arcsim (pid $simpid) is a local ARC cluster (${simconf#"$src"/}): endpoints
http://127.0.0.1:$sim_base..$((sim_base + 4)), admin interface http://$sim_admin.
arcdnsd (pid $pid) mirrors it and serves ${config#"$src"/} on $host port $port.
Try these in another terminal:

EOF
while IFS='|' read -r want what args pattern; do
	printf '  # %s\n  dig @%s -p %s %s\n\n' "$what" "$host" "$port" "$args"
done < <(demo_queries)
cat <<EOF
Now fail over: watch the answers in one terminal,

  watch -n 0.5 'dig @$host -p $port +short api.svc.example.internal; dig @$host -p $port +short us-east-1.role.svc.example.internal TXT'

and turn route-us-east-1 Off through ARC's API (the AWS SDK, against
arcsim's $flip_region endpoint) in another; within a second api answers
us-west-2's address and the role TXT records swap:

  $(flip_cmd Off)

Back to us-east-1:

  $(flip_cmd On)

(Turning both regions Off is refused: conf/sim.yaml's safety rule
at-least-one-region answers ConflictException, as ARC would.)

Or with arcdnsctl, the operator's tool (the same ARC client as the daemon,
one UpdateRoutingControlStates call for both controls):

  export AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY='$secret'
  $ctl -c ${config#"$src"/} arc failover --from east --to west
  $ctl -c ${config#"$src"/} controls
  $ctl -c ${config#"$src"/} what-if east=on west=off
  $ctl -c ${config#"$src"/} arc failover --from west --to east

The HTTP health responder answers load balancers and workloads:

  curl -s http://127.0.0.1:8053/readyz
  curl -s http://127.0.0.1:8053/v1/role/us-east-1
  curl -s http://127.0.0.1:8053/v1/state
  curl -s http://127.0.0.1:8053/metrics | grep arcdns_control_state

The SOA serial moves forward on each flip; \`dig CH TXT state.arcdns\` shows
the mirror. An ARC endpoint failing changes nothing (the other four answer):

  curl -X PUT -d '{"mode": "down"}' http://$sim_admin/endpoints/0/fault
  curl -X POST http://$sim_admin/reset

Press Ctrl-C to stop both.
EOF

wait "$pid" && rc=0 || rc=$?
pid=
echo "demo: arcdnsd exited with status $rc"
exit "$rc"
