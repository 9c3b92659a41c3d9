#!/usr/bin/python3
"""t_mirror.py -- arcdnsd mirrors arcsim's routing controls over TLS.

One arcsim (TLS, --ca-out) and one arcdnsd with an arc: block pointing at
its five endpoints, temporary credentials (with a session token) in the
environment, a short poll interval and hedging on:

  - the mirror converges (state-dir/mirror.json and the log), a control
    the cluster does not have is reported once, never fatal;
  - a change made with boto3 on any endpoint is mirrored within one poll
    interval (plus the request time); after SIGHUP too (client rebuilt);
  - with four endpoints failing, in each fault mode (down, hang, http500,
    unavailable, throttle, garbage, slow), every change is still followed
    within poll interval + timeout, and the failing endpoints are not
    asked more often than their backoff allows (arcsim's request log);
  - all five failing for OUTAGE seconds (30 s, as the issue asks;
    ARCDNS_TEST_OUTAGE=N for a quicker run by hand): nothing changes, the mirror is marked stale, at
    most 2 requests per poll interval on average (the stated ceiling; a
    naive client would send 5), current again within a poll interval of
    the recovery;
  - kill -9, then a start with every endpoint down: the last state is
    loaded (log line) and kept;
  - a state file cut short, or overwritten with garbage, is rejected with
    a clear log line; the daemon starts with no state and recovers it;
  - at debug level, no secret (secret key, session token, signature,
    Authorization header) appears in the log or any file of state-dir;
  - control-panel filters the list (controls of other panels are reported
    missing); a panel that does not exist is a configuration error,
    logged once, with no cycling through the endpoints;
  - TLS is verified: with a CA file that did not sign arcsim's
    certificate, nothing is learnt.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ARCDNSD, Daemon, bound, free_port  # noqa: E402
from simharness import (REGIONS, TOKEN, TOKEN_AKID, TOKEN_SECRET, ArcSim,  # noqa: E402
                        cell_arn, panel_arn, region_arn, run_sim)

POLL_MS = 300
TIMEOUT_MS = 500
HEDGE_MS = 150          # with 4 endpoints hung, the good one is asked
                        # within timeout + 2 * hedge-after
SLACK = 1.0             # scheduling slack on a loaded test machine (s)
FOLLOW = (POLL_MS + TIMEOUT_MS) / 1000.0 + SLACK
OUTAGE = float(os.environ.get("ARCDNS_TEST_OUTAGE", "30"))
GHOST = region_arn("route-us-east-1")[:-16] + "0123456789abcdef"

# local name -> (how configured, ARN in arcsim)
CONTROLS = {
    "east": ("arn", region_arn("route-us-east-1")),
    "west": ("arn", region_arn("route-us-west-2")),
    "eu": ("arn", region_arn("route-eu-west-1")),
    "cell0": ("name", cell_arn(0)),
    "cell1": ("arn", cell_arn(1)),
}

CONF = """\
server:
  listen: @LISTEN@
  state-dir: "@DIR@/state"
  log: { level: debug }
zones:
  - id: ex
    origin: example.test.
    file: example.test.zone
arc:
  endpoints:
%(endpoints)s
%(panel)s  poll-interval: %(poll)dms
  timeout: %(timeout)dms
  hedge-after: %(hedge)dms
  ca-file: "%(ca)s"
  credentials: env
controls:
  east: { arn: "%(east)s" }
  west: { arn: "%(west)s" }
  eu: { arn: "%(eu)s" }
  cell0: { name: cell-00 }
  cell1: { arn: "%(cell1)s" }
  ghost: { arn: "%(ghost)s" }
