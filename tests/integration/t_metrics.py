#!/usr/bin/python3
"""t_metrics.py -- GET /metrics (Prometheus text format 0.0.4) on a live daemon.

arcsim (policyharness.PolicySim: route-us-east-1 and route-us-west-2 On,
route-eu-west-1 Off, no route-nowhere) and arcdnsd mirroring it every
250 ms with tests/data/policy.yaml.in plus `server: http:` on a free
loopback port (views vpc for 127.0.0.2, default for everyone else).
Checks:

  - /metrics: 200, Content-Type text/plain; version=0.0.4, and `promtool
    check metrics` accepts it (at start, after queries, during an outage);
    every family has one HELP and one TYPE line; build info carries the
    version `arcdnsd -V` prints;
  - arcdns_dns_queries_total moves by exactly the queries sent (dig and
    the harness's own queries: several names, types, rcodes, both views,
    CHAOS without a view, UDP and TCP) and by nothing else, and the TCP
    connections counter by the TCP connections;
  - arcdns_control_state: east/west 1, eu 0, ghost -1; a flip through
    arcsim's API moves east to 0 and back to 1; the table rebuilds counter
    and the zone serial (the one DNS serves) move with it;
  - ARC requests by endpoint and outcome and the latency histogram:
    cumulative buckets, +Inf == _count == the finished requests;
  - every arcsim endpoint failing (admin faults): the staleness gauge
    grows, arcdns_mirror_stale turns 1, endpoint errors are counted;
    faults cleared: fresh again;
  - SIGHUP: arcdns_reloads_total moves by one.
SKIPs only when promtool (Debian package prometheus) is absent.
Every wait is bounded; processes are stopped by PID; loopback only.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import DATA_DIR, arcdnsd_version, bound, free_port, http_request  # noqa: E402
from policyharness import (FOLLOW, POLL_MS, PolicyDaemon, PolicySim,  # noqa: E402
                           set_credentials, wait_for)
from simharness import REGIONS, run_sim  # noqa: E402

PROMTOOL = shutil.which("promtool")
STALE = (3 * POLL_MS + 500) / 1000.0     # default stale-after
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Q = "arcdns_dns_queries_total"


class MetricsDaemon(PolicyDaemon):
    """arcdnsd from policy.yaml.in with server.http on its own free port."""

    def __init__(self, t, sim):
        PolicyDaemon.__init__(self, t, sim, name="metrics", identity="arcdns-metrics")
        self.http_port = None

    def render(self, template_text=None):
        self.http_port = free_port()
        with open(os.path.join(DATA_DIR, "policy.yaml.in")) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(  listen: @LISTEN@\n)",
                          r'\1  http: "127.0.0.1:@HTTP@"\n', text)
        assert n == 1, "policy.yaml.in: no listen line to add http after"
        self.vars.update({"HTTP": self.http_port})
        return PolicyDaemon.render(self, text)

    def get(self, path, timeout=3):
        """(status, headers dict lower-case, body bytes) or (None, {}, why)."""
        return http_request(self.http_port, path, timeout=timeout)

    def metrics(self):
        """(parsed samples or None, text)."""
        st, _, body = self.get("/metrics")
        if st != 200:
            return None, body.decode("utf-8", "replace")
        text = body.decode("utf-8")
        return parse(text), text


def start_daemon(t, sim):
    d = MetricsDaemon(t, sim)
    for _ in range(8):
        d.start()
        if not (sim.base <= d.port < sim.base + 6 or sim.base <= d.http_port < sim.base + 6):
            return d
        d.stop()
        d = MetricsDaemon(t, sim)
    return d


# ---------------------------------------------------------------------------
# the exposition format

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def _unescape(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), s)


def parse(text):
    """{(name, frozenset of (label, value)): float}; ValueError on a line
    that is not a sample or a comment."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise ValueError("not a sample: %r" % line)
        labels, rest = [], m.group(2) or ""
        while rest:
            lm = _LABEL.match(rest)
            if lm is None:
                raise ValueError("bad labels: %r" % line)
            labels.append((lm.group(1), _unescape(lm.group(2))))
            rest = rest[lm.end():]
        out[(m.group(1), frozenset(labels))] = float(m.group(3))
    return out


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def family(samples, name):
    """[(labels dict, value)] of every sample called name."""
    return [(dict(k[1]), v) for k, v in samples.items() if k[0] == name]


