#!/usr/bin/python3
"""t_unbound.py -- a real unbound resolves the ARC-driven names of arcdnsd.

arcsim (plain HTTP) and an arcdnsd mirroring it (poll-interval 250ms) serve
svc.example.internal. with ARC-driven records whose zone ttl is 1 s. Two
unbound resolvers (/usr/sbin/unbound -d, own config and folder, loopback,
an ephemeral port, no chroot, no remote control, no root hints, module
"iterator" only, do-not-query-localhost: no, domain-insecure for the zone)
send the zone to arcdnsd, one through a stub-zone, one through a
forward-zone:

  - each resolves the ARC-driven name (api A), the role TXT and a static
    name, with the zone block's ttl on the ARC-driven answer;
  - after a flip through arcsim (boto3), once arcdnsd answers the new
    value, each resolver gives the new answer within the ttl (plus
    one second of unbound's clock, plus slack): it cached the old one for
    at most the ttl; and back.

SKIPs only when /usr/sbin/unbound is absent.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import bound  # noqa: E402
from peers import (API, EAST_ARN, EAST_IP, ORIGIN, ROLE_EAST, ROLE_WEST,  # noqa: E402
                   WEST_IP, WWW_IP, ArcZone, Unbound, flip, wait_for)
from simharness import ArcSim, run_sim  # noqa: E402

TTL = 1             # s: the zone block's ttl (ARC-driven answers)
CLOCK = 1.0         # s: unbound's cache clock counts whole seconds, so an
                    # answer with ttl n may be served up to n + 1 s
SLACK = 2.0         # s: scheduling on a loaded machine
FOLLOW = 10.0       # s: flip -> arcdnsd answers the new value (poll 250ms)


def check_resolves(t, u, label):
    m = u.ask(API, "A")
    got = m.texts("answer", "A") if m is not None and m.rcode == 0 else m
    t.is_(got, [EAST_IP], "%s: api A resolves to %s" % (label, EAST_IP),
          m.summary() if m is not None else "no reply")
    ttls = [rr.ttl for rr in m.rrs("answer", "A")] if m is not None else []
    t.ok(ttls and max(ttls) <= TTL, "%s: with the zone block's ttl (%s <= %d)" % (
        label, ttls, TTL))
    t.ok(m is not None and m.ra and not m.aa,
         "%s: the answer comes from the resolver (RA, no AA)" % label,
         m.summary() if m is not None else "no reply")
    t.is_(u.resolve("www." + ORIGIN), [WWW_IP], "%s: a static name resolves" % label)
    t.is_(u.resolve(ROLE_EAST, "TXT"), ['"active"'], "%s: role TXT us-east-1 active" % label)
    t.is_(u.resolve(ROLE_WEST, "TXT"), ['"passive"'], "%s: role TXT us-west-2 passive" % label)


def follow(resolvers, ip, limit):
    """Poll every resolver until it answers [ip]: {resolver: seconds or
    None after limit}, measured from now for each of them."""
    t0 = time.monotonic()
    took = {u: None for u in resolvers}
    deadline = t0 + bound(limit)
    while True:
        for u in resolvers:
            if took[u] is None and u.resolve() == [ip]:
                took[u] = time.monotonic() - t0
        if all(v is not None for v in took.values()) or time.monotonic() >= deadline:
            return took
        time.sleep(0.05)


def main(t):
    if not Unbound.available():
        t._emit("1..0 # SKIP %s not installed (apt-get install unbound)" % Unbound.BINARY)
        t.finished = True
        return
    sim = ArcSim(t, plain=True, name="unbound").start()
    d = ArcZone(t, sim, ttl=TTL, poll_ms=250, name="unbound").start()
    t.ok(d.wait_mirrored(EAST_IP), "arcdnsd mirrors arcsim: api A %s" % EAST_IP,
         "api %r" % d.api())
    resolvers = [Unbound(t, d.port, mode="stub").start(),
                 Unbound(t, d.port, mode="forward").start()]
    for u in resolvers:
        check_resolves(t, u, "%s-zone" % u.mode)

    for state, ip, active in (("Off", WEST_IP, ROLE_WEST), ("On", EAST_IP, ROLE_EAST)):
        # every resolver holds the old answer in its cache
        for u in resolvers:
            u.resolve()
        flip(sim, EAST_ARN, state)
        got, took = wait_for(lambda: d.api() == [ip], FOLLOW, step=0.02)
        t.ok(got, "east %s: arcdnsd answers %s (%.2fs)" % (state, ip, took),
             "api %r" % d.api())
        took = follow(resolvers, ip, TTL + CLOCK + SLACK)
        for u in resolvers:
            t.ok(took[u] is not None, "east %s: %s-zone resolves %s %s after arcdnsd "
                 "(ttl %d s)" % (state, u.mode, ip, "%.2fs" % took[u] if took[u] is not None
                                 else "not within %.1fs" % (TTL + CLOCK + SLACK), TTL),
                 "resolves %r" % u.resolve())
        for u in resolvers:
            got, _ = wait_for(lambda: u.resolve(active, "TXT") == ['"active"'],
                              TTL + CLOCK + SLACK, step=0.05)
            t.ok(got, "east %s: %s-zone: %s is active" % (state, u.mode, active.split(".")[0]))
    for u in resolvers:
        t.ok(u.alive(), "%s-zone unbound still runs" % u.mode)
        u.stop()
    d.stop_checked()
    sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=120)
