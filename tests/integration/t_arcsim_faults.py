#!/usr/bin/python3
"""t_arcsim_faults.py -- arcsim's fault injection, rate limit, --state,
admin interface validation and configuration errors, seen from clients.

Every fault mode from a boto3 client (retries off): http500, unavailable,
throttle, garbage, slow, hang, down, and back to ok; a hung (or slow)
endpoint does not slow the other four; down refuses new connections and
drops open ones; the 4th update within a second is a ThrottlingException
(per endpoint; reads are not limited); control states survive a restart
with --state; the admin interface refuses bad input with 400/404/405 and
a JSON error; bad configurations and options exit 1 with a message.
"""

import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import botocore.exceptions
except ImportError:     # run_sim() reports the SKIP
    botocore = None
from simharness import (REGIONS, ArcSim, bound, call, cell_arn, error_code,  # noqa: E402
                        free_port_block, run_arcsim, run_sim)


def http_status(e):
    try:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]
    except (AttributeError, KeyError, TypeError):
        return None


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    r, e = call(fn, *args, **kw)
    return r, e, time.monotonic() - t0


def check_simple_faults(t, sim):
    c = sim.client(2)
    st = sim.fault(2, "http500")
    t.is_(st.get("fault", {}).get("mode"), "http500", "PUT fault answers the endpoint's new fault")
    _, e = call(c.list_routing_controls)
    t.ok(error_code(e) == "InternalServerException" and http_status(e) == 500,
         "http500: InternalServerException, 500", e)

    sim.fault(2, "unavailable")
    _, e = call(c.get_routing_control_state, RoutingControlArn=cell_arn(0))
    t.ok(error_code(e) == "EndpointTemporarilyUnavailableException" and http_status(e) == 503,
         "unavailable: EndpointTemporarilyUnavailableException, 503", e)

    sim.fault(2, "throttle", retry_after=2)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "ThrottlingException", "throttle: ThrottlingException")
    t.is_(getattr(e, "response", {}).get("retryAfterSeconds"), 2, "throttle: retryAfterSeconds 2")

    sim.fault(2, "garbage")
    r, e = call(c.list_routing_controls)
    t.ok(e is not None or "RoutingControls" not in r,
         "garbage: boto3 gets no routing controls out of the body", (r, e))
    status, hdrs, body = sim.raw(2)
    bad = False
    try:
        json.loads(body)
    except ValueError:
        bad = True
    t.ok(status == 200 and bad, "garbage: 200 with a body that is not JSON", (status, body))

    doc = sim.state()
    modes = [ep["fault"]["mode"] for ep in doc["endpoints"]]
    t.is_(modes, ["ok", "ok", "garbage", "ok", "ok"], "GET /state shows each endpoint's fault")
    sim.fault(2, "ok")
    r, e = call(c.list_routing_controls)
    t.ok(e is None and r["RoutingControls"], "ok: the endpoint serves again", e)


def others_fast(t, sim, busy, label, calls=3):
    """Time calls to every endpoint but busy; all must be quick."""
    worst = 0.0
    fails = []
    t0 = time.monotonic()
    for i in range(5):
        if i == busy:
            continue
        for _ in range(calls):
            _, e, dt = timed(sim.client(i).list_routing_controls)
            worst = max(worst, dt)
            if e is not None:
                fails.append((REGIONS[i], e))
    total = time.monotonic() - t0
    t.ok(not fails, "%s: the other four answer" % label, fails)
    t.ok(worst < bound(0.5), "%s: no call to the other four took 0.5 s (worst %.3f s, %d calls "
         "in %.3f s)" % (label, worst, calls * 4, total))
    return total


def check_slow(t, sim):
    sim.fault(3, "slow", delay_ms=800)
    res = {}

    def slow_call():
        res["r"], res["e"], res["dt"] = timed(sim.client(3, cache=False).list_routing_controls)
    th = threading.Thread(target=slow_call)
    th.start()
    time.sleep(0.05)    # let the slow request reach arcsim (not readiness)
    others_fast(t, sim, 3, "slow on ap-northeast-1", calls=2)
    th.join(bound(10))
    t.ok(not th.is_alive(), "slow: the slow call returns")
    t.ok(res.get("e") is None and res.get("r", {}).get("RoutingControls"),
         "slow: the answer is a normal one", res.get("e"))
    t.ok(res.get("dt", 0) >= 0.75, "slow: it came about 800 ms late (%.3f s)" % res.get("dt", 0))
    sim.fault(3, "ok")
    _, e, dt = timed(sim.client(3).list_routing_controls)
    t.ok(e is None and dt < bound(0.5), "slow off: fast again (%.3f s)" % dt, e)


