#!/usr/bin/python3
"""t_http.py -- the HTTP health responder (server.http) against arcsim.

arcsim (plain HTTP, policyharness.PolicySim: route-us-east-1 and
route-us-west-2 On, route-eu-west-1 Off) and arcdnsd mirroring it every
250 ms with its own config (below: failover api across three regions, a
role record for us-east-1/us-west-2, server.http on a free loopback port).
Checks:

  - /healthz 200 "ok"; /readyz 200 once the mirror is fresh, JSON with no
    reasons; HEAD answers without a body; POST/PUT/DELETE 405 with
    "Allow: GET, HEAD"; unknown paths 404; /metrics 200 in Prometheus text
    format (t_metrics.py checks it with promtool);
  - /v1/state: identity, version, ready, the state hash (the same as CH
    TXT state.arcdns shows, also after a flip), controls (name, ARN,
    state, changed_ms, endpoint), the five endpoints (region, URL,
    counters), freshness, zones with the serial DNS serves per view,
    fences [];
  - /v1/controls/<name> 200 On, 503 Off, 404 unknown;
    /v1/regions/<region> 200/503/404 and /v1/role/<region>
    active/passive/404 follow a flip through arcsim's API and back;
  - every arcsim endpoint failing (admin faults): /readyz 503 with the
    reason "mirror-stale", endpoints unhealthy with endpoint errors
    counted; faults cleared: 200 again;
  - SIGHUP: the responder keeps serving and answers from the reloaded
    runtime (a new ARC client and mirror);
  - a daemon with a control arcsim does not have: /readyz 503
    "control-unknown" naming it, /v1/controls/<it> 503 "unknown";
  - a client sending a 1 MiB header gets an error and the connection
    closed; an unfinished request is cut after the 5 s inactivity
    timeout, and a client trickling a header byte every 0.5 s at the 10 s
    lifetime of a connection; out of file descriptors (prlimit on the
    daemon), accept() failing pauses the listener without spinning; a client holding 500 idle connections: DNS answers every query
    meanwhile (UDP, timed), the daemon stays up, and /healthz answers
    again once they are gone.
Every wait is bounded; processes are stopped by PID; loopback only.
"""

import json
import os
import re
import resource
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TEST_RUNNER, bound, free_port, http_request  # noqa: E402
from policyharness import (FOLLOW, POLL_MS, PolicyDaemon, PolicySim, parse_state,  # noqa: E402
                           set_credentials, wait_for)
from simharness import REGIONS, run_sim  # noqa: E402

STALE = (3 * POLL_MS + 500) / 1000.0     # default stale-after

CONF = """\
server:
  listen: @LISTEN@
  http: "127.0.0.1:@HTTP@"
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
  eu: { name: route-eu-west-1 }
@EXTRA@
zones:
  - id: svc
    origin: svc.test.
    file: policy.svc.test.zone
    ttl: 7
    records:
      - name: api
        type: A
        policy: failover
        targets:
          - { control: east, region: us-east-1, values: [10.0.1.10] }
          - { control: west, region: us-west-2, values: [10.1.1.10] }
          - { control: eu, region: eu-west-1, values: [10.2.1.10] }
      - name: role
        policy: role
        targets:
          - { control: east, region: us-east-1 }
          - { control: west, region: us-west-2 }
  - id: svc-vpc
    origin: svc.test.
    file: policy.svc.test.zone
    ttl: 3
views:
  - name: vpc
    match-clients: ["127.0.0.2/32"]
    zones: [svc-vpc]
  - name: default
    match-clients: [any]
    zones: [svc]
"""


class HttpDaemon(PolicyDaemon):
    """arcdnsd from CONF with server.http on its own free port."""

    def __init__(self, t, sim, extra="", name="http"):
        PolicyDaemon.__init__(self, t, sim, name=name, identity="arcdns-http")
        self.extra = extra
        self.http_port = None

    def render(self, template_text=None):
        self.http_port = free_port()
        self.vars.update({"HTTP": self.http_port, "EXTRA": self.extra})
        return PolicyDaemon.render(self, CONF)

    def get(self, path, method="GET", headers=None, body=None, timeout=3):
        """(status, headers dict lower-case, body bytes) or (None, {}, why)."""
        return http_request(self.http_port, path, method, headers, body, timeout)

    def json(self, path):
        """(status, parsed JSON or None)."""
        st, _, data = self.get(path)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, None

    def chaos_hash(self):
        rc, strings = self.state_strings()
        return parse_state(strings)["hash"] if rc == "NOERROR" else None