"""


class MirrorDaemon(Daemon):
    """arcdnsd with a config rendered from CONF for sim."""

    def __init__(self, t, sim, panel=None, ca=None):
        Daemon.__init__(self, t, "example.test.zone", name="mirror")
        self.sim = sim
        self.panel = panel
        self.ca = ca or sim.ca

    def render(self, template_text=None):
        eps = "".join('    - { region: %s, url: "%s" }\n' % (REGIONS[i], self.sim.url(i))
                      for i in range(5))
        text = CONF % {
            "endpoints": eps, "poll": POLL_MS,
            "panel": '  control-panel: "%s"\n' % self.panel if self.panel else "", "timeout": TIMEOUT_MS, "hedge": HEDGE_MS, "ca": self.ca,
            "east": CONTROLS["east"][1], "west": CONTROLS["west"][1],
            "eu": CONTROLS["eu"][1], "cell1": CONTROLS["cell1"][1], "ghost": GHOST,
        }
        return Daemon.render(self, text)

    @property
    def state_dir(self):
        return os.path.join(self.dir, "state")

    def mirror_json(self):
        try:
            with open(os.path.join(self.state_dir, "mirror.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def mirrored(self):
        """{local name: "On"|"Off"} from mirror.json (ghost left out)."""
        doc = self.mirror_json()
        ctl = doc.get("controls") if isinstance(doc, dict) else None
        if not isinstance(ctl, list):
            return {}
        return {c.get("name"): c.get("state") for c in ctl
                if isinstance(c, dict) and c.get("name") != "ghost"}


def expected(sim):
    states = sim.control_states()
    return {name: states.get(arn) for name, (_, arn) in CONTROLS.items()}


def wait_for(fn, timeout, step=0.02):
    """Poll fn() until true; (value, seconds taken) or (None, timeout)."""
    t0 = time.monotonic()
    deadline = t0 + bound(timeout)
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() >= deadline:
            return None, time.monotonic() - t0
        time.sleep(step)


def set_state(sim, i, arn, state):
    sim.pace(i)
    sim.client(i, akid=TOKEN_AKID, secret=TOKEN_SECRET, token=TOKEN).update_routing_control_state(
        RoutingControlArn=arn, RoutingControlState=state)


def flip_and_follow(t, sim, d, i, name, label, limit=FOLLOW):
    """Flip control `name` through endpoint i; wait for arcdnsd's log line."""
    arn = CONTROLS[name][1]
    new = "Off" if sim.control_states()[arn] == "On" else "On"
    mark = len(d.log_text())
    set_state(sim, i, arn, new)
    t0 = time.monotonic()
    line = d.wait_log(r"control %s: \S+ -> %s \(from " % (name, new), limit + 2, start_at=mark)
    took = time.monotonic() - t0
    t.ok(line is not None and took <= bound(limit),
         "%s: %s -> %s mirrored in %.2fs (limit %.2fs)" % (label, name, new, took, limit), line)
    return new


def sim_requests(sim, mark):
    """ListRoutingControls requests per region logged by arcsim after mark."""
    counts = {r: 0 for r in REGIONS}
    for m in re.finditer(r"http: (\S+) ListRoutingControls", sim.log_text()[mark:]):
        if m.group(1) in counts:
            counts[m.group(1)] += 1
    return counts


def check_converges(t, sim, d):
    want = expected(sim)
    got, took = wait_for(lambda: d.mirrored() if all(
        d.mirrored().get(k) == v for k, v in want.items()) else None, 10)
    t.ok(got is not None, "mirror.json converges to arcsim's state (%.2fs)" % took,
         "want %r got %r" % (want, d.mirrored()))
    for name in want:
        t.ok(d.wait_log(r"control %s: unknown -> (On|Off) \(from " % name, 1) is not None,
             "the first state of %s is logged" % name)
    line = d.wait_log(r"control ghost .* is not listed", 5)
    t.ok(line is not None, "a configured control arcsim lacks is reported", line)
    time.sleep(4 * POLL_MS / 1000.0)
    t.is_(len(re.findall(r"control ghost .* is not listed", d.log_text())), 1,
          "... once, not on every poll")
    t.ok(d.alive(), "... and it is not fatal")
    mode = os.stat(d.state_dir).st_mode & 0o777
    t.is_(oct(mode), oct(0o750), "state-dir was created with mode 0750")
    events = os.path.join(d.state_dir, "events.jsonl")
    lines = open(events).read().splitlines() if os.path.exists(events) else []
    t.ok(len(lines) >= 5 and all("control" in json.loads(x) for x in lines),
         "events.jsonl holds one JSON line per change (%d)" % len(lines))


