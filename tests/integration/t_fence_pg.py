#!/usr/bin/python3
"""t_fence_pg.py -- the single-writer invariant against real PostgreSQL.

arcsim (PolicySim: east and west On) and arcdnsd (tests/data/
fence-pg.yaml.in) serving svc.test. with a fenced writer record: writer A
failover, fence primary-db, targets east 127.0.0.11 and west 127.0.0.12,
ttl 1; server.http and server.control on. pgharness runs east, a
PostgreSQL primary on 127.0.0.11:P, and west, its streaming hot standby on
127.0.0.12:P (a fresh pair per case). The fence runs the SHIPPED hooks
(conf/hooks/fence-postgres, promote-postgres, check-writable) with PGPORT,
PGUSER, PGDATABASE in env: and the host taken from ARCDNS_TARGET (the
record's value). East is flipped Off through arcsim's API while a prober
asks for writer.svc.test A every 5 ms over UDP.

1. flip: rows are written on east before the flip, and a writer keeps
   INSERTing on east (one session per row) across it; a watcher runs an
   INSERT on east the moment events.jsonl says "fence done".
   - every sample is east, NODATA (SOA at TTL 0) or west, in that order,
     never back (never two writers);
   - no west sample sent before "fence done", nor received before "ready:
     published"; no east sample after "fence done"; events in the order
     withdrawn, fence done, promoted, check-writable succeeded, published;
   - the INSERT right after "fence done" is refused (read-only), and so is
     every INSERT of the writer that started after it;
   - west is promoted (not in recovery) and holds exactly east's rows:
     every row committed on east, the live ones included;
   - /readyz 200 before and after.
2. a failing fence: the real fence-postgres with a wrong --port (east is
   unreachable for it). Retries run out: "failed closed"; the writer
   stays withdrawn (NODATA, TTL 0, never west); west was not promoted;
   state.arcdns says "fence primary-db failed-closed in fencing: ...";
   /readyz 503 with a fence-failed reason, /v1/state and `arcdnsctl fence
   status` show the failed fence. The operator fences east by hand
   (fence-postgres with the right port) and runs `arcdnsctl fence confirm
   primary-db`: then west is promoted, checked and published, with every
   row, and /readyz is 200 again.
3. kill -9: the fence hook is a fixture wrapper (sleep 1.5 s, then the
   real fence-postgres); arcdnsd gets SIGKILL while it runs and is started
   again on the same state-dir: "resumed after a restart", the fence hook
   runs again and exits 0, and the checks of 1 hold. The orphaned first
   run is waited for (bounded; its process group killed if it hangs).
4. SIGHUP: the promote hook is such a wrapper around promote-postgres;
   arcdnsd reloads while it runs: the running hook is ended with its
   process group, events.jsonl says the sequence resumed at the promote
   step, promote-postgres runs again and exits 0, and the checks of 1
   hold.

Each case prints its timeline (flip, withdrawn, fence done, east refused
an INSERT, promoted, check passed, published, first west sample, and the
runs of answers) in milliseconds after the flip as TAP diagnostics. Every
wait is bounded; processes are stopped by PID; loopback only. SKIPs when
the PostgreSQL server binaries are not installed.
"""

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TOP_BUILDDIR, TOP_SRCDIR, bound, free_port, http_request  # noqa: E402
from policyharness import (PolicyDaemon, PolicySim, set_credentials,  # noqa: E402
                           wait_for)
from simharness import run_sim  # noqa: E402
import pgharness  # noqa: E402

HOOKS = os.path.join(TOP_SRCDIR, "conf", "hooks")
ARCDNSCTL = os.environ.get("ARCDNSCTL") or os.path.join(TOP_BUILDDIR, "src",
                                                        "arcdnsctl")
EAST_IP, WEST_IP = "127.0.0.11", "127.0.0.12"
WRITER = "writer.svc.test."
FENCE = "primary-db"
PROBE_MS = 5
PROMOTE = [HOOKS + "/promote-postgres", "--timeout", "25",
           "--catchup-timeout", "15"]


def argv_yaml(argv):
    return ", ".join(json.dumps(a) for a in argv)


