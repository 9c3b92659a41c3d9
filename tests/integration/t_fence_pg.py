#!/usr/bin/python3
"""t_fence_pg.py -- the single-writer invariant against real PostgreSQL.

arcsim (PolicySim: east and west On) and arcdnsd serving svc.test. with a
fenced writer record: writer A failover, fence primary-db, targets east
127.0.0.11 and west 127.0.0.12, ttl 1. pgharness runs east, a PostgreSQL
primary on 127.0.0.11:P, and west, its streaming hot standby on
127.0.0.12:P. The fence runs the shipped hooks (conf/hooks/fence-postgres,
promote-postgres, check-writable) with PGPORT/PGUSER/PGDATABASE in env:
and the host taken from ARCDNS_TARGET (the record's value).

Rows are written on east, then east is flipped Off through arcsim's API
while a prober asks for writer.svc.test A every 5 ms over UDP:
  - no sample shows two writers; the answers go east... -> NODATA (TTL 0
    SOA) ... -> west and never back;
  - no west answer before the fence of east finished, nor before the
    ready-check passed (times in state-dir/events.jsonl);
  - east rejects an INSERT after the fence; west is out of recovery and
    holds every row committed on east before the fence;
  - the timeline (flip, withdraw, fence done, promoted, publish) with
    millisecond times goes to the TAP diagnostics.
Then again with a fresh pair, the fence hook slowed by a wrapper script
(sleep 1.5, then fence-postgres): arcdnsd gets SIGKILL while it runs and
is started again on the same state-dir; the sequence resumes, and the same
checks hold. More fixture-hook cases (a failing hook, confirm) are in
t_fence.py. SKIPs when the PostgreSQL server binaries are not installed.
"""

import datetime
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TOP_SRCDIR  # noqa: E402
from policyharness import (PolicyDaemon, PolicySim, set_credentials,  # noqa: E402
                           wait_for)
from simharness import run_sim  # noqa: E402
import pgharness  # noqa: E402

HOOKS = os.path.join(TOP_SRCDIR, "conf", "hooks")
EAST_IP, WEST_IP = "127.0.0.11", "127.0.0.12"
WRITER = "writer.svc.test."
FENCE = "primary-db"

FENCE_YAML = """\
server:
  listen: @LISTEN@
  identity: "@IDENTITY@"
  state-dir: "@DIR@/state"
  chaos-clients: ["127.0.0.1/32"]
  log: { level: debug, format: text, target: stderr }
arc:
  endpoints:
@ENDPOINTS@
  poll-interval: @POLL@ms
  timeout: 500ms
  credentials: env
controls:
  east: { name: route-us-east-1 }
  west: { name: route-us-west-2 }
fences:
  primary-db:
@FENCE@
zones:
  - id: svc
    origin: svc.test.
    file: policy.svc.test.zone
    ttl: 1
    records:
      - name: writer
        type: A
        policy: failover
        fence: primary-db
        targets:
          - { control: east, region: us-east-1, values: [%s] }
          - { control: west, region: us-west-2, values: [%s] }
""" % (EAST_IP, WEST_IP)


class FenceDaemon(PolicyDaemon):
    def __init__(self, t, sim, fence, name):
        PolicyDaemon.__init__(self, t, sim, name=name,
                              identity="arcdns-" + name, poll_ms=100)
        self.vars["FENCE"] = fence

    def render(self, template_text=None):
        return PolicyDaemon.render(self, FENCE_YAML)

    def prepare(self):
        """The folder now (for hook scripts), before start()."""
        if self.dir is None:
            self._prepare()
        return self.dir

    def events(self):
        """events.jsonl entries of the fence, in order."""
        out = []
        try:
            with open(os.path.join(self.state_dir, "events.jsonl")) as f:
                for line in f:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if e.get("fence") == FENCE:
                        e["t"] = iso_epoch(e.get("ts", ""))
                        out.append(e)
        except OSError:
            pass
        return out


