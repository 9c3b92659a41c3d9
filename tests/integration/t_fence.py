#!/usr/bin/python3
"""t_fence.py -- the single-writer invariant, seen from outside.

arcsim and arcdnsd (tests/data/fence.yaml.in): a fenced writer A record,
east 127.0.0.11 / west 127.0.0.12, with fence, promote and ready-check
hooks that are small scripts written here (test fixtures: arcdnsd runs
them from their argv, never through a shell). A prober asks for the
writer over UDP every 5 ms while east is turned Off and west On through
arcsim's API. Checks:

  - before the flip the writer answers east; at no sample does it answer
    anything but east, NODATA (SOA, TTL 0) or west, in that order: never
    west before the fence hook for east finished, never east again after
    the withdrawal;
  - the hooks ran fence(east) -> promote(west) -> check(west), with the
    ARCDNS_* environment and nothing inherited, and west was published
    after the check succeeded (event log order);
  - a fence hook that keeps failing: the writer stays withdrawn (failed
    closed), state.arcdns says so; nothing is published until the hook
    passes... and only a confirmation lets it go on (checked through the
    daemon's state file after a restart, since the control socket belongs
    to arcdnsctl);
  - kill -9 of arcdnsd while the fence hook runs, then a restart: the
    sequence resumes (the fence hook runs again), the writer is never
    published before it finished, and west is published at the end;
  - stale: withdraw: with every ARC endpoint down the writer is withdrawn
    once the mirror has been stale for stale-lease (nothing fenced), and
    published again when the endpoints are back.
The timeline (flip, withdraw, fence done, promoted, published) is printed
with millisecond times as TAP diagnostics.
"""

import json
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Daemon, bound  # noqa: E402
from policyharness import PolicySim, set_credentials, wait_for  # noqa: E402
from simharness import REGIONS, run_sim  # noqa: E402

HOOK = """#!/bin/sh
# fixture: one line per run, then fail/slow on request
echo "$ARCDNS_ACTION $ARCDNS_TARGET $ARCDNS_REGION $ARCDNS_CONTROL $ARCDNS_FENCE $* ${HOOKDIR:+hookdir} ${HOME:-nohome}" >> "$HOOKDIR/hooks.log"
[ -e "$HOOKDIR/slow-$ARCDNS_ACTION" ] && sleep 1
[ -e "$HOOKDIR/fail-$ARCDNS_ACTION" ] && exit 7
exit 0
"""


class FenceDaemon(Daemon):
    def __init__(self, t, sim, extra=""):
        Daemon.__init__(self, t, "fence.yaml.in", name="fence",
                        vars={"FENCE_EXTRA": extra})
        self.sim = sim

    def render(self, template_text=None):
        eps = "".join('    - { region: %s, url: "%s" }\n' % (REGIONS[i], self.sim.url(i))
                      for i in range(5)).rstrip("\n")
        self.vars.update({"ENDPOINTS": eps})
        return Daemon.render(self, template_text)

    def prepare_hooks(self):
        if self.dir is None:
            self._prepare()
        path = os.path.join(self.dir, "hook")
        with open(path, "w") as f:
            f.write(HOOK)
        os.chmod(path, 0o755)

    def touch(self, name, present=True):
        p = os.path.join(self.dir, name)
        if present:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def hooks(self):
        try:
            with open(os.path.join(self.dir, "hooks.log")) as f:
                return [line.split() for line in f.read().splitlines()]
        except OSError:
            return []

    def events(self):
        out = []
        try:
            with open(os.path.join(self.dir, "state", "events.jsonl")) as f:
                for line in f:
                    o = json.loads(line)
                    if "fence" in o:
                        out.append(o)
        except OSError:
            pass
        return out


def writer(port):
    """One UDP query for writer.fence.test A: "A 1.2.3.4", "NODATA ttl",
    an rcode name, or None on timeout."""
    qid = int(time.monotonic() * 1000) & 0xffff
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + b"\x06writer\x05fence\x04test\x00" + \
        struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(q, ("127.0.0.1", port))
        d = s.recv(4096)
    except OSError:
        return None
    finally:
        s.close()
    rcode = d[3] & 0xf
    an, ns = struct.unpack(">HH", d[6:10])
    if rcode != 0:
        return "rcode %d" % rcode
    if an == 1:
        return "A " + socket.inet_ntoa(d[-4:])
    if an == 0 and ns == 1:
        # the SOA's TTL: after the question (known length) and the owner
        off = 12 + 19 + 4       # header, question (19: writer.fence.test.)
        if d[off] & 0xc0:
            off += 2
        else:
            while d[off]:
                off += d[off] + 1
            off += 1
        ttl = struct.unpack(">I", d[off + 4:off + 8])[0]
        return "NODATA ttl %d" % ttl
    return "an=%d ns=%d" % (an, ns)