class FenceDaemon(PolicyDaemon):
    """arcdnsd from fence-pg.yaml.in; hook: the fence hook's argv."""

    def __init__(self, t, sim, name, hook, pgport, retries=3, promote=None):
        PolicyDaemon.__init__(self, t, sim, name=name,
                              identity="arcdns-" + name, poll_ms=100)
        self.template = "fence-pg.yaml.in"
        self.vars.update({"HOOK": argv_yaml(hook), "HOOKS": HOOKS,
                          "PROMOTE": argv_yaml(promote or PROMOTE),
                          "PGPORT": pgport, "RETRIES": retries})
        self.http_port = None

    def render(self, template_text=None):
        self.http_port = free_port()
        self.vars["HTTP"] = self.http_port
        return PolicyDaemon.render(self, template_text)

    def prepare(self):
        """The folder now (for hook scripts), before start()."""
        if self.dir is None:
            self._prepare()
        return self.dir

    @property
    def sock(self):
        return os.path.join(self.dir, "ctl.sock")

    def events(self):
        """events.jsonl entries of the fence, in order, with "t" (epoch
        seconds)."""
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

    def get(self, path, timeout=3):
        """(status, parsed JSON or text) or (None, why)."""
        status, _, data = http_request(self.http_port, path, timeout=timeout)
        body = data.decode("utf-8", "replace")
        try:
            return status, json.loads(body) if status is not None else body
        except ValueError:
            return status, body

    def ctl(self, *args, timeout=10):
        """arcdnsctl -s SOCK args: (rc, stdout, stderr)."""
        p = subprocess.run([ARCDNSCTL, "-s", self.sock] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=bound(timeout))
        return (p.returncode, p.stdout.decode("utf-8", "replace").strip(),
                p.stderr.decode("utf-8", "replace").strip())