def promtool(t, text, label):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=bound(30))
    out = p.stdout.decode("utf-8", "replace")
    t.ok(p.returncode == 0 and out.strip() == "",
         "%s: promtool check metrics passes" % label,
         "exit %d:\n%s\n--- exposition ---\n%s" % (p.returncode, out, text))


# ---------------------------------------------------------------------------
# checks

def check_format(t, d):
    st, hd, body = d.get("/metrics")
    t.ok(st == 200 and hd.get("content-type") == CONTENT_TYPE,
         "/metrics: 200, Content-Type %s" % CONTENT_TYPE, (st, hd))
    text = body.decode("utf-8", "replace")
    promtool(t, text, "start")
    helps = re.findall(r"(?m)^# HELP (\S+) ", text)
    types = re.findall(r"(?m)^# TYPE (\S+) ", text)
    t.ok(helps == types and len(set(helps)) == len(helps) and len(helps) >= 20,
         "every family once, HELP then TYPE (%d families)" % len(helps), (helps, types))
    samples = parse(text)
    ver = arcdnsd_version()
    t.ok(get(samples, "arcdns_build_info", version=ver) == 1.0,
         "arcdns_build_info{version=\"%s\"} 1" % ver,
         family(samples, "arcdns_build_info"))
    return samples


def expected_queries(d):
    """Send the queries; {(view, qtype, rcode, transport): count}."""
    want = {}

    def add(key, n=1):
        want[key] = want.get(key, 0) + n

    def dig(args, key, n=1):
        for _ in range(n):
            r = d.dig(*args)
            if r is None or r.status != key[2]:
                raise AssertionError("dig %s: %r" % (" ".join(args), r))
            add(key)

    def ask(name, qtype, key, n=1, **kw):
        for _ in range(n):
            m = d.query(name, qtype, **kw)
            if m is None or m.rcode_name != key[2]:
                raise AssertionError("%s %s: %r" % (name, qtype, m))
            add(key)

    dig(["static.svc.test", "A"], ("default", "A", "NOERROR", "udp"), 3)
    dig(["static.svc.test", "TXT"], ("default", "TXT", "NOERROR", "udp"), 1)
    dig(["static.svc.test", "MX"], ("default", "MX", "NOERROR", "udp"), 2)
    dig(["nosuch.svc.test", "A"], ("default", "A", "NXDOMAIN", "udp"), 2)
    dig(["svc.test", "SOA"], ("default", "SOA", "NOERROR", "udp"), 1)
    dig(["static.svc.test", "CAA"], ("default", "other", "NOERROR", "udp"), 1)
    dig(["example.org", "A"], ("default", "A", "REFUSED", "udp"), 1)
    dig(["+tcp", "static.svc.test", "A"], ("default", "A", "NOERROR", "tcp"), 2)
    dig(["+tcp", "api.svc.test", "AAAA"], ("default", "AAAA", "NOERROR", "tcp"), 1)
    ask("api.svc.test.", "A", ("vpc", "A", "NOERROR", "udp"), 3, src="127.0.0.2")
    ask("nosuch.svc.test.", "TXT", ("vpc", "TXT", "NXDOMAIN", "tcp"), 1, src="127.0.0.2",
        tcp=True)
    ask("version.bind.", "TXT", ("(none)", "TXT", "NOERROR", "udp"), 1, qclass="CH")
    ask("svc.test.", "AXFR", ("(none)", "AXFR", "REFUSED", "tcp"), 1, tcp=True)
    return want


def query_cells(samples):
    return {(lb["view"], lb["qtype"], lb["rcode"], lb["transport"]): v
            for lb, v in family(samples, Q)}