def check_one_per_state_dir(t, d):
    """A second arcdnsd on the same state-dir (on another port) exits 1
    naming the holder; the first keeps serving."""
    with open(os.path.join(d.state_dir, "arcdnsd.lock")) as f:
        t.is_(f.read().strip(), str(d.proc.pid),
              "state-dir/arcdnsd.lock holds the running daemon's pid")
    with open(d.conf) as f:
        text = f.read()
    listen = '"127.0.0.1:%d"' % d.port
    t.ok(listen in text, "config has the listen address to change", listen)
    conf2 = d.write("second.yaml", text.replace(
        listen, '"127.0.0.1:%d"' % free_port()))
    r = subprocess.run([ARCDNSD, "-f", "-c", conf2], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=15)
    t.is_(r.returncode, 1, "a second arcdnsd on the same state-dir exits 1")
    t.ok(re.search(r"state-dir \S+ is in use by another arcdnsd \(pid %d\b"
                   % d.proc.pid, r.stderr) is not None,
         "... saying which daemon holds it", r.stderr[-400:])
    t.ok(d.alive(), "... and the first one still runs")
    with open(os.path.join(d.state_dir, "arcdnsd.lock")) as f:
        t.is_(f.read().strip(), str(d.proc.pid), "... and keeps its lock file")


def check_changes_any_endpoint(t, sim, d):
    for i in range(5):
        flip_and_follow(t, sim, d, i, "cell1", "change on %s" % REGIONS[i])
    flip_and_follow(t, sim, d, 3, "east", "change of a region control")
    flip_and_follow(t, sim, d, 1, "east", "change of a region control back")
    got, _ = wait_for(lambda: d.mirrored() == {k: v for k, v in expected(sim).items()
                                               if k != "ghost"} or None, 3)
    t.ok(got, "mirror.json equals arcsim's state after the changes",
         "%r vs %r" % (d.mirrored(), expected(sim)))


def check_reload(t, sim, d):
    mark = len(d.log_text())
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"reloaded|reload failed", 10, start_at=mark)
    t.ok(line is not None and "reloaded" in line, "SIGHUP: reloaded", line)
    t.ok(d.wait_log(r"arc: mirroring 6 controls from 5 endpoints", 2, start_at=mark) is not None,
         "SIGHUP: the ARC client is rebuilt from the new config")
    t.ok(d.wait_log(r"loaded the last known state", 2, start_at=mark) is not None,
         "SIGHUP: the mirror starts from the state file")
    flip_and_follow(t, sim, d, 4, "cell1", "after a reload")
    t.is_(len(re.findall(r"control \S+: unknown -> ", d.log_text()[mark:])), 0,
          "SIGHUP: no control went through unknown")


MODES = ["down", "hang", "http500", "unavailable", "throttle", "garbage", "slow"]


def check_four_failing(t, sim, d):
    for k, mode in enumerate(MODES):
        good = k % 5
        if k > 0:
            # Each mode starts from a fresh client: the previous mode's
            # backoff would otherwise still hold this mode's good endpoint.
            d.signal(signal.SIGTERM)
            t.is_(d.wait_exit(10), 0, "restart before mode %s: clean stop" % mode)
            d.start()
        mark_sim = len(sim.log_text())
        for i in range(5):
            if i != good:
                sim.fault(i, mode)
        t0 = time.monotonic()
        flip_and_follow(t, sim, d, good, "cell0", "4 endpoints %s" % mode)
        flip_and_follow(t, sim, d, good, "cell0", "4 endpoints %s, again" % mode)
        # observe at least 2 s in this mode
        time.sleep(max(0.0, 2.0 - (time.monotonic() - t0)))
        window = time.monotonic() - t0
        counts = sim_requests(sim, mark_sim)
        # a failing endpoint is held >= 0.5 s after its first failure,
        # then >= 1 s, 2 s ... (jittered halves): within `window` seconds
        # no more than 1 + window / 0.5 requests, whatever the polls do
        ceiling = 1 + int(window / 0.5)
        bad = {r: n for r, n in counts.items() if r != REGIONS[good]}
        t.ok(all(n <= ceiling for n in bad.values()),
             "4 endpoints %s: failing endpoints asked at most %d times in %.1fs: %r"
             % (mode, ceiling, window, bad))
        t.ok(counts[REGIONS[good]] >= 2,
             "4 endpoints %s: the good one (%s) is polled: %d requests"
             % (mode, REGIONS[good], counts[REGIONS[good]]))
        sim.reset()
    t.ok(d.alive(), "arcdnsd survived every fault mode")