def iso_epoch(ts):
    """2026-11-26T10:00:00.123Z -> seconds since the epoch (float)."""
    try:
        d = datetime.datetime.strptime(ts.rstrip("Z")[:23],
                                       "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def first_event(events, what, after=0.0, **match):
    for e in events:
        if e.get("event", "").startswith(what) and (e["t"] or 0) >= after \
                and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


def answer(d):
    """(kind, ttl): kind "east", "west", "NODATA", an rcode, the values
    for anything else, or "timeout"."""
    try:
        m = d.query(WRITER, "A", timeout=0.1)
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
    """Asks for the writer every PROBE_MS; samples are (sent, received,
    kind, ttl), wall-clock seconds (the clock of events.jsonl)."""

    def __init__(self, d):
        threading.Thread.__init__(self, daemon=True)
        self.d = d
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            sent = time.time()
            kind, ttl = answer(self.d)
            self.samples.append((sent, time.time(), kind, ttl))
            left = sent + PROBE_MS / 1000.0 - time.time()
            if left > 0:
                time.sleep(left)

    def last(self):
        """The kind of the latest sample, or None."""
        return self.samples[-1][2] if self.samples else None

    def stop(self):
        self.halt.set()
        self.join(timeout=bound(5))
        return self.samples


class Writer(threading.Thread):
    """INSERTs rows into east's orders table, one new session each, until
    stopped: rows are (id, started, ended, rc, stderr)."""

    def __init__(self, node, first_id):
        threading.Thread.__init__(self, daemon=True)
        self.node = node
        self.next_id = first_id
        self.rows = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            i = self.next_id
            self.next_id += 1
            t0 = time.time()
            try:
                rc, _, err = self.node.sql(
                    "INSERT INTO orders VALUES (%d, 'live')" % i, timeout=10)
            except subprocess.TimeoutExpired:
                rc, err = -1, "timeout"
            self.rows.append((i, t0, time.time(), rc, err))

    def stop(self):
        self.halt.set()
        self.join(timeout=bound(15))
        return self.rows


class FenceWatch(threading.Thread):
    """Reads events.jsonl every ms; the moment "fence done" shows (after
    since), runs one INSERT on east: result (seen, started, ended, rc,
    stderr)."""

    def __init__(self, d, node, since):
        threading.Thread.__init__(self, daemon=True)
        self.d = d
        self.node = node
        self.since = since
        self.result = None
        self.halt = threading.Event()

    def run(self):
        path = os.path.join(self.d.state_dir, "events.jsonl")
        off = 0
        buf = ""
        deadline = time.monotonic() + bound(120)
        while not self.halt.is_set() and time.monotonic() < deadline:
            try:
                with open(path) as f:
                    f.seek(off)
                    chunk = f.read()
                    off = f.tell()
            except OSError:
                chunk = ""
            buf += chunk
            lines = buf.split("\n")
            buf = lines.pop()
            for line in lines:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                ts = iso_epoch(e.get("ts", "")) or 0
                if e.get("fence") == FENCE and e.get("event") == \
                        "fence done" and ts >= self.since:
                    seen = time.time()
                    rc, _, err = self.node.sql(
                        "INSERT INTO orders VALUES (-1, 'after the fence')",
                        timeout=10)
                    self.result = (seen, seen, time.time(), rc, err)
                    return
            time.sleep(0.001)

    def stop(self):
        self.halt.set()
        self.join(timeout=bound(15))
        return self.result


def check_sequence(t, samples, label, allow_west=True):
    """east* (NODATA|timeout)* west*, never two writers, never back;
    NODATA with the SOA at TTL 0."""
    kinds = [s[2] for s in samples]
    allowed = ("east", "NODATA", "timeout") + (("west",) if allow_west
                                                else ())
    t.ok(all(k in allowed for k in kinds),
         "%s: every sample is %s (never two writers)" % (
             label, ", ".join(allowed)),
         "other: %r" % sorted(set(kinds) - set(allowed)))
    order = {"east": 0, "NODATA": 1, "timeout": 1, "west": 2}
    worst = -1
    back = None
    for s in samples:
        o = order.get(s[2], 1)
        if o < worst:
            back = s
            break
        worst = max(worst, o)
    t.ok(back is None, "%s: east, then withdrawn, then west; never back" %
         label, "went back at %r" % (back,))
    bad_ttl = [s for s in samples if s[2] == "NODATA" and s[3] != 0]
    t.ok(not bad_ttl, "%s: while withdrawn, NODATA with the SOA at TTL 0" %
         label, "%r" % bad_ttl[:3])


def check_refused(t, label, refused, got):
    """The FenceWatch result: an INSERT on east right after "fence done"
    was refused as read-only."""
    t.ok(refused is not None and refused[3] != 0 and
         "read-only" in refused[4],
         "%s: east refused an INSERT started right after \"fence done\" "
         "showed in events.jsonl" % label, refused)
    if refused is not None and got.get("fence done"):
        got["refused"] = refused[2]
        t.diag("%s: that INSERT began %.1f ms after the \"fence done\" "
               "timestamp and was refused after %.1f ms" % (
                   label, (refused[1] - got["fence done"]["t"]) * 1000,
                   (refused[2] - refused[1]) * 1000))


def ms(x, t0):
    return "%+8.0f ms" % ((x - t0) * 1000) if x is not None else "       -"


def ids(node):
    """The ids in node's orders table (a set), or None."""
    rc, out, err = node.sql("SELECT id FROM orders ORDER BY id", timeout=30)
    if rc != 0:
        return None
    return {int(x) for x in out.split()}


def load_rows(east):
    east.value("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    for b in range(10):
        east.value("INSERT INTO orders SELECT g, 'row' FROM "
                   "generate_series(%d, %d) g" % (b * 500 + 1, b * 500 + 500))
    return int(east.value("SELECT count(*) FROM orders"))


def west_holds_east(t, label, east, west):
    """west is promoted and holds exactly east's rows."""
    t.is_(west.value("SELECT pg_is_in_recovery()"), "f",
          "%s: west was promoted (not in recovery)" % label)
    e, w = ids(east), ids(west)
    t.ok(e is not None and w is not None and e == w and len(e) > 0,
         "%s: west holds every row committed on east (%s rows)" % (
             label, len(e) if e is not None else "?"),
         "missing on west: %r; extra on west: %r" % (
             sorted((e or set()) - (w or set()))[:20],
             sorted((w or set()) - (e or set()))[:20]))
    return e


def seq_checks(t, label, d, samples, t_flip, after_fence=None):
    """The order checks of a flip east -> west against events.jsonl; the
    events found (dict). after_fence: only a "fence done" at or after
    this time counts (the resumed run of a kill -9)."""
    check_sequence(t, samples, label)
    ev = d.events()
    got = {
        "withdrawn": first_event(ev, "selection moved", t_flip - 1),
        "fence done": first_event(ev, "fence done",
                                  after_fence or t_flip - 1),
        "promoted": first_event(ev, "promoted", t_flip - 1),
        "published": first_event(ev, "ready: published", t_flip - 1),
    }
    got["check passed"] = first_event(ev, "hook succeeded", t_flip - 1,
                                      phase="checking")
    t.ok(all(got.values()), "%s: events.jsonl: withdrawn, fence done, "
         "promoted, check succeeded, published" % label,
         "missing: %r\n%s" % ([k for k, v in got.items() if not v],
                              json.dumps(ev, indent=1)[-3000:]))
    if not all(got.values()):
        return got
    seq = [got[k]["t"] for k in ("withdrawn", "fence done", "promoted",
                                 "check passed", "published")]
    t.ok(seq == sorted(seq), "%s: withdrawn <= fence done <= promoted <= "
         "check passed <= published" % label, seq)
    first_west = next((s for s in samples if s[2] == "west"), None)
    last_east = next((s for s in reversed(samples) if s[2] == "east"), None)
    t.ok(first_west is not None and first_west[0] >= got["fence done"]["t"],
         "%s: no west sample sent before east's fence was done" % label,
         "first west %r, fence done %r" % (first_west, got["fence done"]))
    t.ok(first_west is not None and first_west[1] >= got["published"]["t"],
         "%s: no west sample before check-writable passed and west was "
         "published" % label)
    t.ok(last_east is None or last_east[1] <= got["fence done"]["t"],
         "%s: no east sample once east's fence was done" % label,
         "last east %r" % (last_east,))
    got["first west"] = first_west
    got["first NODATA"] = next((s for s in samples if s[2] == "NODATA"),
                               None)
    return got


def timeline(t, label, samples, t_flip, got, extra=()):
    n = sum(1 for s in samples if s[0] >= t_flip)
    t.diag("%s timeline (ms after the flip; %d samples after it, one every "
           "%d ms):" % (label, n, PROBE_MS))
    rows = [("flip (east Off via arcsim)", t_flip)] + list(extra)

    def ev(k):
        e = got.get(k)
        return e["t"] if isinstance(e, dict) else None

    def smp(k):
        s = got.get(k)
        return s[1] if s else None
    rows += [("withdrawn (event)", ev("withdrawn")),
             ("first NODATA sample", smp("first NODATA")),
             ("fence done (east read-only)", ev("fence done")),
             ("east refused an INSERT", got.get("refused")),
             ("promoted (west)", ev("promoted")),
             ("check-writable passed", ev("check passed")),
             ("published (event)", ev("published")),
             ("first west sample", smp("first west"))]
    rows.sort(key=lambda r: r[1] if r[1] is not None else 1e18)
    for name, x in rows:
        if x is not None or name != "east refused an INSERT":
            t.diag("  %-30s %s" % (name, ms(x, t_flip)))
    t.diag("  samples: %s" % runs_text(samples, t_flip))


def runs_text(samples, t0):
    """east x12 [-60..+190] NODATA x300 [...] ...: the answers in runs,
    with the sent times of each run's first and last sample."""
    out = []
    for s in samples:
        if out and out[-1][0] == s[2]:
            out[-1][1] += 1
            out[-1][3] = s[0]
        else:
            out.append([s[2], 1, s[0], s[0]])
    return ", ".join("%s x%d [%+.0f..%+.0f]" % (k, n, (a - t0) * 1000,
                                               (b - t0) * 1000)
                     for k, n, a, b in out)


def main(t):
    if pgharness.pg_bindir() is None:
        t.skip("fence with real PostgreSQL",
               "postgresql server binaries not installed")
        return
    set_credentials()
    sim = PolicySim(t, name="fence-pg").start()
    for case in (case_flip, case_failing, case_kill, case_reload):
        sim.set("east", "On")
        sim.set("west", "On")
        pair = pgharness.PgPair(t, EAST_IP, WEST_IP, same_port=True).start()
        try:
            case(t, sim, pair)
        finally:
            if t.failed:
                pair.diag_logs()
            pair.stop()


def start_serving_east(t, label, d, pair):
    d.start()
    got, _ = wait_for(lambda: answer(d)[0] == "east", 10)
    t.ok(got, "%s: the writer answers east at start" % label)
    return load_rows(pair.east)


# ---------------------------------------------------------------------------
# 1. the flip


def case_flip(t, sim, pair):
    label = "flip"
    east, west = pair.east, pair.west
    d = FenceDaemon(t, sim, "fence-pg", [HOOKS + "/fence-postgres",
                                         "--timeout", "8"], east.port)
    try:
        start_serving_east(t, label, d, pair)
        st, doc = d.get("/readyz")
        t.is_(st, 200, "%s: /readyz 200 while east is served" % label, doc)
        prober = Prober(d)
        writer = Writer(east, 100001)
        prober.start()
        writer.start()
        wait_for(lambda: len(writer.rows) >= 3 and len(prober.samples) >= 5,
                 10, step=0.005)
        t_flip = time.time()
        watch = FenceWatch(d, east, t_flip - 1)
        watch.start()
        sim.set("east", "Off")
        # The prober itself must see west (its samples are checked).
        published, took = wait_for(lambda: prober.last() == "west", 60,
                                   step=0.005)
        wait_for(lambda: watch.result is not None, 10)
        rows = writer.stop()
        samples = prober.stop()
        refused = watch.stop()
        t.ok(published, "%s: west is published (%.2fs after the flip)" % (
            label, took), d.log_text()[-3000:])
        got = seq_checks(t, label, d, samples, t_flip)
        check_refused(t, label, refused, got)
        fenced = got["fence done"]["t"] if got.get("fence done") else None
        late = [r for r in rows if fenced is not None and r[1] >= fenced and
                r[3] == 0]
        during = [r for r in rows if r[1] >= t_flip and r[3] == 0]
        t.ok(fenced is not None and not late,
             "%s: no INSERT started after \"fence done\" succeeded on east "
             "(%d INSERTs, %d committed after the flip, %d refused)" % (
                 label, len(rows), len(during),
                 sum(1 for r in rows if r[3] != 0)), late[:5])
        rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'late')")
        t.ok(rc != 0 and "read-only" in err,
             "%s: east rejects an INSERT after the fence" % label, err)
        e = west_holds_east(t, label, east, west)
        ok_ids = {r[0] for r in rows if r[3] == 0}
        t.ok(e is not None and ok_ids <= e,
             "%s: every INSERT east acknowledged (%d live rows) is on west" % (
                 label, len(ok_ids)), sorted(ok_ids - (e or set()))[:20])
        st, doc = d.get("/readyz")
        t.is_(st, 200, "%s: /readyz 200 once west is served" % label, doc)
        timeline(t, label, samples, t_flip, got)
    finally:
        d.stop()


# ---------------------------------------------------------------------------
# 2. a fence hook that fails: fail closed, fence by hand, confirm


def case_failing(t, sim, pair):
    label = "failing hook"
    east, west = pair.east, pair.west
    dead = free_port(taken=(east.port,), hosts=(EAST_IP,))
    d = FenceDaemon(t, sim, "fence-pg-fail",
                    [HOOKS + "/fence-postgres", "--port", str(dead),
                     "--timeout", "8"], east.port, retries=2)
    try:
        committed = start_serving_east(t, label, d, pair)
        prober = Prober(d)
        prober.start()
        wait_for(lambda: len(prober.samples) >= 5, 5, step=0.005)
        t_flip = time.time()
        sim.set("east", "Off")
        failed, took = wait_for(lambda: first_event(d.events(), "failed "
                                                    "closed", t_flip - 1),
                                30)
        t.ok(failed, "%s: fence-postgres on a wrong port: failed closed "
             "after its retries (%.2fs)" % (label, took),
             json.dumps(d.events(), indent=1)[-3000:])
        # The name stays withdrawn: sample for a while longer.
        n0 = len(prober.samples)
        wait_for(lambda: len(prober.samples) >= n0 + 40, 5, step=0.005)
        samples = prober.stop()
        check_sequence(t, samples, label, allow_west=False)
        t.ok(samples and samples[-1][2] == "NODATA",
             "%s: the writer stays withdrawn (NODATA, TTL 0)" % label,
             samples[-3:])
        ev = d.events()
        attempts = [e for e in ev if e.get("event") == "step failed" and
                    e["t"] >= t_flip - 1]
        t.is_(len(attempts), 2, "%s: two failed attempts were retried, the "
              "third failed closed (retries: 2)" % label,
              [e.get("detail") for e in attempts])
        t.like(failed and failed.get("detail") or "",
               r"fencing hook for east: exit status 1",
               "%s: the event says the fence hook for east exited 1" % label)
        t.is_(west.value("SELECT pg_is_in_recovery()"), "t",
              "%s: west was not promoted" % label)
        rc, strings = d.state_strings()
        t.ok(any(s.startswith("fence %s failed-closed in fencing" % FENCE)
                 for s in strings),
             "%s: state.arcdns says \"fence %s failed-closed in fencing\"" % (
                 label, FENCE), strings)
        st, doc = d.get("/readyz")
        reasons = doc.get("reasons", []) if isinstance(doc, dict) else []
        why = [r for r in reasons if r.get("reason") == "fence-failed"]
        t.ok(st == 503 and why and FENCE in json.dumps(why),
             "%s: /readyz 503 with a fence-failed reason naming %s" % (
                 label, FENCE), doc)
        if why:
            t.diag("%s: /readyz says: %s" % (label, why[0].get("message")))
        st, doc = d.get("/v1/state")
        fs = [f for f in (doc.get("fences", []) if isinstance(doc, dict)
                          else []) if f.get("name") == FENCE]
        t.ok(fs and fs[0].get("phase") == "failed" and
             fs[0].get("failed_step") == "fencing",
             "%s: /v1/state shows the fence failed in its fencing step" %
             label, fs)
        rc, out, err = d.ctl("--json", "fence", "status")
        try:
            fs = [f for f in json.loads(out).get("fences", [])
                  if f.get("name") == FENCE]
        except ValueError:
            fs = []
        t.ok(rc == 0 and fs and fs[0].get("phase") == "failed",
             "%s: arcdnsctl fence status: failed" % label,
             "%d %s %s" % (rc, out, err))
        # The operator fences east by hand with the right port...
        p = subprocess.run([HOOKS + "/fence-postgres", "--host", EAST_IP,
                            "--port", str(east.port), "--user", "postgres",
                            "--dbname", "postgres", "--timeout", "20"],
                           env={"PATH": os.environ.get("PATH", "/usr/bin:"
                                                       "/bin")},
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=bound(30))
        t.is_(p.returncode, 0, "%s: the operator fences east by hand "
              "(fence-postgres, right port)" % label, p.stderr.decode())
        rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'late')")
        t.ok(rc != 0 and "read-only" in err,
             "%s: east rejects an INSERT after the fence by hand" % label, err)
        t.ok(all(answer(d)[0] == "NODATA" for _ in range(10)),
             "%s: nothing is published without a confirmation" % label)
        # ...and confirms.
        prober = Prober(d)
        prober.start()
        t_confirm = time.time()
        rc, out, err = d.ctl("fence", "confirm", FENCE)
        t.is_(rc, 0, "%s: arcdnsctl fence confirm %s" % (label, FENCE),
              "%s\n%s" % (out, err))
        how = "confirmed by the operator"
        published, took = wait_for(lambda: prober.last() == "west", 60,
                                   step=0.005)
        samples = prober.stop()
        t.ok(published, "%s: after the confirmation west is published "
             "(%.2fs)" % (label, took), d.log_text()[-3000:])
        check_sequence(t, samples, label + ", confirmed")
        ev = d.events()
        conf = first_event(ev, how, t_confirm - 0.5)
        prom = first_event(ev, "promoted", t_confirm - 0.5)
        chk = first_event(ev, "hook succeeded", t_confirm - 0.5,
                          phase="checking")
        pub = first_event(ev, "ready: published", t_confirm - 0.5)
        seq = [e and e["t"] for e in (conf, prom, chk, pub)]
        t.ok(None not in seq and seq == sorted(seq),
             "%s: %s, promoted, check passed, published" % (label, how),
             json.dumps(ev[-8:], indent=1))
        first_west = next((s for s in samples if s[2] == "west"), None)
        t.ok(pub and first_west and first_west[1] >= pub["t"],
             "%s: no west sample before it was published" % label)
        e = west_holds_east(t, label, east, west)
        t.ok(e is not None and len(e) == committed,
             "%s: %d rows, as committed before the flip" % (label, committed))
        st, doc = d.get("/readyz")
        t.is_(st, 200, "%s: /readyz 200 again" % label, doc)
        t.diag("%s timeline (ms after the flip):" % label)
        for k, x in (("flip", t_flip),
                     ("withdrawn", first_event(ev, "selection moved",
                                               t_flip - 1)),
                     ("failed closed", failed), ("confirm", t_confirm),
                     ("promoted", prom), ("check passed", chk),
                     ("published", pub),
                     ("first west sample", first_west and first_west[1])):
            if isinstance(x, dict):
                x = x["t"]
            t.diag("  %-30s %s" % (k, ms(x, t_flip)))
    finally:
        d.stop()