def check_queries(t, d):
    if d.dig("static.svc.test", "A") is None:
        t.skip("query counters", "dig not installed")
        return
    s, _ = d.metrics()
    c0 = query_cells(s or {})
    a0 = get(s or {}, "arcdns_dns_tcp_accepted_total")
    try:
        want = expected_queries(d)
    except AssertionError as e:
        t.ok(False, "the queries got the answers the test expects", str(e))
        return
    s, text = d.metrics()
    c1 = query_cells(s or {})
    delta = {k: c1.get(k, 0) - c0.get(k, 0) for k in set(c0) | set(c1)}
    delta = {k: v for k, v in delta.items() if v != 0}
    t.ok(delta == want, "%s moved by exactly the %d queries sent" % (Q, sum(want.values())),
         "moved:    %r\nexpected: %r" % (sorted(delta.items()), sorted(want.items())))
    ntcp = sum(v for k, v in want.items() if k[3] == "tcp")
    a1 = get(s or {}, "arcdns_dns_tcp_accepted_total")
    t.ok(a0 is not None and a1 == a0 + ntcp,
         "arcdns_dns_tcp_accepted_total moved by the %d TCP connections (%s -> %s)"
         % (ntcp, a0, a1))
    t.ok(all(v >= 0 for v in c1.values()) and
         all(re.match(r"^(vpc|default|\(none\))$", k[0]) for k in c1),
         "%s: views are the config's names or (none)" % Q, sorted(c1))
    promtool(t, text, "after queries")


def controls(samples):
    return {lb["control"]: v for lb, v in family(samples, "arcdns_control_state")}


def check_controls(t, d, sim):
    def at(want):
        def probe():
            s, _ = d.metrics()
            return s is not None and controls(s) == want and s
        return probe
    start = {"east": 1, "west": 1, "eu": 0, "ghost": -1}
    s, took = wait_for(at(start), 5)
    t.ok(s, "arcdns_control_state: east 1, west 1, eu 0, ghost -1 (%.2fs)" % took)
    s0 = s or {}
    r0 = get(s0, "arcdns_table_rebuilds_total")
    sim.set("east", "Off")
    s, took = wait_for(at(dict(start, east=0)), FOLLOW + 1)
    t.ok(s, "flip east Off: arcdns_control_state{control=\"east\"} 0 (%.2fs)" % took,
         controls(d.metrics()[0] or {}))
    s = s or {}
    t.ok(r0 is not None and (get(s, "arcdns_table_rebuilds_total") or 0) > r0,
         "arcdns_table_rebuilds_total moved (%s -> %s)"
         % (r0, get(s, "arcdns_table_rebuilds_total")))
    serial = d.serial("default")
    ok, _ = wait_for(lambda: get(d.metrics()[0] or {}, "arcdns_zone_serial", zone="svc",
                                 origin="svc.test.") == serial, 2)
    t.ok(ok, "arcdns_zone_serial{zone=\"svc\"} is the serial DNS serves (%s)" % serial,
         family(d.metrics()[0] or {}, "arcdns_zone_serial"))
    sim.set("east", "On")
    s, took = wait_for(at(start), FOLLOW + 1)
    t.ok(s, "flip back: east 1 again (%.2fs)" % took)


def check_arc(t, d, sim):
    s, text = d.metrics()
    s = s or {}
    ok = True
    why = []
    for i, region in enumerate(REGIONS):
        lb = {"endpoint": region, "url": sim.url(i)}
        fin = sum(get(s, "arcdns_arc_requests_total", outcome=o, **lb) or 0
                  for o in ("ok", "endpoint", "throttle", "auth", "config"))
        started = get(s, "arcdns_arc_requests_started_total", **lb)
        bk = sorted(((float(l2["le"]), v) for l2, v in
                     family(s, "arcdns_arc_request_duration_seconds_bucket")
                     if l2["endpoint"] == region and l2["url"] == sim.url(i)))
        count = get(s, "arcdns_arc_request_duration_seconds_count", **lb)
        good = (started is not None and started >= fin and len(bk) == 10 and
                bk[-1][0] == float("inf") and bk[-1][1] == count == fin and
                all(bk[k][1] <= bk[k + 1][1] for k in range(9)) and
                get(s, "arcdns_arc_request_duration_seconds_sum", **lb) is not None and
                get(s, "arcdns_arc_endpoint_healthy", **lb) in (0.0, 1.0))
        ok = ok and good
        why.append((region, started, fin, count, bk))
    t.ok(ok, "ARC requests by endpoint and outcome; histogram cumulative, +Inf == _count "
         "== finished requests", why)
    t.ok(sum(v for lb, v in family(s, "arcdns_arc_requests_total") if lb["outcome"] == "ok") > 0
         and (get(s, "arcdns_arc_polls_total", outcome="ok") or 0) > 0,
         "successful requests and polls counted")


