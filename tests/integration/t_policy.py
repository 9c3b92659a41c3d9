#!/usr/bin/python3
"""t_policy.py -- ARC-driven answers follow routing-control flips in arcsim.

arcsim (three region controls) and arcdnsd (tests/data/policy.yaml.in,
poll-interval 250ms) on loopback; policyharness.py holds the model of every
ARC-driven answer. Checks:

  - before any mirror state (arcdnsd started while arcsim is not up yet):
    every ARC-driven name answers SERVFAIL (every type for the CNAME
    name), static names answer normally; once arcsim is up, the answers
    appear;
  - answers carry AA and the zone block's ttl (7 in the default view, 3 in
    the vpc view), static names their zone-file TTLs;
  - a flip sequence through arcsim's API (boto3 on each endpoint in turn):
    eu On (multivalue adds its values, a duplicate once), east Off
    (failover to the second target, CNAME failover, role TXT swaps, a
    failover that needs a control arcsim does not have answers SERVFAIL),
    eu Off (multivalue removes it), west Off (none On: when-none-on first,
    servfail, nodata with the SOA in authority), west On, east On; each
    flip visible within poll-interval + 1 s in both views, timed;
  - the two views (dig -b 127.0.0.2 vs -b 127.0.0.1) give different
    answers for api and both follow each flip;
  - arcdnsd -t refuses a static record at an ARC-driven name and a target
    naming an unknown control.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_check  # noqa: E402
from policyharness import (DEF_SRC, FOLLOW, NEG_TTL, ORIGIN, STATIC, TTL, VPC_SRC,  # noqa: E402
                           PolicyDaemon, PolicySim, converge, expected, fq,
                           set_credentials, summary)
from simharness import free_port_block, run_sim  # noqa: E402

TIMES = []      # (label, seconds) of every flip, for the summary


def check_static(t, d, label):
    for view in ("default", "vpc"):
        for (name, qt), (texts, ttl) in sorted(STATIC.items()):
            m = d.ask(view, name, qt)
            t.ok(m is not None and summary(m) == ("NOERROR", texts) and m.aa and
                 all(rr.ttl == ttl for rr in m.answer),
                 "%s: static %s %s answers (view %s, AA, TTL %d)" % (label, name, qt, view, ttl), m)
    m = d.ask("default", ORIGIN, "SOA")
    t.ok(m is not None and m.rcode == 0 and len(m.rrs("answer", "SOA")) == 1,
         "%s: the SOA answers" % label, m)
    m = d.ask("default", "nope", "A")
    t.ok(m is not None and m.rcode_name == "NXDOMAIN" and len(m.rrs("authority", "SOA")) == 1,
         "%s: a name that does not exist is NXDOMAIN with the SOA" % label, m)


def check_unknown_first(t, sim):
    """arcdnsd up before arcsim: SERVFAIL for ARC-driven names, static ok."""
    d = None
    for _ in range(8):
        sim.base = free_port_block()
        d = PolicyDaemon(t, sim).start()
        if not sim.base <= d.port < sim.base + 6:
            break
        d.stop()        # arcdnsd took a port of arcsim's block: again
    want = expected({})
    got = d.observe(want)
    for k in sorted(want):
        t.is_(got[k], ("SERVFAIL", ()), "no mirror state yet: %s %s (view %s) SERVFAIL"
              % (k[1], k[2], k[0]))
    check_static(t, d, "no mirror state yet")
    sim.start(keep_ports=True)
    t0 = time.monotonic()
    took = converge(t, d, sim.states(), "arcsim comes up: the answers appear", t0=t0,
                    limit=FOLLOW + 2.0)
    TIMES.append(("first state after arcsim came up", took))
    return d


def check_ttl_aa(t, d):
    """AA and the zone block's ttl on every ARC-driven answer RR (the static
    RRs of a chain keep their zone-file TTLs)."""
    static_ttl = {fq(name): ttl for (name, _), (_, ttl) in STATIC.items()}
    for k in sorted(expected({"east": "On", "west": "On", "eu": "Off"})):
        view, name, qt = k
        m = d.ask(view, name, qt)
        if m is None or m.rcode != 0:
            t.ok(False, "TTL/AA: %s %s (view %s) answers" % (name, qt, view), m)
            continue
        ttls = [(rr.ttl, static_ttl.get(rr.name.lower(), TTL[view])) for rr in m.answer]
        t.ok(m.aa and m.answer and all(a == b for a, b in ttls),
             "%s %s (view %s): AA, ttl %d on the ARC-driven RRs" % (name, qt, view, TTL[view]), m)


def check_views(t, d, label, want_default, want_vpc):
    """dig -b 127.0.0.1 and -b 127.0.0.2 on api A."""
    for src, want in ((DEF_SRC, want_default), (VPC_SRC, want_vpc)):
        r = d.dig("-b", src, fq("api"), "A")
        if r is None:
            t.skip("%s: dig -b %s api A" % (label, src), "dig is not installed")
            continue
        got = sorted(rr.rdata for rr in r.rrs("answer", "A"))
        t.ok(r.status == "NOERROR" and "aa" in r.flags and got == sorted(want),
             "%s: dig -b %s api A -> %s" % (label, src, " ".join(sorted(want))), r)


def flip(t, sim, d, control, state, label):
    t0 = sim.set(control, state)
    took = converge(t, d, sim.states(), label, t0=t0)
    TIMES.append((label, took))
    return took


def check_nodata(t, d, name):
    m = d.ask("default", name, "A")
    soa = m.rrs("authority", "SOA") if m else []
    t.ok(m is not None and m.rcode == 0 and m.aa and not m.answer and len(soa) == 1 and
         soa[0].name.lower() == ORIGIN and soa[0].ttl == NEG_TTL,
         "when-none-on nodata: %s A is NOERROR, AA, no answer, SOA (TTL %d) in authority"
         % (name, NEG_TTL), m)


def check_flips(t, sim, d):
    check_views(t, d, "east On", ["10.0.1.10", "10.0.1.11"], ["10.50.1.10"])

    flip(t, sim, d, "eu", "On", "eu On: multivalue adds eu")
    m = d.ask("default", "mv", "A")
    t.is_(summary(m)[1], ("A 10.0.4.10", "A 10.1.4.10", "A 10.2.4.10", "A 10.9.4.99"),
          "multivalue: every On target's values, the duplicate once")

    flip(t, sim, d, "east", "Off", "east Off: failover to west")
    m = d.ask("default", "api", "A")
    t.is_(summary(m), ("NOERROR", ("A 10.1.1.10",)), "failover: api A is west's value")
    m = d.ask("default", "www", "A")
    t.is_(summary(m), ("NOERROR", ("CNAME west-lb.example.net.",)),
          "CNAME failover: www is west-lb.example.net.")
    t.is_(summary(d.ask("default", "us-east-1.role", "TXT"))[1], ('TXT "passive"',),
          "role: us-east-1 passive")
    t.is_(summary(d.ask("default", "us-west-2.role", "TXT"))[1], ('TXT "active"',),
          "role: us-west-2 active")
    t.is_(summary(d.ask("default", "gh", "A"))[0], "SERVFAIL",
          "failover needing a control arcsim does not list: SERVFAIL")
    check_views(t, d, "east Off", ["10.1.1.10"], ["10.51.1.10"])

    flip(t, sim, d, "eu", "Off", "eu Off: multivalue removes eu")
    t.is_(summary(d.ask("default", "mv", "A"))[1], ("A 10.1.4.10", "A 10.9.4.99"),
          "multivalue: an Off target's values are gone")

    flip(t, sim, d, "west", "Off", "west Off: none On")
    t.is_(summary(d.ask("default", "api", "A")), ("NOERROR", ("A 10.0.1.10", "A 10.0.1.11")),
          "when-none-on first (default): failover gives the first target's values")
    t.is_(summary(d.ask("default", "mv", "A")), ("NOERROR", ("A 10.0.4.10", "A 10.9.4.99")),
          "when-none-on first: multivalue gives the first target's values")
    t.is_(summary(d.ask("default", "sf", "A"))[0], "SERVFAIL", "when-none-on servfail: SERVFAIL")
    t.is_(summary(d.ask("default", "mvs", "A"))[0], "SERVFAIL",
          "when-none-on servfail (multivalue): SERVFAIL")
    check_nodata(t, d, "nd")
    check_nodata(t, d, "mvn.deep")
    t.is_(summary(d.ask("vpc", "us-east-1.role", "TXT"))[1], ('TXT "active"',),
          "role, none On: the first region is active")
    check_views(t, d, "none On", ["10.0.1.10", "10.0.1.11"], ["10.50.1.10"])

    flip(t, sim, d, "west", "On", "west On: west again")
    check_views(t, d, "west On", ["10.1.1.10"], ["10.51.1.10"])
    flip(t, sim, d, "east", "On", "east On: back to east")
    check_views(t, d, "east On again", ["10.0.1.10", "10.0.1.11"], ["10.50.1.10"])
    want = expected(sim.states())
    got = {k: summary(d.ask(*k, tcp=True)) for k in want}
    t.is_(got, want, "over TCP: every ARC-driven answer, both views")
    t.ok(d.alive(), "arcdnsd ran through every flip")


def check_config_errors(t, d):
    """arcdnsd -t: a static record at an ARC-driven name; an unknown control."""
    with open(d.conf) as f:
        conf = f.read()
    zone = os.path.join(d.dir, "policy.svc.test.zone")
    with open(zone) as f:
        ztext = f.read()
    clash = os.path.join(d.dir, "clash.zone")
    with open(clash, "w") as f:
        f.write(ztext + "api\t300\tIN\tA\t192.0.2.99\n")
    path = os.path.join(d.dir, "clash.yaml")
    with open(path, "w") as f:
        f.write(conf.replace("file: policy.svc.test.zone", "file: clash.zone", 1))
    rc, out, err = run_check(path)
    t.ok(rc == 1 and re.search(r"api", err), "arcdnsd -t: a static record at an ARC-driven "
         "name is an error", "status %s\nstdout %s\nstderr %s" % (rc, out, err))
    path = os.path.join(d.dir, "unknown.yaml")
    with open(path, "w") as f:
        f.write(conf.replace("{ control: west, values: [10.1.2.10] }",
                             "{ control: nosuch, values: [10.1.2.10] }"))
    rc, out, err = run_check(path)
    t.ok(rc == 1 and re.search(r"nosuch", err) and re.search(r"unknown\.yaml:\d+:\d+:", err),
         "arcdnsd -t: a target naming an unknown control is an error (file:line:column)",
         "status %s\nstdout %s\nstderr %s" % (rc, out, err))
    rc, out, err = run_check(d.conf)
    t.is_(rc, 0, "arcdnsd -t accepts the test's own config", err)


def main(t):
    set_credentials()
    sim = PolicySim(t)
    d = None
    try:
        d = check_unknown_first(t, sim)
        check_ttl_aa(t, d)
        check_static(t, d, "with mirror state")
        check_flips(t, sim, d)
        check_config_errors(t, d)
        t.diag("flip -> every answer served (poll-interval 250ms):")
        for label, took in TIMES:
            t.diag("  %-40s %s" % (label, "%.3fs" % took if took is not None else "not seen"))
        seen = [x for _, x in TIMES[1:] if x is not None]
        if seen:
            t.diag("  flips: max %.3fs, mean %.3fs" % (max(seen), sum(seen) / len(seen)))
    finally:
        if d is not None:
            d.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=120)