# ---------------------------------------------------------------------------
# 3. kill -9 during the fence step

SLOW_HOOK = """#!/bin/sh
# fixture: a shipped hook, 1.5 s late (time to signal arcdnsd meanwhile)
echo "$ARCDNS_ACTION $ARCDNS_CONTROL $$ start $(date +%%s.%%N)" >> %(dir)s/runs
sleep 1.5
%(hooks)s/%(hook)s "$@"
rc=$?
echo "$ARCDNS_ACTION $ARCDNS_CONTROL $$ exit $rc" >> %(dir)s/runs
exit $rc
"""


def slow_hook(folder, hook):
    """Write folder/slow-HOOK (SLOW_HOOK around conf/hooks/HOOK)."""
    path = os.path.join(folder, "slow-" + hook)
    with open(path, "w") as f:
        f.write(SLOW_HOOK % {"dir": folder, "hooks": HOOKS, "hook": hook})
    os.chmod(path, 0o755)
    return path


def runs_of(path, action="fence"):
    """{pid: {"start": t, "exit": rc or None}} from the wrapper's log."""
    out = {}
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for x in lines:
        w = x.split()
        if len(w) < 4 or w[0] != action:
            continue
        r = out.setdefault(int(w[2]), {"start": None, "exit": None})
        if w[3] == "start" and len(w) > 4:
            r["start"] = float(w[4])
        elif w[3] == "exit" and len(w) > 4:
            r["exit"] = int(w[4])
    return out


