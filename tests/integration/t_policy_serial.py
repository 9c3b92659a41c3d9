#!/usr/bin/python3
"""t_policy_serial.py -- SOA serials of zone blocks with ARC-driven records.

arcsim and arcdnsd (tests/data/policy.yaml.in, poll-interval 250ms): the
default view serves zone block svc, the vpc view (source 127.0.0.2) block
svc-vpc, both of origin svc.test. Checks:

  - with nothing changing, the serials stay put over many polls;
  - every flip that changes a block's answers moves its serial forward
    (RFC 1982), and the new serial is served as soon as the new answers
    are; a flip that changes nothing in a block (eu, which only the
    default block's multivalue name uses) leaves that block's serial alone;
  - a restart with the same state-dir and the same ARC state serves the
    same serials, before and after the first poll;
  - a flip while arcdnsd is down: after the start the serials are greater
    than before the stop (monotonic across a restart; state-dir/serials.json
    keeps them);
  - a poll that returns the same states does not move them (observed
    across several polls after each step); nor does SIGHUP with the same
    files, during which no answer changes; SIGHUP after a record's values
    changed serves them and moves that block's serial only;
  - a zone file serial of 2^32 - 1: the serial wraps forward (RFC 1982).
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import DATA_DIR, bound  # noqa: E402
from policyharness import (FOLLOW, POLL_MS, PolicyDaemon, PolicySim, converge,  # noqa: E402
                           expected, serial_gt, set_credentials, wait_for)
from simharness import run_sim  # noqa: E402

VIEWS = ("default", "vpc")
QUIET = 6 * POLL_MS / 1000.0    # observe this long to see "no change"


def serials(d):
    return {v: d.serial(v) for v in VIEWS}


def check_still(t, d, before, label):
    """Query the serials for QUIET seconds: they never differ from before."""
    t0 = time.monotonic()
    seen = set()
    n = 0
    while time.monotonic() - t0 < QUIET:
        s = serials(d)
        seen.add(tuple(sorted(s.items())))
        n += 1
        time.sleep(0.05)
    t.ok(seen == {tuple(sorted(before.items()))},
         "%s: serials unchanged over %.1fs (%d polls, %d reads)" % (
             label, QUIET, int(QUIET * 1000 / POLL_MS), n),
         "before %r, seen %r" % (before, seen))


def flip_and_check(t, sim, d, control, state, moves, label):
    """Flip; when the new answers show, the serials of the views in moves
    have moved forward and the others not; returns the new serials."""
    before = serials(d)
    t0 = sim.set(control, state)
    converge(t, d, sim.states(), label, t0=t0)
    after = serials(d)
    for v in VIEWS:
        if v in moves:
            t.ok(after[v] is not None and serial_gt(after[v], before[v]),
                 "%s: view %s serial moved forward %s -> %s" % (label, v, before[v], after[v]))
        else:
            t.is_(after[v], before[v], "%s: view %s serial unchanged (its answers are)"
                  % (label, v))
    return after


def main(t):
    set_credentials()
    sim = PolicySim(t).start()
    d = PolicyDaemon(t, sim).start()
    try:
        converge(t, d, sim.states(), "first state", limit=FOLLOW + 2.0)
        s0 = serials(d)
        t.ok(all(isinstance(x, int) for x in s0.values()), "SOA serials are served: %r" % s0)
        check_still(t, d, s0, "no change")

        s = flip_and_check(t, sim, d, "east", "Off", VIEWS, "east Off")
        check_still(t, d, s, "after east Off")
        s = flip_and_check(t, sim, d, "eu", "On", ("default",), "eu On (default block only)")
        s = flip_and_check(t, sim, d, "east", "On", VIEWS, "east On")
        s = flip_and_check(t, sim, d, "eu", "Off", ("default",), "eu Off (default block only)")
        for i in range(3):
            s = flip_and_check(t, sim, d, "east", "Off", VIEWS, "east Off #%d" % (i + 2))
            s = flip_and_check(t, sim, d, "east", "On", VIEWS, "east On #%d" % (i + 2))
        check_still(t, d, s, "after the flips")
        path = os.path.join(d.state_dir, "serials.json")
        t.ok(os.path.exists(path), "state-dir/serials.json exists")

        # restart with the same state
        d.signal(signal.SIGTERM)
        t.is_(d.wait_exit(10), 0, "SIGTERM: clean stop")
        d.start()
        early = serials(d)
        t.is_(early, s, "restart, same state: the same serials right after ready")
        converge(t, d, sim.states(), "restart, same state: answers")
        check_still(t, d, s, "restart, same state, polling")

        # a flip while arcdnsd is down
        d.signal(signal.SIGTERM)
        t.is_(d.wait_exit(10), 0, "SIGTERM: clean stop")
        sim.set("east", "Off")
        d.start()
        converge(t, d, sim.states(), "restart after a flip while down: new answers",
                 limit=FOLLOW + 1.0)
        after, _ = wait_for(lambda: (lambda x: x if all(
            x[v] is not None and serial_gt(x[v], s[v]) for v in VIEWS) else None)(serials(d)),
            FOLLOW)
        t.ok(after is not None, "restart after a flip while down: serials moved forward "
             "(%r -> %r)" % (s, after or serials(d)))
        if after:
            check_still(t, d, after, "after that restart")
            s = after

        # every serial served so far, in order, was monotonic: one more flip
        s = flip_and_check(t, sim, d, "east", "On", VIEWS, "east On after the restarts")

        # SIGHUP with the same files: no answer goes through SERVFAIL, the
        # serials stay
        check_reload(t, sim, d, s)
        check_reload_changed(t, sim, d, s)
        t.ok(d.alive(), "arcdnsd ran through every step")
        d.stop()
        check_wrap(t, sim)
    finally:
        d.stop()
        sim.stop()


def check_reload(t, sim, d, s):
    want = expected(sim.states())
    mark = len(d.log_text())
    d.signal(signal.SIGHUP)
    seen = set()
    t0 = time.monotonic()
    line = None
    while time.monotonic() - t0 < bound(10):
        for k, v in d.observe([("default", "api", "A"), ("vpc", "api", "A")]).items():
            if v != want[k]:
                seen.add((k, v))
        line = d.wait_log(r"reloaded|reload failed", 0, start_at=mark)
        if line:
            break
    t.ok(line is not None and "reloaded" in line, "SIGHUP: reloaded", line)
    got = d.observe(want)
    for k, v in got.items():
        if v != want[k]:
            seen.add((k, v))
    t.ok(not seen, "SIGHUP: the answers never changed during the reload", repr(seen))
    check_still(t, d, s, "after SIGHUP")


def check_reload_changed(t, sim, d, s):
    """SIGHUP after the default block's api values changed in the config:
    the new values are served, that block's serial moves forward, the vpc
    block's (unchanged) does not."""
    with open(d.conf) as f:
        conf = f.read()
    new = conf.replace("values: [10.0.1.10, 10.0.1.11]", "values: [10.0.1.12]", 1)
    t.ok(new != conf, "the config holds api's east values")
    # the harness renders the template again on start, not on SIGHUP
    d.write("arcdns.yaml", new)
    mark = len(d.log_text())
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"reloaded|reload failed", 10, start_at=mark)
    t.ok(line is not None and "reloaded" in line, "SIGHUP with new api values: reloaded", line)
    want = ("NOERROR", ("A 10.0.1.12",)) if sim.states().get("east") == "On" else None
    got, _ = wait_for(lambda: d.observe([("default", "api", "A")])[("default", "api", "A")]
                      == want, 2)
    t.ok(want is not None and got, "SIGHUP with new api values: api A is 10.0.1.12",
         d.observe([("default", "api", "A")]))
    after = serials(d)
    t.ok(after["default"] is not None and serial_gt(after["default"], s["default"]),
         "SIGHUP with new api values: the default block's serial moved forward %s -> %s"
         % (s["default"], after["default"]))
    t.is_(after["vpc"], s["vpc"], "SIGHUP with new api values: the vpc block's serial stays")
    d.write("arcdns.yaml", conf)


def check_wrap(t, sim):
    """A zone file serial of 2^32 - 1: the next serial wraps (RFC 1982)."""
    d = PolicyDaemon(t, sim, name="wrap")
    d._prepare()
    with open(os.path.join(DATA_DIR, "policy.svc.test.zone")) as f:
        text = f.read()
    text = re.sub(r"\b100(\s+; serial)", r"4294967295\1", text)
    with open(os.path.join(d.dir, "policy.svc.test.zone"), "w") as f:
        f.write(text)
    d.start()
    try:
        converge(t, d, sim.states(), "serial 2^32-1: first state", limit=FOLLOW + 2.0)
        before = serials(d)
        t.ok(all(isinstance(x, int) for x in before.values()),
             "serial 2^32-1 in the zone file: serials %r" % before)
        flip_and_check(t, sim, d, "east", "Off", VIEWS, "serial 2^32-1, east Off")
        flip_and_check(t, sim, d, "east", "On", VIEWS, "serial 2^32-1, east On")
    finally:
        d.stop()


if __name__ == "__main__":
    run_sim(main, timeout=150)
