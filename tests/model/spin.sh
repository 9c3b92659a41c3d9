#!/bin/sh
# spin.sh -- check tests/model/fence.pml (the fence state machine) with
# spin: the model must hold, and a mutant that publishes a moving writer
# at once must be caught. TAP; SKIP without spin or a C compiler.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/arcdns-spin.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
cc=${CC_FOR_SPIN:-cc}

echo "1..2"
if ! command -v spin >/dev/null 2>&1 || ! command -v "$cc" >/dev/null 2>&1; then
	echo "ok 1 # SKIP spin or $cc not installed (Debian package spin)"
	echo "ok 2 # SKIP spin or $cc not installed"
	exit 0
fi
cp "$here/fence.pml" "$work/"

# run NAME [spin -D flags]: prints pan's "errors: N" line
run() {
	name=$1
	shift
	mkdir "$work/$name"
	(cd "$work/$name" && spin "$@" -a ../fence.pml >spin.out 2>&1 &&
	    "$cc" -O2 -DSAFETY -o pan pan.c >cc.out 2>&1 &&
	    ./pan -m200000 >pan.out 2>&1)
	grep -o 'errors: [0-9]*' "$work/$name/pan.out" 2>/dev/null || echo "errors: ?"
}

res=$(run model)
states=$(grep -o '[0-9]* states, stored' "$work/model/pan.out" 2>/dev/null | head -1)
if [ "$res" = "errors: 0" ] && ! grep -q 'Search not completed' "$work/model/pan.out"; then
	echo "ok 1 - fence.pml: the invariants hold in every state ($states)"
else
	echo "not ok 1 - fence.pml: $res"
	sed 's/^/# /' "$work/model/pan.out" "$work/model/spin.out" 2>/dev/null
fi
res=$(run mutant -DBUG_NO_FENCE)
if [ "$res" != "errors: 0" ] && [ "$res" != "errors: ?" ]; then
	echo "ok 2 - the mutant that publishes without fencing is caught ($res)"
else
	echo "not ok 2 - the mutant was not caught: $res"
	sed 's/^/# /' "$work/mutant/pan.out" "$work/mutant/spin.out" 2>/dev/null
fi
