#!/bin/bash
# install-deps.sh -- install the Debian packages in scripts/deps.txt that are
# not installed yet.
#
# Usage: scripts/install-deps.sh [--list] [--missing]
#   (no option)  install what is missing (apt-get update once, then install)
#   --list       print every package of deps.txt, one a line, and exit
#   --missing    print the packages that are not installed yet, and exit
#
# Runs as root or through sudo (only when not root). Does nothing, and needs
# no privileges, when everything is installed already. Non-interactive.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deps_file="$here/deps.txt"

list_deps() {
	sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$deps_file" | sed '/^$/d'
}

is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) ||
		return 1
	[ "$status" = installed ]
}

list_missing() {
	local pkg
	for pkg in $(list_deps); do
		is_installed "$pkg" || echo "$pkg"
	done
}

case "${1:-}" in
--list)
	list_deps
	exit 0
	;;
--missing)
	list_missing
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--list | --missing]" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: this script needs a Debian system (dpkg, apt-get)" >&2
	exit 1
fi

mapfile -t missing < <(list_missing)
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all $(list_deps | wc -l) packages of scripts/deps.txt are installed"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: not root and no sudo; as root, run:" >&2
		echo "  apt-get update && apt-get install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

# Packages of deps.txt that ship a service, with their systemd units: DNS
# servers (the tests start these daemons themselves, on loopback ports) and
# the prometheus server (only its promtool is used), and PostgreSQL (the
# fence tests run their own servers as the postgres user).
service_units() {
	case "$1" in
	nsd) echo nsd.service ;;
	knot) echo knot.service ;;
	unbound) echo unbound.service unbound-resolvconf.service ;;
	prometheus) echo prometheus.service ;;
	postgresql) echo postgresql.service ;;
	esac
}
# Their daemons' process names. A packaged service runs detached (its
# parent is init); the test peers run in the foreground under a test, and
# other people's tests may be running while this script installs: only
# detached daemons of the packages installed now are ever considered.
service_daemon() {
	case "$1" in
	nsd) echo nsd ;;
	knot) echo knotd ;;
	unbound) echo unbound ;;
	prometheus) echo prometheus ;;
	postgresql) echo postgres ;;
	esac
}
daemon_pids() {
	local n
	for n in "${daemons[@]}"; do
		pgrep -x -P 1 "$n" 2>/dev/null || true
	done | sort -n
}
units=()
daemons=()
for pkg in "${missing[@]}"; do
	# shellcheck disable=SC2207
	units+=($(service_units "$pkg"))
	# shellcheck disable=SC2207
	daemons+=($(service_daemon "$pkg"))
done
pids_before=$(daemon_pids)

# A policy-rc.d that answers 101 keeps invoke-rc.d and deb-systemd-invoke
# from starting the new services (a container usually has one already: then
# it is left as it is). Ours is removed again, whatever happens.
prc=/usr/sbin/policy-rc.d
added_prc=0
remove_prc() {
	if [ "$added_prc" = 1 ]; then
		"${sudo[@]}" rm -f "$prc"
		added_prc=0
	fi
}
trap remove_prc EXIT
if [ "${#units[@]}" -ne 0 ] && [ ! -e "$prc" ]; then
	printf '#!/bin/sh\n# install-deps.sh: start no service during the install\nexit 101\n' |
		"${sudo[@]}" tee "$prc" >/dev/null
	"${sudo[@]}" chmod 755 "$prc"
	added_prc=1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
remove_prc

# Whatever policy-rc.d said: the services of the packages installed just now
# must not run (nor hold port 53), now or after a reboot. Under systemd,
# stop and disable their units; elsewhere, stop a detached daemon of those
# packages that appeared during the install (and only such a one).
if [ "${#units[@]}" -ne 0 ]; then
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		echo "install-deps: stopping and disabling ${units[*]} (the tests need no packaged service)"
		"${sudo[@]}" systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
	fi
	pids_after=$(daemon_pids)
	for pid in $(comm -13 <(echo "$pids_before") <(echo "$pids_after")); do
		echo "install-deps: stopping a packaged daemon the install started" \
			"($(ps -o comm= -p "$pid" 2>/dev/null), pid $pid)"
		"${sudo[@]}" kill "$pid" 2>/dev/null || true
	done
fi

mapfile -t still < <(list_missing)
if [ "${#still[@]}" -ne 0 ]; then
	echo "install-deps: still missing after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: done"