def case_kill(t, sim, pair):
    label = "kill -9"
    east, west = pair.east, pair.west
    d = FenceDaemon(t, sim, "fence-pg-kill", [], east.port)
    folder = d.prepare()
    d.vars["HOOK"] = argv_yaml([slow_hook(folder, "fence-postgres"),
                                "--timeout", "8"])
    runs = os.path.join(folder, "runs")
    try:
        start_serving_east(t, label, d, pair)
        prober = Prober(d)
        prober.start()
        wait_for(lambda: len(prober.samples) >= 5, 5, step=0.005)
        t_flip = time.time()
        watch = FenceWatch(d, east, t_flip - 1)
        watch.start()
        sim.set("east", "Off")
        got, _ = wait_for(lambda: runs_of(runs), 10, step=0.005)
        t.ok(got, "%s: the slow fence hook started" % label)
        d.signal(signal.SIGKILL)
        d.wait_exit(5)
        t_kill = time.time()
        first_pid = next(iter(runs_of(runs)), None)
        d.start()
        t_restart = time.time()
        t.ok(wait_for(lambda: first_event(d.events(), "resumed after a "
                                          "restart", t_kill), 10)[0],
             "%s: after the restart events.jsonl says the sequence resumed" %
             label)
        # The prober itself must see west (its samples are checked).
        published, took = wait_for(lambda: prober.last() == "west", 60,
                                   step=0.005)
        wait_for(lambda: watch.result is not None, 10)
        samples = prober.stop()
        refused = watch.stop()
        t.ok(published, "%s: west is published (%.2fs after the flip)" % (
            label, time.time() - t_flip), d.log_text()[-3000:])
        got = seq_checks(t, label, d, samples, t_flip, after_fence=t_kill)
        check_refused(t, label, refused, got)
        r = runs_of(runs)
        again = [p for p, v in r.items() if v["start"] and
                 v["start"] >= t_kill and v["exit"] == 0]
        t.ok(again, "%s: the fence hook for east ran again after the "
             "restart and exited 0" % label, r)
        rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'late')")
        t.ok(rc != 0 and "read-only" in err,
             "%s: east rejects an INSERT after the fence" % label, err)
        west_holds_east(t, label, east, west)
        timeline(t, label, samples, t_flip, got,
                 extra=[("arcdnsd killed (-9)", t_kill),
                        ("arcdnsd restarted (ready)", t_restart)])
        # The first run outlived the daemon (its own process group): wait
        # for it, bounded, then kill its group.
        if first_pid is not None:
            done, _ = wait_for(lambda: runs_of(runs).get(first_pid, {}).get(
                "exit") is not None, 15)
            t.ok(done, "%s: the orphaned first fence run ended by itself "
                 "(exit %s)" % (label, runs_of(runs).get(first_pid, {}).get(
                     "exit")))
            if not done:
                try:
                    os.killpg(first_pid, signal.SIGKILL)
                except OSError:
                    pass
    finally:
        d.stop()