def check_all_down(t, sim, d):
    before = d.mirrored()
    mark = len(d.log_text())
    mark_sim = len(sim.log_text())
    for i in range(5):
        sim.fault(i, "unavailable")
    t0 = time.monotonic()
    stale_after = (3 * POLL_MS + TIMEOUT_MS) / 1000.0
    line = d.wait_log(r"mirror stale: no successful poll for", stale_after + 3, start_at=mark)
    t.ok(line is not None, "all five failing: the mirror is marked stale", line)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - t0)))
    window = time.monotonic() - t0
    counts = sim_requests(sim, mark_sim)
    total = sum(counts.values())
    polls = window / (POLL_MS / 1000.0)
    t.ok(total <= 2 * polls + 5,
         "all five failing for %.1fs: %d requests, ceiling 2 per poll interval (%d)"
         % (window, total, int(2 * polls + 5)), repr(counts))
    t.ok(total >= 0.5 * polls, "... and the cluster is still probed (%d requests)" % total)
    t.is_(d.mirrored(), before, "all five failing: mirror.json unchanged")
    changes = re.findall(r"control \S+: \S+ -> ", d.log_text()[mark:])
    t.is_(len(changes), 0, "all five failing: no control changed")
    t.is_(len(re.findall(r"mirror stale", d.log_text()[mark:])), 1,
          "the stale transition is logged once")
    mark = len(d.log_text())
    sim.reset()
    t0 = time.monotonic()
    line = d.wait_log(r"mirror fresh again", FOLLOW + 2, start_at=mark)
    took = time.monotonic() - t0
    t.ok(line is not None and took <= bound(FOLLOW),
         "recovery: current again in %.2fs (limit %.2fs)" % (took, FOLLOW), line)
    flip_and_follow(t, sim, d, 2, "cell1", "after the recovery")


def check_restart_all_down(t, sim, d):
    before = d.mirrored()
    t.ok(before and all(v in ("On", "Off") for k, v in before.items() if k != "ghost"),
         "mirror.json holds states before kill -9", repr(before))
    d.signal(signal.SIGKILL)
    d.wait_exit(5)
    for i in range(5):
        sim.fault(i, "down")
    d.start()
    line = d.wait_log(r"loaded the last known state of \d+ controls", 2)
    t.ok(line is not None, "kill -9, every endpoint down: the last state is loaded", line)
    time.sleep(3 * POLL_MS / 1000.0 + 1)
    t.is_(d.mirrored(), before, "... and kept while ARC is unreachable")
    t.ok(d.alive(), "... the daemon serves")
    t.ok(d.wait_log(r"mirror stale", 3) is not None, "... marked stale")
    sim.reset()