def check_hang(t, sim):
    sim.fault(1, "hang")
    res = {}

    def hung_call():
        c = sim.client(1, read_timeout=3, cache=False)
        res["r"], res["e"], res["dt"] = timed(c.list_routing_controls)
    th = threading.Thread(target=hung_call)
    th.start()
    # wait (bounded) until arcsim holds the request
    held = 0
    for _ in range(100):
        doc = sim.state()
        held = doc["endpoints"][1].get("held", 0) if doc else 0
        if held:
            break
        time.sleep(0.02)
    t.ok(held >= 1, "hang: arcsim holds the request (admin shows held %d)" % held)
    others_fast(t, sim, 1, "hang on us-west-2")
    t.ok(th.is_alive(), "hang: the hung call is still waiting meanwhile")
    th.join(bound(10))
    t.ok(not th.is_alive(), "hang: the hung call ends by its own read timeout")
    t.ok(isinstance(res.get("e"), botocore.exceptions.ReadTimeoutError),
         "hang: boto3 gets ReadTimeoutError", res.get("e"))
    t.ok(res.get("dt", 0) >= 2.9, "hang: after the 3 s read timeout (%.2f s)" % res.get("dt", 0))
    t.like(sim.log_text(), r"us-west-2 ListRoutingControls -> held \(fault hang\)",
           "hang: logged as held")
    sim.reset()
    doc = sim.state()
    t.is_(doc["endpoints"][1].get("held"), 0, "reset: held requests dropped")
    _, e = call(sim.client(1).list_routing_controls)
    t.ok(e is None, "reset: the endpoint serves again", e)


def check_down(t, sim):
    ctx = sim.ssl_context()
    conn = http.client.HTTPSConnection("127.0.0.1", sim.base + 4, timeout=bound(5), context=ctx)
    conn.request("POST", "/v1", body=b"{}")
    r = conn.getresponse()
    r.read()
    t.is_(r.status, 403, "down: a kept-alive connection is open before (403 unsigned)")
    sim.fault(4, "down")
    dropped = False
    why = None
    try:
        conn.sock.settimeout(bound(3))
        data = conn.sock.recv(1)
        dropped = data == b""
        why = data
    except (ConnectionError, ssl.SSLError, OSError) as e:
        dropped = not isinstance(e, socket.timeout)
        why = e
    conn.close()
    t.ok(dropped, "down: the open connection is dropped", why)
    c = sim.client(4, cache=False)
    _, e, dt = timed(c.list_routing_controls)
    t.ok(isinstance(e, botocore.exceptions.EndpointConnectionError),
         "down: boto3 gets EndpointConnectionError", e)
    t.ok(dt < bound(1.0), "down: refused at once (%.3f s)" % dt)
    s = socket.socket()
    s.settimeout(bound(2))
    try:
        s.connect(("127.0.0.1", sim.base + 4))
        refused = False
    except ConnectionRefusedError:
        refused = True
    finally:
        s.close()
    t.ok(refused, "down: connect() is refused")
    others_fast(t, sim, 4, "down on ap-southeast-2", calls=1)
    sim.fault(4, "ok")
    _, e = call(sim.client(4, cache=False).list_routing_controls)
    t.ok(e is None, "ok after down: listening again", e)
    sim.fault(4, "down")
    sim.reset()
    _, e = call(sim.client(4, cache=False).list_routing_controls)
    t.ok(e is None, "reset after down: listening again", e)


def check_rate_limit(t, sim):
    c = sim.client(0)
    arn = cell_arn(1)
    call(c.list_routing_controls)   # connect first: time the updates only
    starts, errs = [], []
    for _ in range(4):
        starts.append(time.monotonic())
        _, e = call(c.update_routing_control_state, RoutingControlArn=arn,
                    RoutingControlState="On")
        errs.append(e)
    span = time.monotonic() - starts[0]
    t.ok(all(e is None for e in errs[:3]), "rate limit: 3 updates in a second pass", errs[:3])
    if span < 0.9:
        t.is_(error_code(errs[3]), "ThrottlingException", "rate limit: the 4th is a ThrottlingException")
        t.is_(getattr(errs[3], "response", {}).get("retryAfterSeconds"), 1,
              "rate limit: retryAfterSeconds 1")
        t.is_(http_status(errs[3]), 429, "rate limit: a 429")
    else:
        for name in ("the 4th is a ThrottlingException", "retryAfterSeconds 1", "a 429"):
            t.skip("rate limit: " + name, "4 calls took %.2f s" % span)
    _, e = call(sim.client(1).update_routing_control_state, RoutingControlArn=arn,
                RoutingControlState="On")
    t.ok(e is None, "rate limit: per endpoint (us-west-2 still accepts)", e)
    errs = [call(c.list_routing_controls)[1] for _ in range(10)]
    t.ok(all(e is None for e in errs), "rate limit: reads are not limited", errs)
    time.sleep(1.05)    # the quota's window (not readiness)
    _, e = call(c.update_routing_control_state, RoutingControlArn=arn, RoutingControlState="Off")
    t.ok(e is None, "rate limit: a second later updates pass again", e)
    t.like(sim.log_text(), r"us-east-1 UpdateRoutingControlState -> 429 ThrottlingException",
           "rate limit: the refusal is logged")