def check_outage(t, d, sim):
    s, _ = d.metrics()
    e0 = sum(v for lb, v in family(s or {}, "arcdns_arc_requests_total")
             if lb["outcome"] == "endpoint")
    t.ok(get(s or {}, "arcdns_mirror_stale") == 0 and
         0 <= (get(s or {}, "arcdns_mirror_staleness_seconds") or -1) < 2,
         "fresh: arcdns_mirror_stale 0, staleness below 2s",
         (get(s or {}, "arcdns_mirror_stale"), get(s or {}, "arcdns_mirror_staleness_seconds")))
    for i in range(5):
        sim.fault(i, "unavailable")
    s, took = wait_for(lambda: get(d.metrics()[0] or {}, "arcdns_mirror_stale") == 1 and
                       d.metrics()[0], STALE + 3)
    t.ok(s, "every arcsim endpoint failing: arcdns_mirror_stale 1 (%.2fs)" % took)
    s = s or {}
    a = get(s, "arcdns_mirror_staleness_seconds")
    time.sleep(0.6)         # the gauge must grow with the clock
    s2, text = d.metrics()
    s2 = s2 or {}
    b = get(s2, "arcdns_mirror_staleness_seconds")
    t.ok(a is not None and b is not None and a >= STALE - 0.3 and b >= a + 0.5,
         "the staleness gauge grows (%s -> %s)" % (a, b))
    last = get(s2, "arcdns_mirror_last_success_timestamp_seconds")
    t.ok(last is not None and abs(time.time() - b - last) < 1.0,
         "last success + staleness = now (%s)" % last)
    e1 = sum(v for lb, v in family(s2, "arcdns_arc_requests_total") if lb["outcome"] == "endpoint")
    t.ok(e1 > e0 and any(v == 0 for _, v in family(s2, "arcdns_arc_endpoint_healthy")),
         "endpoint errors counted (%d -> %d), endpoints unhealthy" % (e0, e1),
         family(s2, "arcdns_arc_endpoint_healthy"))
    t.ok(controls(s2).get("east") == 1, "while stale, the last known state stays (east 1)")
    promtool(t, text, "outage")
    for i in range(5):
        sim.fault(i, "ok")
    s, took = wait_for(lambda: get(d.metrics()[0] or {}, "arcdns_mirror_stale") == 0 and
                       d.metrics()[0], 5 + 2 * POLL_MS / 1000.0)
    t.ok(s and get(s, "arcdns_mirror_staleness_seconds") < 2,
         "faults cleared: fresh again (%.2fs)" % took)


def check_reload(t, d):
    r0 = get(d.metrics()[0] or {}, "arcdns_reloads_total")
    mark = d.log_size()
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", 10, start_at=mark)
    ok, _ = wait_for(lambda: get(d.metrics()[0] or {}, "arcdns_reloads_total") == r0 + 1, 5)
    t.ok(r0 is not None and ok, "SIGHUP: arcdns_reloads_total %s -> %s" % (
        r0, get(d.metrics()[0] or {}, "arcdns_reloads_total")))


def main(t):
    if PROMTOOL is None:
        t._emit("1..0 # SKIP promtool not found (apt-get install prometheus)")
        t.finished = True
        return
    set_credentials()
    sim = PolicySim(t, name="metrics")
    d = None
    try:
        sim.start()
        d = start_daemon(t, sim)
        ok, took = wait_for(lambda: get(d.metrics()[0] or {}, "arcdns_mirror_stale") == 0, 5)
        t.ok(ok, "the mirror is fresh (%.2fs)" % took)
        check_format(t, d)
        check_queries(t, d)
        check_controls(t, d, sim)
        check_arc(t, d, sim)
        check_outage(t, d, sim)
        check_reload(t, d)
        t.ok(d.alive(), "the daemon is still up at the end")
    finally:
        if d is not None:
            d.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=120)