# ---------------------------------------------------------------------------
# 4. SIGHUP during the promote step


def case_reload(t, sim, pair):
    """A reload while promote-postgres (slowed) runs: the running hook is
    killed with its process group, the sequence resumes at the promote
    step, and the checks of 1 hold."""
    label = "SIGHUP"
    east, west = pair.east, pair.west
    d = FenceDaemon(t, sim, "fence-pg-hup", [HOOKS + "/fence-postgres",
                                             "--timeout", "8"], east.port)
    folder = d.prepare()
    d.vars["PROMOTE"] = argv_yaml([slow_hook(folder, "promote-postgres")] +
                                  PROMOTE[1:])
    runs = os.path.join(folder, "runs")
    try:
        committed = start_serving_east(t, label, d, pair)
        prober = Prober(d)
        prober.start()
        wait_for(lambda: len(prober.samples) >= 5, 5, step=0.005)
        t_flip = time.time()
        sim.set("east", "Off")
        got, _ = wait_for(lambda: runs_of(runs, "promote"), 20, step=0.005)
        t.ok(got, "%s: the slow promote hook started" % label)
        first_pid = next(iter(runs_of(runs, "promote")), None)
        mark = d.log_size()
        t_hup = time.time()
        d.signal(signal.SIGHUP)
        t.ok(d.wait_log(r"reloaded", 10, start_at=mark),
             "%s: arcdnsd reloaded during the promote step" % label)

        def group_gone():
            try:
                os.killpg(first_pid, 0)
            except ProcessLookupError:
                return True
            except OSError:
                return False
            return False
        t.ok(first_pid is not None and wait_for(group_gone, 10)[0],
             "%s: the running promote hook was ended with its process "
             "group" % label)
        # (no restart before: any such event is the reload's; ts is in ms)
        t.ok(first_event(d.events(), "resumed after a restart", t_flip - 1,
                         phase="promoting"),
             "%s: events.jsonl: the sequence resumed at the promote step" %
             label, json.dumps(d.events()[-4:], indent=1))
        published, took = wait_for(lambda: prober.last() == "west", 60,
                                   step=0.005)
        samples = prober.stop()
        t.ok(published, "%s: west is published (%.2fs after the flip)" % (
            label, time.time() - t_flip), d.log_text()[-3000:])
        got = seq_checks(t, label, d, samples, t_flip)
        r = runs_of(runs, "promote")
        t.ok(r.get(first_pid, {}).get("exit") is None and
             any(v["exit"] == 0 for p, v in r.items() if p != first_pid),
             "%s: the promote hook ran again after the reload and exited 0 "
             "(the first run never finished)" % label, r)
        rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'late')")
        t.ok(rc != 0 and "read-only" in err,
             "%s: east rejects an INSERT after the fence" % label, err)
        e = west_holds_east(t, label, east, west)
        t.ok(e is not None and len(e) == committed,
             "%s: %d rows, as committed before the flip" % (label, committed))
        timeline(t, label, samples, t_flip, got,
                 extra=[("SIGHUP (promote running)", t_hup)])
    finally:
        d.stop()


run_sim(main, timeout=300)
