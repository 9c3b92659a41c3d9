#!/bin/bash
# Install the packages bench/run.sh needs, and only those that are missing.
#   dnsperf            load generator
#   nsd knot gdnsd     the peer servers
#   util-linux         taskset
#   knot-dnsutils      kdig (the pre-measurement answer check)
# Run as root (or with sudo).  Package installs may auto-start the packaged
# daemons on port 53 when an init system is present; bench/run.sh never uses
# those (it starts each binary itself, in the foreground, on its own port),
# and this script stops only a daemon that the install itself just started.
set -eu

PKGS="dnsperf nsd knot gdnsd util-linux knot-dnsutils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all present ($PKGS)"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi

# PIDs of the packaged daemons before the install, so that we only stop
# what the install started.
daemon_pids() {
	for n in nsd knotd gdnsd; do
		pgrep -x "$n" 2>/dev/null || true
	done | sort -n
}
before=$(daemon_pids)

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# policy-rc.d 101 keeps invoke-rc.d from starting services during the install
# where sysvinit/systemd would; we only add it if none exists.
prc=/usr/sbin/policy-rc.d
added_prc=0
if [ ! -e "$prc" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$prc" >/dev/null
	$SUDO chmod 755 "$prc"
	added_prc=1
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing || rc=$?
if [ "$added_prc" = 1 ]; then
	$SUDO rm -f "$prc"
fi
[ "$rc" = 0 ] || exit "$rc"

# Stop any daemon that appeared during the install and holds port 53.
after=$(daemon_pids)
for pid in $(comm -13 <(echo "$before") <(echo "$after")); do
	[ -n "$pid" ] || continue
	if command -v ss >/dev/null 2>&1 && ! ss -lnup 2>/dev/null | grep -q "pid=$pid,"; then
		continue
	fi
	echo "install-deps: stopping packaged daemon started by the install (pid $pid)"
	$SUDO kill "$pid" 2>/dev/null || true
done
echo "install-deps: done"