def start_pair(t, sim, extra=""):
    d = HttpDaemon(t, sim, extra=extra)
    for _ in range(8):
        d.start()
        if not (sim.base <= d.port < sim.base + 6 or sim.base <= d.http_port < sim.base + 6):
            return d
        d.stop()
        d = HttpDaemon(t, sim, extra=extra)
    return d


def wait_status(d, path, want, timeout):
    """Poll path until its status is want; (status, seconds)."""
    got = [None]

    def probe():
        got[0] = d.get(path, timeout=1)[0]
        return got[0] == want
    ok, took = wait_for(probe, timeout)
    return got[0], took


def reasons(doc):
    return [(r.get("reason"), r.get("control")) for r in (doc or {}).get("reasons", [])]


def check_basics(t, d):
    st, hd, body = d.get("/healthz")
    t.ok(st == 200 and body == b"ok\n", "/healthz: 200 ok", (st, body))
    st, took = wait_status(d, "/readyz", 200, 5)
    t.ok(st == 200, "/readyz: 200 once the mirror is fresh (%.2fs)" % took)
    st, doc = d.json("/readyz")
    t.ok(st == 200 and doc == {"ready": True, "reasons": []},
         "/readyz: JSON ready, no reasons", (st, doc))
    st, hd, body = d.get("/readyz", method="HEAD")
    t.ok(st == 200 and body == b"", "HEAD /readyz: 200, no body", (st, body))
    for m in ("POST", "PUT", "DELETE"):
        st, hd, body = d.get("/readyz", method=m, body=b"x=1")
        t.ok(st == 405 and hd.get("allow") == "GET, HEAD",
             "%s /readyz: 405 with Allow: GET, HEAD" % m, (st, hd, body))
    for p in ("/", "/nope", "/v1/state/x", "/v1/controls/", "/v1/controls/a%2Fb",
              "/v1/role/a/b"):
        st, _, body = d.get(p)
        t.ok(st == 404, "GET %s: 404" % p, (st, body))
    st, hd, body = d.get("/metrics")
    t.ok(st == 200 and hd.get("content-type", "").startswith("text/plain; version=0.0.4")
         and b"# TYPE arcdns_build_info gauge" in body and body.endswith(b"\n"),
         "/metrics: 200, Prometheus text 0.0.4 with build info", (st, hd, body[:200]))
    st, hd, _ = d.get("/v1/state")
    t.ok(hd.get("content-type") == "application/json" and
         hd.get("cache-control") == "no-store",
         "/v1/state: application/json, Cache-Control: no-store", hd)


def check_state(t, d, sim, label):
    """/v1/state against arcsim, DNS and CH TXT state.arcdns."""
    states = sim.states()
    st, doc = d.json("/v1/state")
    t.ok(st == 200 and isinstance(doc, dict), "%s: /v1/state is JSON" % label, (st, doc))
    doc = doc or {}
    t.ok(doc.get("identity") == "arcdns-http" and isinstance(doc.get("version"), str)
         and doc.get("ready") is True and doc.get("fences") == [],
         "%s: identity, version, ready, fences []" % label, doc)
    h = d.chaos_hash()
    t.ok(h is not None and doc.get("hash") == h,
         "%s: the state hash is CH TXT state.arcdns's (%s)" % (label, h),
         (doc.get("hash"), h))
    ctl = {c.get("name"): c for c in doc.get("controls", [])}
    t.ok(sorted(ctl) == ["east", "eu", "west"] and
         all(ctl[n]["state"] == states[n] for n in ctl) and
         all(ctl[n]["arn"] == sim.arn(n) for n in ctl) and
         all(ctl[n]["endpoint"] in REGIONS and isinstance(ctl[n]["changed_ms"], int)
             and ctl[n]["missing"] is False for n in ctl),
         "%s: controls: name, ARN, state, endpoint, changed_ms as arcsim has them" % label,
         (ctl, states))
    eps = doc.get("endpoints", [])
    t.ok([e.get("region") for e in eps] == REGIONS and
         [e.get("url") for e in eps] == [sim.url(i) for i in range(5)] and
         sum(e.get("ok", 0) for e in eps) > 0 and
         all(set(e.get("errors", {})) == {"endpoint", "throttle", "auth", "config"}
             and isinstance(e.get("healthy"), bool) and "last_latency_ms" in e
             and "backoff_until_ms" in e and e.get("requests", -1) >= e.get("ok", 0)
             for e in eps),
         "%s: five endpoints in config order with health, latency, counters" % label, eps)
    f = doc.get("freshness", {})
    t.ok(f.get("arc") is True and f.get("stale") is False and
         isinstance(f.get("last_success_ms"), int) and 0 <= f.get("age_ms", -1) < 5000,
         "%s: freshness: fresh, last success, age" % label, f)
    zones = {(z.get("view"), z.get("zone")): z.get("serial") for z in doc.get("zones", [])}
    want = {("vpc", "svc-vpc"): d.serial("vpc"), ("default", "svc"): d.serial("default")}
    t.ok(zones == want, "%s: zones with the serial DNS serves, per view" % label,
         (zones, want))
    return doc