def check_admin_validation(t, sim):
    bad = [
        ("not JSON", "PUT", "/endpoints/0/fault", "{mode: ok"),
        ("an array", "PUT", "/endpoints/0/fault", '["ok"]'),
        ("no mode", "PUT", "/endpoints/0/fault", "{}"),
        ("unknown mode", "PUT", "/endpoints/0/fault", '{"mode": "explode"}'),
        ("mode not a string", "PUT", "/endpoints/0/fault", '{"mode": 3}'),
        ("mode in upper case", "PUT", "/endpoints/0/fault", '{"mode": "OK"}'),
        ("negative delay", "PUT", "/endpoints/0/fault", '{"mode": "slow", "delay_ms": -1}'),
        ("delay too long", "PUT", "/endpoints/0/fault", '{"mode": "slow", "delay_ms": 600001}'),
        ("delay a string", "PUT", "/endpoints/0/fault", '{"mode": "slow", "delay_ms": "100"}'),
        ("delay a float", "PUT", "/endpoints/0/fault", '{"mode": "slow", "delay_ms": 1.5}'),
        ("retry_after too big", "PUT", "/endpoints/0/fault",
         '{"mode": "throttle", "retry_after": 3601}'),
        ("unknown member", "PUT", "/endpoints/0/fault", '{"mode": "ok", "extra": 1}'),
        ("duplicate member", "PUT", "/endpoints/0/fault", '{"mode": "ok", "mode": "down"}'),
    ]
    for label, method, path, raw in bad:
        status, doc, text = sim.admin(method, path, raw=raw)
        t.ok(status == 400 and isinstance(doc, dict) and doc.get("error"),
             "admin: %s -> 400 with a JSON error" % label, (status, text))
    for label, method, path, want in [
            ("endpoint 5", "PUT", "/endpoints/5/fault", 404),
            ("endpoint x", "PUT", "/endpoints/x/fault", 404),
            ("unknown path", "GET", "/nope", 404),
            ("DELETE /state", "DELETE", "/state", 405),
            ("GET /reset", "GET", "/reset", 405),
            ("POST a fault", "POST", "/endpoints/0/fault", 405)]:
        status, doc, text = sim.admin(method, path, raw='{"mode": "ok"}' if method != "GET" else None)
        t.ok(status == want and isinstance(doc, dict) and doc.get("error"),
             "admin: %s -> %d with a JSON error" % (label, want), (status, text))
    doc = sim.state()
    t.is_([ep["fault"]["mode"] for ep in doc["endpoints"]], ["ok"] * 5,
          "admin: refused requests changed nothing")
    t.ok(len(doc.get("controls", [])) == 15 and all("arn" in x and "state" in x
                                                   for x in doc["controls"]),
         "admin: GET /state lists every control with its state")
    t.is_([ep["region"] for ep in doc["endpoints"]], REGIONS, "admin: endpoints in region order")
    status, doc, _ = sim.admin("GET", "/endpoints/3/fault")
    t.ok(status == 200 and doc.get("fault", {}).get("mode") == "ok", "admin: GET one endpoint's fault")


def check_state(t, sim):
    c = sim.client(3)
    call(c.update_routing_control_state, RoutingControlArn=cell_arn(3), RoutingControlState="On")
    time.sleep(0.35)    # quota spacing for ap-northeast-1 (not readiness)
    _, e = call(c.update_routing_control_states, UpdateRoutingControlStateEntries=[
        {"RoutingControlArn": cell_arn(4), "RoutingControlState": "On"}])
    t.ok(e is None, "state: updates applied", e)
    try:
        with open(sim.state_path) as f:
            saved = json.load(f)
    except (OSError, ValueError) as e:
        saved = {"error": str(e)}
    t.ok("arcsim-state" in saved, "state: --state file written after the update", saved)
    t.ok(not [n for n in os.listdir(sim.dir) if n.endswith(".tmp")],
         "state: no temporary file left (atomic write)")
    t.is_(sim.halt(), 0, "state: SIGTERM stops arcsim with status 0")
    sim.start()
    c = sim.client(0)
    got = [c.get_routing_control_state(RoutingControlArn=cell_arn(i))["RoutingControlState"]
           for i in (3, 4, 5)]
    t.is_(got, ["On", "On", "Off"], "state: control states survive a restart")
    t.like(sim.log_text(), r"control state\(s\) restored", "state: restore logged")
    sim.halt()
    sim.use_state = False
    sim.start()
    got = sim.client(0).get_routing_control_state(RoutingControlArn=cell_arn(3))
    t.is_(got["RoutingControlState"], "Off", "state: without --state, sim.yaml's states")
    sim.halt()
    with open(sim.state_path, "w") as f:
        f.write("{not json")
    sim.use_state = True
    try:
        sim.start(attempts=1)
        started = True
    except Exception:
        started = False
        sim.fail_mark = t.failed    # the start failure was expected: no log dump
    t.ok(not started and sim.exit_code == 1, "state: a corrupt state file stops the start (exit 1)",
         sim.exit_code)
    t.like(sim.log_text(), r"corrupt state file", "state: and says why")