def check_corrupt(t, sim, d):
    path = os.path.join(d.state_dir, "mirror.json")
    for label, mangle in (("cut short", lambda b: b[:len(b) // 2]),
                          ("garbage", lambda b: b"\x00\xffnot json{{{" + b[5:]),
                          ("wrong shape", lambda b: b'{"version":1,"controls":7}')):
        d.signal(signal.SIGTERM)
        d.wait_exit(5)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(mangle(data))
        for i in range(5):
            sim.fault(i, "down")
        mark = len(d.log_text())
        d.start()
        line = d.wait_log(r"rejected the state file .*mirror\.json", 2, start_at=mark)
        t.ok(line is not None, "state file %s: a clear log line" % label, line)
        t.ok(d.wait_log(r"loaded the last known state", 0.2, start_at=mark) is None,
             "state file %s: no state loaded" % label)
        t.ok(d.alive(), "state file %s: the daemon runs" % label)
        mark = len(d.log_text())
        sim.reset()
        want = {k: v for k, v in expected(sim).items() if k != "ghost"}
        got, took = wait_for(lambda: all(d.mirrored().get(k) == v for k, v in want.items()),
                             FOLLOW + 2)
        t.ok(got, "state file %s: state recovered from ARC in %.2fs" % (label, took))
        t.ok(d.wait_log(r"control \S+: unknown -> ", 1, start_at=mark) is not None,
             "state file %s: states learnt again from unknown" % label)


def check_panel(t, sim):
    """control-panel filters the list; a wrong one is a configuration error."""
    d = MirrorDaemon(t, sim, panel=panel_arn("DefaultControlPanel")).start()
    try:
        got, _ = wait_for(lambda: d.mirrored().get("east") in ("On", "Off") or None, 5)
        t.ok(got, "control-panel DefaultControlPanel: its controls are mirrored")
        line = d.wait_log(r"control cell0 .* is not listed", 3)
        t.ok(line is not None, "control-panel: a control of another panel is reported missing",
             line)
    finally:
        d.stop()
    mark_sim = len(sim.log_text())
    d = MirrorDaemon(t, sim, panel=panel_arn("NoSuchPanel")).start()
    try:
        line = d.wait_log(r"refused ListRoutingControls: ResourceNotFoundException", 3)
        t.ok(line is not None and "check the arc: configuration" in line,
             "wrong control-panel: a loud configuration error", line)
        t0 = time.monotonic()
        time.sleep(2.0)
        window = time.monotonic() - t0 + 0.5
        total = sum(sim_requests(sim, mark_sim).values())
        t.ok(total <= 4, "wrong control-panel: endpoints are not cycled (%d requests in "
             "%.1fs; one per endpoint per poll would be %d)"
             % (total, window, int(5 * window / (POLL_MS / 1000.0))))
        t.is_(len(re.findall(r"refused ListRoutingControls", d.log_text())), 1,
              "wrong control-panel: logged once")
        t.ok(d.alive(), "wrong control-panel: not fatal")
    finally:
        d.stop()


def check_tls_verified(t, sim):
    """A CA that did not sign arcsim's certificate: every endpoint fails."""
    ca = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.exists(ca):
        t.skip("TLS verification", "no %s" % ca)
        return
    d = MirrorDaemon(t, sim, ca=ca).start()
    try:
        line = d.wait_log(r"endpoint \S+ \(https://\S+\) failing: .*(SSL|certificate)", 5)
        t.ok(line is not None, "TLS: a certificate the CA file does not vouch for is refused",
             line)
        time.sleep(1.0)
        t.ok(not d.mirrored() and d.wait_log(r"control \S+: unknown -> ", 0.1) is None,
             "TLS: nothing is learnt through an unverified connection")
    finally:
        d.stop()


def check_no_secrets(t, d):
    texts = [("log", d.log_text())]
    for root, _, files in os.walk(d.state_dir):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                texts.append((fn, f.read().decode("utf-8", "replace")))
    for what, needle in (("secret key", TOKEN_SECRET), ("session token", TOKEN),
                         ("signature", "Signature="), ("Authorization", "Authorization"),
                         ("credential scope", TOKEN_AKID + "/")):
        found = [name for name, text in texts if needle in text]
        t.ok(not found, "no %s in %s" % (what, ", ".join(n for n, _ in texts)),
             "found in %r" % found)
    t.ok(len(texts[0][1]) > 1000 and "debug: arc:" in texts[0][1],
         "the log was at debug level (%d bytes)" % len(texts[0][1]))


def main(t):
    sim = ArcSim(t, name="mirror").start()
    os.environ.pop("AWS_PROFILE", None)
    os.environ["AWS_ACCESS_KEY_ID"] = TOKEN_AKID
    os.environ["AWS_SECRET_ACCESS_KEY"] = TOKEN_SECRET
    os.environ["AWS_SESSION_TOKEN"] = TOKEN
    d = MirrorDaemon(t, sim).start()
    try:
        t.ok(d.wait_log(r"arc: mirroring 6 controls from 5 endpoints", 1) is not None,
             "start line: mirroring 6 controls from 5 endpoints")
        check_converges(t, sim, d)
        check_one_per_state_dir(t, d)
        check_changes_any_endpoint(t, sim, d)
        check_reload(t, sim, d)
        check_four_failing(t, sim, d)
        check_all_down(t, sim, d)
        check_restart_all_down(t, sim, d)
        check_corrupt(t, sim, d)
        check_no_secrets(t, d)
        d.stop()
        check_panel(t, sim)
        check_tls_verified(t, sim)
    finally:
        d.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=240 if OUTAGE > 10 else 180)