def check_targets(t, d, label, east, west):
    """/v1/controls, /v1/regions and /v1/role for east/west On or Off."""
    code = {"On": 200, "Off": 503}
    for name, region, s in (("east", "us-east-1", east), ("west", "us-west-2", west)):
        st, doc = d.json("/v1/controls/" + name)
        t.ok(st == code[s] and (doc or {}).get("state") == s and doc.get("control") == name,
             "%s: /v1/controls/%s %d %s" % (label, name, code[s], s), (st, doc))
        st, doc = d.json("/v1/regions/" + region)
        t.ok(st == code[s] and (doc or {}).get("region") == region and
             doc.get("control") == name and doc.get("state") == s,
             "%s: /v1/regions/%s %d" % (label, region, code[s]), (st, doc))
    active = "us-east-1" if east == "On" else "us-west-2"
    for region in ("us-east-1", "us-west-2"):
        st, _, body = d.get("/v1/role/" + region)
        want = b"active\n" if region == active else b"passive\n"
        t.ok(st == 200 and body == want, "%s: /v1/role/%s %s" % (
            label, region, want.decode().strip()), (st, body))
    st, doc = d.json("/v1/controls/eu")
    t.ok(st == 503 and (doc or {}).get("state") == "Off", "%s: /v1/controls/eu 503 Off"
         % label, (st, doc))
    st, _ = d.json("/v1/regions/eu-west-1")
    t.is_(st, 503, "%s: /v1/regions/eu-west-1 503 (eu Off)" % label)
    for p in ("/v1/controls/nope", "/v1/regions/ap-south-1", "/v1/role/eu-west-1",
              "/v1/role/nowhere"):
        st, _, body = d.get(p)
        t.ok(st == 404, "%s: %s 404" % (label, p), (st, body))


def flipped(d, east, west):
    def probe():
        a = d.get("/v1/regions/us-east-1", timeout=1)[0]
        b = d.get("/v1/regions/us-west-2", timeout=1)[0]
        r = d.get("/v1/role/us-west-2", timeout=1)[2]
        return (a == (200 if east == "On" else 503) and b == (200 if west == "On" else 503)
                and r == (b"passive\n" if east == "On" else b"active\n"))
    return probe


def check_flip(t, d, sim):
    check_targets(t, d, "start", "On", "On")
    h0 = d.chaos_hash()
    t0 = sim.set("east", "Off")
    ok, took = wait_for(flipped(d, "Off", "On"), FOLLOW + 1)
    t.ok(ok, "flip east Off: /v1/regions and /v1/role follow (%.2fs)" % took)
    check_targets(t, d, "east Off", "Off", "On")
    doc = check_state(t, d, sim, "east Off")
    t.ok(doc.get("hash") != h0, "east Off: the state hash moved")
    t0 = sim.set("east", "On")
    ok, took = wait_for(flipped(d, "On", "On"), FOLLOW + 1)
    t.ok(ok, "flip back: /v1/regions and /v1/role follow (%.2fs)" % took)
    ok, _ = wait_for(lambda: d.chaos_hash() == h0, FOLLOW)
    st, doc = d.json("/v1/state")
    t.ok(ok and (doc or {}).get("hash") == h0, "flip back: the first hash again", doc)
    del t0