def check_config_errors(t, tmp):
    def write(name, text):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(text)
        return p
    syntax = write("syntax.yaml", 'account: "111122223333"\ncredentials: [\n')
    rc, out, err = run_arcsim(["-f", "-c", syntax])
    t.is_(rc, 1, "config: YAML syntax error exits 1")
    t.like(err, r"syntax\.yaml:\d+:\d+: ", "config: syntax error as file:line:column")
    schema = write("schema.yaml", 'account: "111122223333"\ncredentials:\n'
                   '  - { access-key-id: AKID, secret-access-key: s }\ncontrol-panels:\n'
                   '  - name: P\n    routing-controls:\n      - { name: a, state: maybe }\n')
    rc, out, err = run_arcsim(["-f", "-c", schema])
    t.is_(rc, 1, "config: bad state value exits 1")
    t.like(err, r"schema\.yaml:7:\d+: ", "config: bad value reported at its line")
    rc, out, err = run_arcsim(["-f", "-c", os.path.join(tmp, "missing.yaml")])
    t.ok(rc == 1 and "missing.yaml" in err, "config: a missing file exits 1 naming it", err)
    good = write("good.yaml", 'account: "111122223333"\ncredentials:\n'
                 '  - { access-key-id: AKID, secret-access-key: s }\ncontrol-panels:\n'
                 '  - name: P\n    routing-controls:\n      - { name: a, state: On }\n')
    base = free_port_block()
    for label, args, pattern in [
            ("--base-port 0", ["--base-port", "0"], r"--base-port"),
            ("--base-port 70000", ["--base-port", "70000"], r"--base-port"),
            ("--admin off loopback", ["--admin", "192.0.2.1:8080"], r"loopback"),
            ("--admin without a port", ["--admin", "127.0.0.1"], r"--admin"),
            ("--listen not an address", ["--listen", "example.com",
                                         "--base-port", str(base)], r"--listen"),
            ("--cert without --key", ["--cert", good], r"--cert and --key"),
            ("--plain with --ca-out", ["--plain", "--ca-out", "x.pem"], r"--plain"),
            ("unknown option", ["--bogus"], r"usage"),
            ("--cert not a certificate", ["--cert", good, "--key", good,
                                          "--base-port", str(base)], r"--cert"),
    ]:
        rc, out, err = run_arcsim(["-f", "-c", good] + args)
        t.ok(rc == 1 and re.search(pattern, err), "options: %s exits 1 with a message" % label,
             (rc, err))
    # a port already taken
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", base + 2))
    s.listen(1)
    try:
        rc, out, err = run_arcsim(["-f", "-c", good, "--base-port", str(base),
                                   "--admin", "127.0.0.1:%d" % (base + 5), "--plain"])
    finally:
        s.close()
    t.ok(rc == 1 and re.search(r"127\.0\.0\.1:%d: Address already in use" % (base + 2), err),
         "options: a port in use exits 1 naming it", (rc, err))
    rc, out, err = run_arcsim(["-V"])
    t.like(out, r"^arcsim \d+\.\d+", "-V prints the version")
    rc, out, err = run_arcsim(["-h"])
    t.ok(rc == 0 and "--print-arcdns-config" in out, "-h prints the usage")


def main(t):
    sim = ArcSim(t, state=True).start()
    try:
        check_rate_limit(t, sim)
        check_simple_faults(t, sim)
        check_slow(t, sim)
        check_hang(t, sim)
        check_down(t, sim)
        check_admin_validation(t, sim)
        check_state(t, sim)
        check_config_errors(t, sim.dir)
        t.ok(not sim.alive() or sim.halt() == 0, "arcsim stops cleanly")
    finally:
        sim.stop()


if __name__ == "__main__":
    run_sim(main)