def probe(port, until, stop, limit):
    """Ask every 5 ms until stop(answer) or limit seconds: [(t, answer)]
    with answer changes only."""
    samples = []
    last = object()
    deadline = time.monotonic() + bound(limit)
    n = 0
    while time.monotonic() < deadline:
        a = writer(port)
        n += 1
        if a != last:
            samples.append((time.monotonic(), a))
            last = a
        if stop(a):
            break
        time.sleep(0.005)
    return samples, n


def check_order(t, samples, label):
    seen = [a for _, a in samples]
    ok = all(a in ("A 127.0.0.11", "NODATA ttl 0", "A 127.0.0.12") for a in seen)
    t.ok(ok, "%s: only east, NODATA (TTL 0) or west were ever answered" % label, seen)
    order = {"A 127.0.0.11": 0, "NODATA ttl 0": 1, "A 127.0.0.12": 2}
    ranks = [order.get(a, -1) for a in seen]
    t.ok(ranks == sorted(ranks), "%s: east -> withdrawn -> west, never back" % label, seen)


def timeline(t, d, t_flip, samples):
    base = t_flip
    t.diag("timeline (ms after the flip call returned):")
    for ts, a in samples:
        t.diag("  %8.1f  dig: %s" % ((ts - base) * 1000, a))
    for e in d.events():
        t.diag("  %s  %s %s (%s -> %s)" % (e.get("ts"), e.get("event"), e.get("detail", ""),
                                          e.get("from"), e.get("to")))