def check_outage(t, d, sim):
    for i in range(5):
        sim.fault(i, "unavailable")
    st, took = wait_status(d, "/readyz", 503, STALE + 3)
    t.ok(st == 503, "every arcsim endpoint failing: /readyz 503 (%.2fs)" % took)
    st, doc = d.json("/readyz")
    t.ok(st == 503 and ("mirror-stale", None) in reasons(doc) and
         all(isinstance(r.get("message"), str) for r in doc.get("reasons", [])),
         "/readyz body: reason mirror-stale with a message", doc)
    st, doc = d.json("/v1/state")
    eps = (doc or {}).get("endpoints", [])
    t.ok(doc.get("ready") is False and doc.get("freshness", {}).get("stale") is True,
         "/v1/state: not ready, stale", doc.get("freshness"))
    t.ok(any(e["healthy"] is False for e in eps) and
         sum(e["errors"]["endpoint"] for e in eps) > 0,
         "/v1/state: endpoints unhealthy, endpoint errors counted", eps)
    st, doc = d.json("/v1/controls/east")
    t.ok(st == 200 and doc.get("stale") is True,
         "while stale, /v1/controls/east keeps the last known On", (st, doc))
    for i in range(5):
        sim.fault(i, "ok")
    st, took = wait_status(d, "/readyz", 200, 5 + 2 * POLL_MS / 1000.0)
    t.ok(st == 200, "faults cleared: /readyz 200 again (%.2fs)" % took)


def check_reload(t, d):
    mark = d.log_size()
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"reloaded", 5, start_at=mark)
    t.ok(line is not None, "SIGHUP: reloaded")
    st, took = wait_status(d, "/readyz", 200, 5)
    t.ok(st == 200, "after the reload /readyz is 200 again (%.2fs)" % took)
    st, doc = d.json("/v1/state")
    t.ok(st == 200 and (doc or {}).get("reloads") == 1 and
         len(doc.get("endpoints", [])) == 5 and doc.get("hash") == d.chaos_hash(),
         "after the reload /v1/state reads the new runtime (reloads 1, "
         "5 endpoints, the same hash as state.arcdns)", doc)


def check_unknown_control(t, sim):
    d = start_pair(t, sim, extra="  ghost: { name: route-nowhere }")
    try:
        ok, _ = wait_for(lambda: d.json("/readyz")[1] is not None and
                         ("control-unknown", "ghost") in reasons(d.json("/readyz")[1]), 5)
        st, doc = d.json("/readyz")
        t.ok(st == 503 and reasons(doc) == [("control-unknown", "ghost")],
             "a control arcsim lacks: /readyz 503, the one reason control-unknown ghost",
             (st, doc))
        st, doc = d.json("/v1/controls/ghost")
        t.ok(st == 503 and (doc or {}).get("state") == "unknown" and
             isinstance(doc.get("reason"), str),
             "/v1/controls/ghost: 503 unknown, with a reason", (st, doc))
    finally:
        d.stop()


def dns_ok(d):
    """One UDP query for a static name: (answered, seconds)."""
    t0 = time.monotonic()
    m = d.query("static.svc.test.", "A", timeout=1.0)
    return (m is not None and m.rcode == 0 and "192.0.2.80" in m.texts("answer", "A"),
            time.monotonic() - t0)