def iso_epoch(ts):
    """2026-11-26T10:00:00.123Z -> seconds since the epoch (float)."""
    try:
        d = datetime.datetime.strptime(ts.rstrip("Z")[:23],
                                       "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def first_event(events, what, after=0.0):
    for e in events:
        if e.get("event", "").startswith(what) and (e["t"] or 0) >= after:
            return e
    return None


def answer(d):
    """(kind, ttl): kind "east", "west", "NODATA", an rcode, a sorted
    value list for anything else, or "timeout"."""
    try:
        m = d.query(WRITER, "A", timeout=0.3)
    except ValueError:
        return "unparsable", None
    if m is None:
        return "timeout", None
    if m.rcode_name != "NOERROR":
        return m.rcode_name, None
    vals = sorted(rr.text for rr in m.rrs("answer", "A"))
    if not vals:
        soa = m.rrs("authority", "SOA")
        return "NODATA", soa[0].ttl if soa else None
    kind = {(EAST_IP,): "east", (WEST_IP,): "west"}.get(tuple(vals),
                                                         ",".join(vals))
    return kind, m.rrs("answer", "A")[0].ttl


class Prober(threading.Thread):
    """Asks for the writer every interval; samples are (sent, received,
    kind, ttl) in wall-clock seconds."""

    def __init__(self, d, interval=0.005):
        threading.Thread.__init__(self, daemon=True)
        self.d = d
        self.interval = interval
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            sent = time.time()
            kind, ttl = answer(self.d)
            self.samples.append((sent, time.time(), kind, ttl))
            left = sent + self.interval - time.time()
            if left > 0:
                time.sleep(left)

    def stop(self):
        self.halt.set()
        self.join(timeout=5)
        return self.samples


def check_sequence(t, samples, label):
    """east* (NODATA|timeout)* west*, never two writers, never back;
    NODATA with a TTL 0 SOA."""
    kinds = [s[2] for s in samples]
    t.ok(all(k in ("east", "west", "NODATA", "timeout") for k in kinds),
         "%s: every sample is east, west, NODATA or no reply (never two "
         "writers)" % label,
         "other: %r" % sorted({k for k in kinds} - {"east", "west", "NODATA",
                                                      "timeout"}))
    order = {"east": 0, "NODATA": 1, "timeout": 1, "west": 2}
    worst = -1
    back = None
    for s in samples:
        o = order.get(s[2], 1)
        if o < worst and not (o == 1 and worst == 1):
            back = s
            break
        worst = max(worst, o)
    t.ok(back is None, "%s: east, then withdrawn, then west; never back" %
         label, "went back at %r" % (back,))
    bad_ttl = [s for s in samples if s[2] == "NODATA" and s[3] != 0]
    t.ok(not bad_ttl, "%s: while withdrawn, NODATA with the SOA at TTL 0" %
         label, "%r" % bad_ttl[:3])


def ms(x, t0):
    return "%+8.0f ms" % ((x - t0) * 1000) if x is not None else "       -"


def main(t):
    if pgharness.pg_bindir() is None:
        t.skip("fence with real PostgreSQL",
               "postgresql server binaries not installed")
        return
    set_credentials()
    sim = PolicySim(t, name="fence-pg").start()
    with_postgres(t, sim)
    with_postgres(t, sim, kill=True)


def reset(sim):
    sim.set("east", "On")
    sim.set("west", "On")


SLOW_FENCE = """#!/bin/sh
# fixture: fence-postgres, 1.5 s late (time for a kill -9 of arcdnsd)
echo "$ARCDNS_ACTION $ARCDNS_CONTROL $$ start $(date +%%s.%%N)" >> %(dir)s/runs
sleep 1.5
%(hooks)s/fence-postgres "$@"
rc=$?
echo "$ARCDNS_ACTION $ARCDNS_CONTROL $$ exit $rc" >> %(dir)s/runs
exit $rc
"""


def with_postgres(t, sim, kill=False):
    """One flip east -> west with a fresh pair; with kill, arcdnsd gets
    SIGKILL while the (slowed) fence hook runs and is started again."""
    label = "kill -9" if kill else "postgres"
    name = "fence-pg-kill" if kill else "fence-pg"
    pair = pgharness.PgPair(t, EAST_IP, WEST_IP, same_port=True).start()
    east, west = pair.east, pair.west
    fence = """\
    hook: ["%s", "--timeout", "8"]
    promote: ["%s/promote-postgres", "--timeout", "25", "--catchup-timeout", "15"]
    ready-check: ["%s/check-writable", "--timeout", "8"]
    env: { PGPORT: "%d", PGUSER: postgres, PGDATABASE: postgres, PGCONNECT_TIMEOUT: "3" }
    timeout: 30s
    retries: 3
    backoff: 200ms""" % ("slow-fence" if kill else HOOKS + "/fence-postgres",
                         HOOKS, HOOKS, east.port)
    d = None
    try:
        d = FenceDaemon(t, sim, fence, name)
        folder = d.prepare()
        runs = os.path.join(folder, "runs")
        with open(os.path.join(folder, "slow-fence"), "w") as f:
            f.write(SLOW_FENCE % {"dir": folder, "hooks": HOOKS})
        os.chmod(os.path.join(folder, "slow-fence"), 0o755)
        reset(sim)
        d.start()
        got, _ = wait_for(lambda: answer(d)[0] == "east", 10)
        t.ok(got, "%s: writer answers east at start" % label)
        east.value("CREATE TABLE orders (id int PRIMARY KEY, note text)")
        for b in range(10):
            east.value("INSERT INTO orders SELECT g, 'row' FROM "
                       "generate_series(%d, %d) g" % (b * 500 + 1, b * 500 + 500))
        committed = int(east.value("SELECT count(*) FROM orders"))
        prober = Prober(d)
        prober.start()
        time.sleep(0.05)    # a few samples of the steady state first
        t_flip = time.time()
        sim.set("east", "Off")
        t_kill = None
        if kill:
            got, _ = wait_for(lambda: os.path.exists(runs), 10)
            t.ok(got, "kill -9: the slow fence hook started")
            d.signal(signal.SIGKILL)
            d.wait_exit(5)
            t_kill = time.time()
            d.start()
            t.ok(d.wait_log(r"resumed after a restart", 10),
                 "kill -9: after the restart the sequence resumed")
        got, took = wait_for(lambda: answer(d)[0] == "west", 90, step=0.02)
        time.sleep(0.05)
        samples = prober.stop()
        t.ok(got, "%s: flip east -> west: west is published (%.2fs)" % (
            label, took), d.log_text()[-3000:])
        check_sequence(t, samples, label)
        ev = d.events()
        withdraw = first_event(ev, "selection moved", t_flip - 1)
        fenced = first_event(ev, "fence done", t_flip - 1)
        promoted = first_event(ev, "promoted", t_flip - 1)
        published = first_event(ev, "ready: published", t_flip - 1)
        if kill:
            # The resumed run's "fence done" is what counts.
            fenced = first_event(ev, "fence done", t_kill)
            with open(runs) as f:
                lines = f.read().splitlines()
            after = {x.split()[2] for x in lines
                     if x.startswith("fence east") and " start " in x and
                     float(x.split()[4]) >= t_kill}
            t.ok(any(x.startswith("fence east") and x.endswith("exit 0") and
                     x.split()[2] in after for x in lines),
                 "kill -9: the fence hook for east started again after the "
                 "restart and exited 0", "\n".join(lines))
        t.ok(withdraw and fenced and promoted and published,
             "%s: events.jsonl: withdrawn, fence done, promoted, "
             "published" % label,
             json.dumps(ev, indent=1)[-3000:])
        first_west = next((s for s in samples if s[2] == "west"), None)
        first_nodata = next((s for s in samples if s[2] == "NODATA"), None)
        last_east = next((s for s in reversed(samples) if s[2] == "east"),
                         None)
        if fenced and published and first_west:
            t.ok(first_west[1] >= fenced["t"],
                 "%s: no west answer before the fence of east finished" %
                 label)
            t.ok(first_west[1] >= published["t"],
                 "%s: no west answer before the ready-check passed" % label)
            t.ok(fenced["t"] <= promoted["t"] <= published["t"],
                 "%s: fence done, then promoted, then published" % label)
        if last_east and fenced:
            t.ok(last_east[1] <= fenced["t"],
                 "%s: no east answer once east's fence finished" % label)
        checks = [e for e in ev if e.get("event") == "hook succeeded" and
                  e.get("phase") == "checking" and (e["t"] or 0) >= t_flip - 1]
        t.ok(checks and published and checks[0]["t"] <= published["t"],
             "%s: the ready-check (check-writable) succeeded before "
             "publishing" % label)
        rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'late')")
        t.ok(rc != 0 and "read-only" in err,
             "%s: east rejects an INSERT after the fence" % label, err)
        t.is_(west.value("SELECT pg_is_in_recovery()"), "f",
              "%s: west was promoted" % label)
        t.is_(int(west.value("SELECT count(*) FROM orders")), committed,
              "%s: west holds every row committed on east before the "
              "fence" % label)
        n = sum(1 for s in samples if s[1] >= t_flip)
        t.diag("%s timeline (%d samples after the flip, every 5 ms):" % (
            label, n))
        t.diag("  flip (east Off via arcsim)   %s" % ms(t_flip, t_flip))
        if t_kill is not None:
            t.diag("  arcdnsd killed (-9)          %s" % ms(t_kill, t_flip))
        t.diag("  withdrawn (event)            %s" % ms(
            withdraw and withdraw["t"], t_flip))
        t.diag("  first NODATA sample          %s" % ms(
            first_nodata and first_nodata[1], t_flip))
        t.diag("  fence done (east read-only)  %s" % ms(
            fenced and fenced["t"], t_flip))
        t.diag("  promoted (west)              %s" % ms(
            promoted and promoted["t"], t_flip))
        t.diag("  published (after check)      %s" % ms(
            published and published["t"], t_flip))
        t.diag("  first west sample            %s" % ms(
            first_west and first_west[1], t_flip))
    finally:
        if t.failed:
            pair.diag_logs()
        if d is not None:
            d.stop()
        pair.stop()


run_sim(main, timeout=300)
