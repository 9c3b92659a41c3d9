#!/usr/bin/python3
"""t_policy_state.py -- CHAOS TXT state.arcdns, and the ARC endpoints failing.

arcsim and arcdnsd (tests/data/policy.yaml.in, poll-interval 250ms,
server.chaos-clients ["127.0.0.1/32"]). Checks:

  - every ARC endpoint down from the start: ARC-driven names SERVFAIL,
    static names answer; state.arcdns lists every control as unknown and
    the mirror as never polled;
  - endpoints back: one string per control "NAME On|Off|unknown age=Ns
    endpoint=REGION" with arcsim's states (the control arcsim lacks stays
    unknown), "mirror fresh last-success=...", "hash=<12 hex>";
  - a second arcdnsd mirroring the same arcsim shows the same hash; after a
    flip both show the new state and again one hash, which differs from
    the first; flipping back gives the first hash again (it covers names
    and states only);
  - every endpoint failing: the mirror is reported stale, the states and
    the hash stay, the answers too; recovery: fresh again;
  - a client outside chaos-clients (127.0.0.2) gets REFUSED; dig shows the
    strings to 127.0.0.1;
  - a restart while every endpoint is down serves the last known answers
    (state file), shows them and the same hash, then stale; fresh once the
    endpoints are back.
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from policyharness import (DEF_SRC, FOLLOW, POLL_MS, STATIC, VPC_SRC, PolicyDaemon,  # noqa: E402
                           PolicySim, converge, expected, parse_state, set_credentials,
                           summary, wait_for)
from simharness import REGIONS, run_sim  # noqa: E402

NAMES = ("east", "west", "eu", "ghost")
STALE = (3 * POLL_MS + 500) / 1000.0     # default stale-after: 3 polls + timeout


def state_of(d):
    rc, strings = d.state_strings()
    doc = parse_state(strings)
    doc["rcode"] = rc
    doc["strings"] = strings
    return doc


def shows(d, states, mirror="fresh"):
    """state.arcdns of d when it shows states (unknown for the rest) and
    the mirror word, else None."""
    doc = state_of(d)
    if doc["rcode"] != "NOERROR" or (mirror and (doc["mirror"] or ("",))[0] != mirror):
        return None
    for n in NAMES:
        got = doc["controls"].get(n, ("missing",))[0]
        if got != states.get(n, "unknown"):
            return None
    return doc


def check_format(t, doc, label):
    strings = doc["strings"]
    t.is_(len(strings), len(NAMES) + 2, "%s: one string per control, mirror, hash" % label,
          strings)
    for n in NAMES:
        st, rest = doc["controls"].get(n, (None, ""))
        if st == "unknown":
            t.ok(st is not None, "%s: %s unknown" % (label, n), strings)
            continue
        m = re.match(r"age=(\d+(?:\.\d+)?)s endpoint=(\S+)$", rest)
        t.ok(m and m.group(2) in REGIONS,
             "%s: %s %s age=Ns endpoint=<region>" % (label, n, st), strings)
    word, rest = doc["mirror"] or (None, "")
    t.ok(word in ("fresh", "stale", "never") and
         (word == "never" or re.match(r"last-success=\d+(\.\d+)?s", rest)),
         "%s: mirror %s %s" % (label, word, rest), strings)
    t.ok(doc["hash"] is not None and len(doc["hash"]) == 12,
         "%s: hash=<12 hex> (%s)" % (label, doc["hash"]), strings)


def check_restart_outage(t, sim, d, want, h1):
    """A restart while every endpoint is down: the last known state (state
    file) is served, not SERVFAIL; state.arcdns shows it."""
    d.signal(signal.SIGTERM)
    t.is_(d.wait_exit(10), 0, "restart during an ARC outage: clean stop")
    for i in range(5):
        sim.fault(i, "down")
    d.start()
    converge(t, d, want, "restart during an ARC outage: the last known answers are served",
             limit=1.0)
    doc = state_of(d)
    t.ok(shows(d, want, mirror=None) is not None and doc["mirror"] and
         doc["mirror"][0] in ("fresh", "stale") and doc["hash"] == h1,
         "restart during an ARC outage: state.arcdns shows the last known states, "
         "the same hash, mirror %s" % (doc["mirror"] and doc["mirror"][0]), doc["strings"])
    doc, took = wait_for(lambda: shows(d, want, mirror="stale"), STALE + FOLLOW + 1.0)
    t.ok(doc is not None, "... and marks the mirror stale (%.2fs)" % took,
         state_of(d)["strings"])
    sim.reset()
    doc, took = wait_for(lambda: shows(d, want, mirror="fresh"), FOLLOW + 2.0)
    t.ok(doc is not None, "endpoints back after the restart: fresh (%.2fs)" % took,
         state_of(d)["strings"])


def main(t):
    set_credentials()
    sim = PolicySim(t).start()
    for i in range(5):
        sim.fault(i, "down")
    d1 = PolicyDaemon(t, sim, name="state1", identity="arcdns-one").start()
    d2 = None
    try:
        # every endpoint down from the start: no state at all
        doc, _ = wait_for(lambda: shows(d1, {}, mirror="never"), 2 * FOLLOW)
        t.ok(doc is not None, "endpoints down from the start: every control unknown, "
             "mirror never", state_of(d1)["strings"])
        if doc:
            check_format(t, doc, "no state")
        got = d1.observe(expected({}))
        bad = {k: v for k, v in got.items() if v[0] != "SERVFAIL"}
        t.ok(not bad, "endpoints down from the start: every ARC-driven name SERVFAIL "
             "(%d answers)" % len(got), repr(bad))
        for (name, qt), (texts, _) in sorted(STATIC.items()):
            t.is_(summary(d1.ask("default", name, qt)), ("NOERROR", texts),
                  "endpoints down from the start: static %s %s answers" % (name, qt))

        # endpoints back
        sim.reset()
        want = sim.states()
        t0 = time.monotonic()
        converge(t, d1, want, "endpoints back: the answers", t0=t0, limit=FOLLOW + 2.0)
        doc, _ = wait_for(lambda: shows(d1, want), FOLLOW + 2.0 - (time.monotonic() - t0))
        t.ok(doc is not None, "endpoints back: state.arcdns shows arcsim's states "
             "(%.2fs)" % (time.monotonic() - t0), state_of(d1)["strings"])
        if doc:
            check_format(t, doc, "fresh")
        h1 = state_of(d1)["hash"]
        t.ok(h1 is not None, "the first hash: %s" % h1)
        t_back = time.monotonic()

        # a second daemon: the same hash
        d2 = PolicyDaemon(t, sim, name="state2", identity="arcdns-two").start()
        doc2, took = wait_for(lambda: shows(d2, want), FOLLOW + 2.0)
        t.ok(doc2 is not None, "second arcdnsd: shows the same states (%.2fs)" % took)
        t.ok(doc2 is not None and h1 is not None and doc2["hash"] == h1,
             "two arcdnsd mirroring one arcsim: the same hash (%s)" % h1,
             doc2 and doc2["strings"])

        # a flip: both follow, one hash, another than before
        t0 = sim.set("east", "Off")
        want = sim.states()
        for d in (d1, d2):
            doc, took = wait_for(lambda: shows(d, want), FOLLOW)
            t.ok(doc is not None, "%s: east Off shown within %.2fs (%.3fs)" % (
                d.identity, FOLLOW, time.monotonic() - t0), state_of(d)["strings"])
            age = re.match(r"age=(\d+(?:\.\d+)?)s", doc["controls"]["east"][1]) if doc else None
            t.ok(age and float(age.group(1)) <= FOLLOW + 1.0,
                 "%s: east's age is the time since the flip (%s)" % (
                     d.identity, age.group(1) if age else None))
        ha, hb = state_of(d1)["hash"], state_of(d2)["hash"]
        t.ok(ha is not None and ha == hb and ha != h1, "after the flip: one hash for both (%s), not the "
             "first (%s)" % (ha, h1), "%s vs %s" % (ha, hb))
        sim.set("east", "On")
        want = sim.states()
        for d in (d1, d2):
            doc, _ = wait_for(lambda: shows(d, want), FOLLOW)
            t.ok(doc is not None and h1 is not None and doc["hash"] == h1,
                 "%s: east On again: the first hash again" % d.identity,
                 doc and doc["strings"])

        # eu has not changed since the endpoints came back: its age grows
        # (observed at least 2.5 s after that, 10 polls)
        wait_for(lambda: time.monotonic() - t_back >= 2.5, 3.0, step=0.05)
        doc = state_of(d1)
        since = time.monotonic() - t_back
        age = re.match(r"age=(\d+(?:\.\d+)?)s", doc["controls"].get("eu", ("", ""))[1])
        t.ok(age and float(age.group(1)) >= since - 1.0,
             "an unchanged control's age is the time since its last change: eu age=%s, "
             "%.1fs since the endpoints came back" % (age and age.group(1), since),
             doc["strings"])

        # outside chaos-clients
        m = d1.query("state.arcdns.", "TXT", "CH", src=VPC_SRC)
        t.ok(m is not None and m.rcode_name == "REFUSED" and not m.answer,
             "CH TXT state.arcdns from 127.0.0.2 (not in chaos-clients): REFUSED", m)
        r = d1.dig("-b", VPC_SRC, "state.arcdns", "CH", "TXT")
        if r is not None:
            t.is_(r.status, "REFUSED", "dig -b 127.0.0.2 CH TXT state.arcdns: REFUSED", r)
            r = d1.dig("-b", DEF_SRC, "state.arcdns", "CH", "TXT")
            t.ok(r.status == "NOERROR" and re.search(r'"east On age=', r.text) and
                 re.search(r'"hash=[0-9a-f]{12}\b', r.text),
                 "dig -b 127.0.0.1 CH TXT state.arcdns: east On ... hash=...", r)
        m = d1.query("id.server.", "TXT", "CH", src=VPC_SRC)
        t.ok(m is not None and m.texts("answer", "TXT") == ['"arcdns-one"'],
             "id.server still answers 127.0.0.2", m)

        # every endpoint failing: stale, states kept
        for i in range(5):
            sim.fault(i, "unavailable")
        doc, took = wait_for(lambda: shows(d1, want, mirror="stale"), STALE + FOLLOW + 1.0)
        t.ok(doc is not None, "every endpoint failing: mirror stale, states kept (%.2fs)" % took,
             state_of(d1)["strings"])
        t.ok(doc is not None and h1 is not None and doc["hash"] == h1,
             "stale: the hash is unchanged", doc and doc["strings"])
        converge(t, d1, want, "stale: the answers stay", limit=0.1)
        sim.reset()
        doc, took = wait_for(lambda: shows(d1, want, mirror="fresh"), FOLLOW + 1.0)
        t.ok(doc is not None, "endpoints back: mirror fresh again (%.2fs)" % took,
             state_of(d1)["strings"])
        t.ok(d1.alive() and d2.alive(), "both arcdnsd ran through every step")
        check_restart_outage(t, sim, d1, want, h1)
    finally:
        if d2 is not None:
            d2.stop()
        d1.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=120)