def check_big_header(t, d):
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=bound(5))
    status = b""
    sent = 0
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * 65536
        while sent < (1 << 20):
            try:
                s.sendall(chunk)
            except OSError:
                break   # the daemon closed on us: fine
            sent += len(chunk)
        try:
            s.sendall(b"\r\n\r\n")
            status = s.recv(64)
        except OSError:
            pass
    finally:
        s.close()
    t.ok(status == b"" or status.split(b" ")[1:2] in ([b"400"], [b"413"], [b"431"]),
         "1 MiB header: refused (%r after %d KiB)" % (status[:12], sent // 1024))
    res = [dns_ok(d) for _ in range(5)]
    t.ok(d.alive() and all(ok for ok, _ in res),
         "after a 1 MiB header: alive, DNS answers (max %.3fs)" % max(x for _, x in res))
    st, _, _ = d.get("/healthz")
    t.is_(st, 200, "after a 1 MiB header: /healthz 200")


def check_idle_timeout(t, d):
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=bound(10))
    t0 = time.monotonic()
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # never finished
        data = s.recv(64)
    except OSError as e:
        data = str(e).encode()
    finally:
        s.close()
    took = time.monotonic() - t0
    t.ok(4.5 <= took < 9 and not data.startswith(b"HTTP/1.1 200"),
         "an unfinished request is cut after the 5 s timeout (%.2fs, %r)" % (took, data[:12]))


def check_trickle(t, d):
    """A client sending one header byte every 0.5 s never trips the 5 s
    inactivity timeout: the 10 s lifetime cuts it."""
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=bound(5))
    t0 = time.monotonic()
    cut = None
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        s.settimeout(0.5)
        while time.monotonic() - t0 < 20:
            try:
                if s.recv(64) == b"":
                    cut = time.monotonic() - t0
                    break
            except socket.timeout:
                pass
            except OSError:
                cut = time.monotonic() - t0
                break
            try:
                s.sendall(b"a")
            except OSError:
                cut = time.monotonic() - t0
                break
    finally:
        s.close()
    t.ok(cut is not None and 9 <= cut < 13,
         "a client trickling its header is closed at the 10 s lifetime (%s)"
         % ("%.2fs" % cut if cut is not None else "not closed in 20 s"))
    ok, x = dns_ok(d)
    t.ok(ok and d.alive(), "meanwhile DNS answers and the daemon is up")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_out_of_fds(t, d):
    """accept() failing with EMFILE pauses the listener instead of spinning."""
    pid = d.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    nfds = len(os.listdir("/proc/%d/fd" % pid))
    mark = d.log_size()
    socks = []
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (nfds + 1, hard))
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", d.http_port))
            except BlockingIOError:
                pass
            socks.append(s)
        line = d.wait_log(r"http: accept: .*: not accepting for 1 s", 5, start_at=mark)
        t.ok(line is not None, "out of file descriptors: accept() fails, the listener pauses",
             line)
        c0 = cpu_seconds(pid)
        res = []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            res.append(dns_ok(d))
            time.sleep(0.05)
        used = cpu_seconds(pid) - c0
        if TEST_RUNNER:
            t.skip("... without spinning (%.2fs CPU in 1.5s)" % used,
                   "CPU time means nothing under TEST_RUNNER")
        else:
            t.ok(used < 0.5, "... without spinning (%.2fs CPU in 1.5s)" % used)
        t.ok(all(ok for ok, _ in res) and d.alive(),
             "... while DNS answers (%d queries)" % len(res))
    finally:
        for s in socks:
            s.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    st, took = wait_status(d, "/healthz", 200, 5)
    t.ok(st == 200, "descriptors back: /healthz 200 (%.2fs)" % took)


def check_idle_connections(t, d, n=500):
    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", d.http_port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            socks.append(s)
        t.diag("%d idle connections opened in %.2fs" % (len(socks), time.monotonic() - t0))
        res = []
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            res.append(dns_ok(d))
            time.sleep(0.05)
        worst = max(x for _, x in res)
        t.ok(all(ok for ok, _ in res) and worst < bound(1.0),
             "%d idle HTTP connections: %d DNS queries all answered (max %.3fs)"
             % (len(socks), len(res), worst))
        d.dig("static.svc.test", "A")
        r = d.dig("static.svc.test", "A")
        t.ok(r is None or (r.status == "NOERROR" and "192.0.2.80" in r.texts("answer", "A")),
             "dig answers meanwhile", r)
        t.ok(d.alive(), "the daemon stays up")
        t.ok(d.wait_log(r"http: 64 connections open: not accepting more", 2) is not None,
             "the connection cap (64) engaged")
    finally:
        for s in socks:
            s.close()
    st, took = wait_status(d, "/healthz", 200, 10)
    t.ok(st == 200, "idle connections gone: /healthz 200 (%.2fs)" % took)


def main(t):
    set_credentials()
    sim = PolicySim(t, name="http")
    d = None
    try:
        sim.start()
        d = start_pair(t, sim)
        check_basics(t, d)
        check_state(t, d, sim, "start")
        check_flip(t, d, sim)
        check_outage(t, d, sim)
        check_reload(t, d)
        check_big_header(t, d)
        check_idle_connections(t, d)
        check_idle_timeout(t, d)
        check_trickle(t, d)
        check_out_of_fds(t, d)
        check_unknown_control(t, sim)
        t.ok(d.alive(), "the daemon is still up at the end")
        d._reap()
        m = re.search(r"http: stopping: (\d+) connections accepted, (\d+) requests "
                      r"answered, (\d+) closed at their lifetime, (\d+) open", d.log_text())
        t.ok(d.exit_code == 0 and m is not None and int(m.group(4)) == 0 and
             int(m.group(1)) >= 64 and int(m.group(3)) >= 1,
             "clean stop; every connection was counted out again (%s)"
             % (m.group(0) if m else "no stopping line"))
    finally:
        if d is not None:
            d.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=150)