def main(t):
    set_credentials()
    sim = PolicySim(t, name="fence")
    sim.start()
    d = FenceDaemon(t, sim)
    d.prepare_hooks()
    d.start()
    port = d.port

    # 1. the first selection publishes east without any hook
    got, _ = wait_for(lambda: writer(port) == "A 127.0.0.11" and writer(port), 5)
    t.is_(got, "A 127.0.0.11", "east is the writer at start")
    t.is_(d.hooks(), [], "no hook ran for the first selection")

    # 2. the flip: east Off, west On, probed every 5 ms
    d.touch("slow-fence")                   # a fence that takes a second
    sim.set("west", "On")
    t_flip = sim.set("east", "Off")
    samples, n = probe(port, None, lambda a: a == "A 127.0.0.12", 15)
    timeline(t, d, t_flip, samples)
    t.diag("%d samples" % n)
    t.is_(samples[-1][1] if samples else None, "A 127.0.0.12", "west is published in the end")
    check_order(t, samples, "flip")
    runs = d.hooks()
    t.is_([r[0] for r in runs], ["fence", "promote", "check"], "fence, promote, check in order", runs)
    if len(runs) == 3:
        t.is_(runs[0][1:6], ["127.0.0.11", "us-east-1", "east", "db", "fence-arg"],
              "the fence hook got east's target, region, control, fence and its argv", runs[0])
        t.is_(runs[1][1:3], ["127.0.0.12", "us-west-2"], "promote ran for west", runs[1])
        t.ok(runs[0][-1] == "nohome" and runs[0][-2] == "hookdir",
             "clean environment: HOME not inherited, the fence's env given", runs[0])
    withdrawn = [ts for ts, a in samples if a == "NODATA ttl 0"]
    published = [ts for ts, a in samples if a == "A 127.0.0.12"]
    t.ok(withdrawn and published and published[0] - withdrawn[0] >= 0.9,
         "west came at least the slow fence's second after the withdrawal",
         [(round((w - t_flip) * 1000), round((p - t_flip) * 1000))
          for w, p in zip(withdrawn[:1], published[:1])])
    ev = [e["event"] for e in d.events()]
    want = ["selection moved: writer withdrawn", "fence done", "promoted", "ready: published"]
    idx = [ev.index(w) if w in ev else -1 for w in want]
    t.ok(-1 not in idx and idx == sorted(idx), "event log: withdraw, fence done, promoted, "
         "published, in that order", ev)
    d.touch("slow-fence", False)

    # 3. a fence hook that keeps failing: failed closed, stays withdrawn
    d.touch("fail-fence")
    t_flip = sim.set("east", "On")
    sim.set("west", "Off")
    got, _ = wait_for(lambda: any("failed closed" == e["event"] for e in d.events()), 10)
    t.ok(got, "the failing fence hook failed closed after its retry")
    t.is_(writer(port), "NODATA ttl 0", "the writer stays withdrawn")
    rc, strings = d.query("state.arcdns.", "TXT", "CH").rcode_name, \
        [s.decode() for rr in d.query("state.arcdns.", "TXT", "CH").rrs("answer", "TXT")
         for s in rr.fields]
    t.ok(any(s.startswith("fence db failed-closed") for s in strings),
         "state.arcdns says the fence failed closed", strings)
    fails = [r for r in d.hooks() if r[0] == "fence" and r[1] == "127.0.0.12"]
    t.is_(len(fails), 2, "the fence hook for west ran twice (1 retry)", d.hooks())
    d.touch("fail-fence", False)
    time.sleep(0.3)  # nothing may happen by itself: sample a few times
    t.ok(all(writer(port) == "NODATA ttl 0" for _ in range(20)),
         "a hook that would now pass changes nothing without a confirmation")

    # 4. kill -9 during the fence step, restart: resumes
    d.signal(signal.SIGTERM)
    t.is_(d.wait_exit(10), 0, "SIGTERM: clean stop while failed closed")
    # back to a clean serving state: east On (selected), west Off
    os.unlink(os.path.join(d.dir, "state", "fences.json"))
    d.start()
    port = d.port
    got, _ = wait_for(lambda: writer(port) == "A 127.0.0.11" and writer(port), 5)
    t.is_(got, "A 127.0.0.11", "a fresh fence state serves the selection (east)")
    d.touch("slow-fence")
    before = len(d.hooks())
    sim.set("west", "On")
    sim.set("east", "Off")
    got, _ = wait_for(lambda: len(d.hooks()) > before and d.hooks()[-1][0] == "fence", 5)
    t.ok(got, "the fence hook for east started")
    d.signal(signal.SIGKILL)
    d.wait_exit(10)
    d.touch("slow-fence", False)
    d.start()
    port = d.port
    samples, n = probe(port, None, lambda a: a == "A 127.0.0.12", 15)
    t.is_(samples[-1][1] if samples else None, "A 127.0.0.12", "west published after the restart")
    t.ok(all(a in ("NODATA ttl 0", "A 127.0.0.12", None) for _, a in samples),
         "after the restart: never east, withdrawn until west was cleared",
         [a for _, a in samples])
    runs = d.hooks()[before:]
    t.is_([r[0] for r in runs], ["fence", "fence", "promote", "check"],
          "the fence ran again after the restart, then promote and check", runs)
    t.ok(any(e["event"] == "resumed after a restart" for e in d.events()),
         "the event log says the sequence resumed")
    d.stop()

    # 5. stale: withdraw -- an instance cut off from ARC stops handing out
    # the writer after stale-lease, and serves it again once fresh
    d = FenceDaemon(t, sim, extra="    stale: withdraw\n    stale-lease: 1s")
    d.prepare_hooks()
    d.start()
    port = d.port
    got, _ = wait_for(lambda: writer(port) == "A 127.0.0.12" and writer(port), 5)
    t.is_(got, "A 127.0.0.12", "stale: withdraw: west served while the mirror is fresh")
    t0 = time.monotonic()
    for i in range(5):
        sim.fault(i, "down")
    got, took = wait_for(lambda: writer(port) == "NODATA ttl 0" and writer(port), 10)
    t.is_(got, "NODATA ttl 0", "every ARC endpoint down: the writer is withdrawn")
    # stale after 3 polls + timeout (1.25 s), then the 1 s lease
    t.ok(took is not None and took >= 1.5, "not before the mirror was stale for the lease "
         "(%.2f s after the outage began)" % (time.monotonic() - t0))
    t.is_([r for r in d.hooks() if r[0] == "fence"], [], "nothing was fenced for staleness")
    sim.reset()
    got, _ = wait_for(lambda: writer(port) == "A 127.0.0.12" and writer(port), 10)
    t.is_(got, "A 127.0.0.12", "fresh again: the writer is published again")
    d.stop()
    sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=120)
