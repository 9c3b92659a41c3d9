#!/usr/bin/python3
"""t_arcsim.py -- arcsim driven by the real AWS SDK (Debian's python3-boto3).

One boto3 client per endpoint, region_name = that endpoint's region,
verify = the CA arcsim wrote, over TLS. Lists (whole, MaxResults=1 paging,
the paginator, the ControlPanelArn filter), gets, updates and batch
updates on every endpoint and sees every change from the other four; a
safety rule blocks with ConflictException and SafetyRulesToOverride lets
the same update through; a wrong secret, another region's signature, a
stale X-Amz-Date, a missing or wrong session token, an unknown key and a
missing Authorization are refused with the 403s of the spec; an invalid
state is a ValidationException, 11 entries a ServiceLimitExceededException;
a throttle fault is a ThrottlingException with retryAfterSeconds; wrong
paths and methods; --plain; --print-arcdns-config; SIGTERM/SIGINT.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ARCDNSD, bound  # noqa: E402
from simharness import (AKID, CELLS, NCONTROLS, REGION_CONTROLS, REGIONS,  # noqa: E402
                        RULE_ARN, SECRET, TOKEN, TOKEN_AKID, TOKEN_SECRET, ArcSim,
                        call, cell_arn, error_code, panel_arn, region_arn,
                        run_arcsim, run_sim)

RC_KEYS = {"ControlPanelArn", "ControlPanelName", "RoutingControlArn",
           "RoutingControlName", "RoutingControlState"}


def list_all(c, **kw):
    """Every routing control through MaxResults paging (bounded loop)."""
    out, token, pages = [], None, 0
    for _ in range(100):
        args = dict(kw)
        if token:
            args["NextToken"] = token
        r = c.list_routing_controls(**args)
        pages += 1
        out += r["RoutingControls"]
        token = r.get("NextToken")
        if not token:
            return out, pages
    raise AssertionError("paging did not end after 100 pages")


def states_from(c):
    r = c.list_routing_controls()
    return {x["RoutingControlArn"]: x["RoutingControlState"] for x in r["RoutingControls"]}


def check_startup(t, sim):
    t.like(sim.ready_line, r"ready: 5 endpoints on https://127\.0\.0\.1:%d\.\.%d, admin "
           r"http://127\.0\.0\.1:%d" % (sim.base, sim.base + 4, sim.base + 5),
           "ready line names the five endpoints and the admin interface")
    with open(sim.ca) as f:
        pem = f.read()
    t.ok(pem.startswith("-----BEGIN CERTIFICATE-----"), "--ca-out wrote a PEM certificate")
    t.ok(not any(n.endswith(".tmp") for n in os.listdir(sim.dir)),
         "no temporary file left next to the CA")


def check_lists(t, sim, clients):
    ref = None
    for i, c in enumerate(clients):
        r = c.list_routing_controls()
        rcs = r["RoutingControls"]
        t.is_(len(rcs), NCONTROLS, "%s: ListRoutingControls lists every control" % REGIONS[i])
        t.ok(all(RC_KEYS <= set(x) for x in rcs), "%s: every item has the five members" % REGIONS[i],
             rcs[:1])
        keys = [(x["ControlPanelArn"], x["RoutingControlArn"]) for x in rcs]
        t.ok(keys == sorted(keys), "%s: ordered by ControlPanelArn, then RoutingControlArn"
             % REGIONS[i])
        t.ok("NextToken" not in r, "%s: one page, no NextToken" % REGIONS[i])
        if ref is None:
            ref = rcs
        else:
            t.ok(rcs == ref, "%s: same list as us-east-1" % REGIONS[i])
        paged, pages = list_all(c, MaxResults=1)
        t.ok(paged == rcs and pages == NCONTROLS,
             "%s: MaxResults=1 paging gives the same list in %d pages" % (REGIONS[i], NCONTROLS),
             "pages=%d" % pages)
    byarn = {x["RoutingControlArn"]: x for x in ref}
    t.is_(byarn.get(region_arn("route-us-east-1"), {}).get("RoutingControlName"),
          "route-us-east-1", "ARNs are the stable ones derived from the names")
    t.is_(byarn.get(region_arn("route-us-east-1"), {}).get("RoutingControlState"), "On",
          "initial state On from sim.yaml")
    t.is_(byarn.get(region_arn("route-eu-west-1"), {}).get("RoutingControlState"), "Off",
          "initial state Off from sim.yaml")
    # paginator, and the panel filter with paging
    pg = clients[1].get_paginator("list_routing_controls")
    items = [x for page in pg.paginate(PaginationConfig={"PageSize": 4})
             for x in page["RoutingControls"]]
    t.ok(items == ref, "boto3 paginator (PageSize 4) walks the whole list")
    pa = panel_arn("DefaultControlPanel")
    f, pages = list_all(clients[2], ControlPanelArn=pa, MaxResults=2)
    t.is_(sorted(x["RoutingControlName"] for x in f), sorted(REGION_CONTROLS),
          "ControlPanelArn filter with MaxResults=2 lists that panel only")
    t.is_(pages, 2, "3 controls in pages of 2: two pages")
    _, e = call(clients[0].list_routing_controls, NextToken="not-a-token!")
    t.is_(error_code(e), "ValidationException", "a forged NextToken is a ValidationException")


def check_get(t, clients):
    for i, c in enumerate(clients):
        r = c.get_routing_control_state(RoutingControlArn=region_arn("route-us-west-2"))
        t.ok(r.get("RoutingControlState") == "On" and
             r.get("RoutingControlArn") == region_arn("route-us-west-2"),
             "%s: GetRoutingControlState" % REGIONS[i], r)
    missing = region_arn("no-such-control")
    _, e = call(clients[0].get_routing_control_state, RoutingControlArn=missing)
    t.is_(error_code(e), "ResourceNotFoundException", "unknown ARN: ResourceNotFoundException")
    if e is not None and hasattr(e, "response"):
        t.is_(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), 404,
              "ResourceNotFoundException is a 404 (Smithy column)")


def check_updates(t, sim, clients):
    """Each endpoint changes something; the four others see it."""
    for i, c in enumerate(clients):
        arn = cell_arn(i)
        sim.pace(i)
        c.update_routing_control_state(RoutingControlArn=arn, RoutingControlState="On")
        seen = [clients[j].get_routing_control_state(RoutingControlArn=arn)["RoutingControlState"]
                for j in range(5) if j != i]
        t.is_(seen, ["On"] * 4, "%s: UpdateRoutingControlState seen by the other four"
              % REGIONS[i])
        a, b = cell_arn(i), cell_arn(i + 5)
        sim.pace(i)
        c.update_routing_control_states(UpdateRoutingControlStateEntries=[
            {"RoutingControlArn": a, "RoutingControlState": "Off"},
            {"RoutingControlArn": b, "RoutingControlState": "On"}])
        ok = True
        for j in range(5):
            if j == i:
                continue
            st = states_from(clients[j])
            ok = ok and st.get(a) == "Off" and st.get(b) == "On"
        t.ok(ok, "%s: UpdateRoutingControlStates seen in the others' lists" % REGIONS[i])
    st = sim.control_states()
    t.ok(all(st.get(cell_arn(i)) == "Off" for i in range(5)) and
         all(st.get(cell_arn(i + 5)) == "On" for i in range(5)),
         "admin GET /state agrees with the SDK")


def check_safety(t, sim, clients):
    everything_off = [{"RoutingControlArn": region_arn(n), "RoutingControlState": "Off"}
                      for n in REGION_CONTROLS]
    sim.pace(0)
    _, e = call(clients[0].update_routing_control_states,
                UpdateRoutingControlStateEntries=everything_off)
    t.is_(error_code(e), "ConflictException", "all regions Off: ConflictException")
    if e is not None and hasattr(e, "response"):
        t.like(e.response.get("Error", {}).get("Message"), re.escape(RULE_ARN),
               "the message names the safety rule's ARN")
        t.is_(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), 409, "a 409")
        t.ok(e.response.get("resourceId") and e.response.get("resourceType"),
             "resourceId and resourceType present", e.response)
    st = states_from(clients[3])
    t.is_(st.get(region_arn("route-us-east-1")), "On", "nothing applied (seen from ap-northeast-1)")
    sim.pace(0)
    _, e = call(clients[0].update_routing_control_state,
                RoutingControlArn=region_arn("route-us-east-1"), RoutingControlState="Off")
    t.ok(e is None, "one region Off is allowed", e)
    sim.pace(0)
    _, e = call(clients[0].update_routing_control_state,
                RoutingControlArn=region_arn("route-us-west-2"), RoutingControlState="Off")
    t.is_(error_code(e), "ConflictException", "the last region On cannot go Off")
    sim.pace(1)
    _, e = call(clients[1].update_routing_control_states,
                UpdateRoutingControlStateEntries=everything_off,
                SafetyRulesToOverride=[RULE_ARN])
    t.ok(e is None, "the same batch with SafetyRulesToOverride succeeds", e)
    st = states_from(clients[4])
    t.ok(all(st.get(region_arn(n)) == "Off" for n in REGION_CONTROLS),
         "every region Off, seen from ap-southeast-2", st)
    sim.pace(2)
    _, e = call(clients[2].update_routing_control_state,
                RoutingControlArn=region_arn("route-us-east-1"), RoutingControlState="On")
    t.ok(e is None, "back On without an override (the rule holds afterwards)", e)


def check_validation(t, sim, clients):
    c = clients[3]
    sim.pace(3)
    _, e = call(c.update_routing_control_state, RoutingControlArn=cell_arn(11),
                RoutingControlState="on")
    t.is_(error_code(e), "ValidationException", "state 'on' (lower case): ValidationException")
    if e is not None and hasattr(e, "response"):
        t.is_(e.response.get("reason"), "fieldValidationFailed", "reason fieldValidationFailed")
        t.ok(isinstance(e.response.get("fields"), list), "fields[] readable", e.response)
    entries = [{"RoutingControlArn": cell_arn(i), "RoutingControlState": "On"} for i in range(11)]
    sim.pace(3)
    _, e = call(c.update_routing_control_states, UpdateRoutingControlStateEntries=entries)
    t.is_(error_code(e), "ServiceLimitExceededException", "11 entries: ServiceLimitExceededException")
    if e is not None and hasattr(e, "response"):
        t.ok(e.response.get("limitCode") and e.response.get("serviceCode"),
             "limitCode and serviceCode readable", e.response)
    st = sim.control_states()
    t.is_(st.get(cell_arn(0)), "Off", "nothing applied by the refused batch")
    sim.pace(3)
    _, e = call(c.update_routing_control_states, UpdateRoutingControlStateEntries=entries[:10])
    t.ok(e is None, "10 entries are fine", e)
    _, e = call(c.get_routing_control_state, RoutingControlArn="x" * 300)
    t.is_(error_code(e), "ValidationException", "a 300-character ARN: ValidationException")


def check_auth(t, sim):
    c = sim.client(0, secret="wrong/secret", cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "InvalidSignatureException", "wrong secret: InvalidSignatureException")
    if e is not None and hasattr(e, "response"):
        t.is_(e.response["ResponseMetadata"]["HTTPStatusCode"], 403, "wrong secret: 403")
    c = sim.client(0, region="eu-west-1", cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "InvalidSignatureException",
          "signed for eu-west-1, sent to us-east-1: InvalidSignatureException")
    c = sim.client(1, region="us-east-1", cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "InvalidSignatureException",
          "signed for us-east-1, sent to us-west-2: InvalidSignatureException")
    # A clock 10 minutes behind: botocore's own signer, patched clock.
    stale = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)

    class StaleDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return stale

        @classmethod
        def now(cls, tz=None):
            return stale.replace(tzinfo=tz) if tz else stale

    fake_module = types.SimpleNamespace(datetime=StaleDatetime, timedelta=datetime.timedelta,
                                        timezone=datetime.timezone, date=datetime.date)

    import botocore.auth
    c = sim.client(2, cache=False)
    patches = [mock.patch.object(botocore.auth, "datetime", fake_module)]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(mock.patch.object(botocore.auth, "get_current_datetime",
                                         lambda *a, **k: stale))
    seen = {}

    def grab(request, **kw):
        seen["date"] = request.headers.get("X-Amz-Date")
    c.meta.events.register("before-send", grab)
    for p in patches:
        p.start()
    try:
        _, e = call(c.list_routing_controls)
    finally:
        for p in patches:
            p.stop()
    want = stale.strftime("%Y%m%dT%H%M")
    t.ok(seen.get("date", b"") and want in (seen["date"].decode()
                                            if isinstance(seen["date"], bytes)
                                            else seen["date"]),
         "the request carried a 10-minute-old X-Amz-Date", seen)
    t.is_(error_code(e), "InvalidSignatureException", "stale X-Amz-Date: InvalidSignatureException")
    c = sim.client(2, cache=False)
    _, e = call(c.list_routing_controls)
    t.ok(e is None, "the same client signs fine with the real clock", e)

    c = sim.client(3, akid="AKIDUNKNOWN", cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "UnrecognizedClientException", "unknown key: UnrecognizedClientException")
    c = sim.client(3, akid=TOKEN_AKID, secret=TOKEN_SECRET, token=TOKEN, cache=False)
    _, e = call(c.list_routing_controls)
    t.ok(e is None, "key with its session token: accepted", e)
    c = sim.client(3, akid=TOKEN_AKID, secret=TOKEN_SECRET, cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "ExpiredTokenException", "key without its session token: ExpiredTokenException")
    c = sim.client(3, akid=TOKEN_AKID, secret=TOKEN_SECRET, token="other-token", cache=False)
    _, e = call(c.list_routing_controls)
    t.is_(error_code(e), "ExpiredTokenException", "wrong session token: ExpiredTokenException")

    status, hdrs, body = sim.raw(4, headers={"Content-Type": "application/x-amz-json-1.0",
                                             "X-Amz-Target": "ToggleCustomerAPI.ListRoutingControls"})
    t.is_(status, 403, "no Authorization: 403")
    t.is_(json.loads(body).get("__type"), "MissingAuthenticationTokenException",
          "no Authorization: MissingAuthenticationTokenException")
    t.is_(hdrs.get("x-amzn-errortype"), "MissingAuthenticationTokenException",
          "X-Amzn-ErrorType header")
    t.is_(hdrs.get("content-type"), "application/x-amz-json-1.0", "JSON 1.0 content type")
    t.like(hdrs.get("x-amzn-requestid"),
           r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
           "x-amzn-RequestId is a UUID")


def check_paths(t, sim, clients):
    import boto3
    import botocore.config
    for suffix, path in (("/v1", "/v1"), ("/v1/", "/v1/"), ("", "/")):
        c = boto3.session.Session().client(
            "route53-recovery-cluster", endpoint_url="https://127.0.0.1:%d%s" % (sim.base, suffix),
            region_name=REGIONS[0], verify=sim.ca, aws_access_key_id=AKID,
            aws_secret_access_key=SECRET,
            config=botocore.config.Config(retries={"total_max_attempts": 1}))
        sent = {}

        def grab(request, **kw):
            sent["url"] = request.url
        c.meta.events.register("before-send", grab)
        _, e = call(c.list_routing_controls)
        t.ok(e is None and sent.get("url", "").endswith(":%d%s" % (sim.base, path)),
             "POST %s is served" % path, "sent %s, error %r" % (sent.get("url"), e))
    status, hdrs, body = sim.raw(0, path="/v2")
    t.ok(status == 404 and json.loads(body).get("__type") == "UnknownOperationException",
         "POST /v2: 404 UnknownOperationException", (status, body))
    status, hdrs, body = sim.raw(0, method="GET", path="/v1", body=None)
    t.ok(status == 405 and json.loads(body).get("__type") == "UnknownOperationException",
         "GET /v1: 405 UnknownOperationException", (status, body))


def check_throttle_fault(t, sim, clients):
    sim.fault(1, "throttle", retry_after=3)
    _, e = call(clients[1].list_routing_controls)
    t.is_(error_code(e), "ThrottlingException", "throttle fault: ThrottlingException")
    if e is not None and hasattr(e, "response"):
        t.is_(e.response.get("retryAfterSeconds"), 3, "e.response['retryAfterSeconds'] == 3")
        t.is_(e.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after"), "3",
              "Retry-After: 3")
        t.is_(e.response["ResponseMetadata"]["HTTPStatusCode"], 429, "a 429")
    _, e = call(clients[2].list_routing_controls)
    t.ok(e is None, "the other endpoints are not affected", e)
    sim.reset()
    _, e = call(clients[1].list_routing_controls)
    t.ok(e is None, "after POST /reset the endpoint serves again", e)


def check_log(t, sim):
    text = sim.log_text()
    t.like(text, r"info: http: us-west-2 ListRoutingControls -> 200 \([0-9.]+ ms\)",
           "one log line per request: region, operation, status, latency")
    t.like(text, r"ap-northeast-1 UpdateRoutingControlStates -> 402 "
           r"ServiceLimitExceededException \([0-9.]+ ms\)", "errors logged with their __type")
    t.ok(SECRET not in text and "Signature=" not in text, "no secret or signature in the log")


def check_print_config(t, sim):
    rc, out, err = run_arcsim(["-c", sim.conf, "--base-port", str(sim.base),
                               "--ca-out", sim.ca, "--print-arcdns-config"])
    t.is_(rc, 0, "--print-arcdns-config exits 0", err)
    for i, r in enumerate(REGIONS):
        t.like(out, r'- \{ region: %s, url: "https://127\.0\.0\.1:%d/v1" \}' % (r, sim.base + i),
               "--print-arcdns-config: %s endpoint" % r)
    t.like(out, r'(?m)^  ca-file: "%s"' % re.escape(sim.ca), "ca-file is the --ca-out file")
    t.like(out, r"(?m)^  credentials: env$", "credentials: env")
    t.like(out, r"export AWS_ACCESS_KEY_ID='%s' AWS_SECRET_ACCESS_KEY='%s'"
           % (AKID, re.escape(SECRET)), "a comment says what to export")
    arns = re.findall(r'arn: "([^"]+)"', out)
    want = sorted([region_arn(n) for n in REGION_CONTROLS] + [cell_arn(i) for i in range(len(CELLS))])
    t.is_(sorted(arns), want, "controls: one entry per routing control, by ARN")
    t.like(out, r"(?m)^arc:$", "an arc: block")
    t.like(out, r"(?m)^controls:$", "a controls: block")
    check_config_accepted(t, out, "--print-arcdns-config")


ZONE = """$ORIGIN svc.test.
@ 60 IN SOA ns1 hostmaster 1 3600 600 86400 5
@ 60 IN NS ns1
ns1 60 IN A 192.0.2.1
"""


def check_config_accepted(t, blocks, what):
    """arcdnsd -t takes arcsim's blocks as they are, behind a zone."""
    d = tempfile.mkdtemp(prefix="arcdns-printcfg-")
    try:
        with open(os.path.join(d, "svc.zone"), "w") as f:
            f.write(ZONE)
        conf = os.path.join(d, "arcdns.yaml")
        with open(conf, "w") as f:
            f.write("zones:\n  - { id: svc, origin: svc.test., file: svc.zone }\n")
            f.write(blocks)
        p = subprocess.run([ARCDNSD, "-t", "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=bound(20))
        t.is_(p.returncode, 0, "%s: arcdnsd -t accepts the output" % what,
              p.stderr.decode("utf-8", "replace"))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_print_config_clash(t, sim):
    """Two panels with a control of the same name: local names stay valid."""
    d = tempfile.mkdtemp(prefix="arcdns-clash-")
    try:
        conf = os.path.join(d, "sim.yaml")
        with open(conf, "w") as f:
            f.write('account: "111122223333"\n'
                    "credentials:\n  - { access-key-id: %s, secret-access-key: x }\n"
                    "control-panels:\n"
                    "  - name: Panel/One\n    routing-controls: [ { name: east } ]\n"
                    "  - name: Panel2\n    routing-controls: [ { name: east } ]\n" % AKID)
        rc, out, err = run_arcsim(["-c", conf, "--base-port", str(sim.base),
                                   "--ca-out", sim.ca, "--print-arcdns-config"])
        t.is_(rc, 0, "clashing names: --print-arcdns-config exits 0", err)
        t.like(out, r'(?m)^  "Panel-One\.east": \{ arn:', "clashing names: panel-prefixed, '/' replaced")
        t.like(out, r'(?m)^  "Panel2\.east": \{ arn:', "clashing names: the other panel's")
        check_config_accepted(t, out, "clashing names")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_plain(t):
    sim = ArcSim(t, plain=True, name="plain").start()
    try:
        t.like(sim.ready_line, r"ready: 5 endpoints on http://127\.0\.0\.1:", "--plain: http URLs")
        c = sim.client(4)
        r, e = call(c.list_routing_controls)
        t.ok(e is None and len(r["RoutingControls"]) == NCONTROLS, "--plain: boto3 over HTTP", e)
        sim.signal(signal.SIGINT)
        t.is_(sim.wait_exit(10), 0, "SIGINT: clean stop, status 0")
        t.like(sim.log_text(), r"notice: main: stopped", "SIGINT: 'stopped' logged")
    finally:
        sim.stop()


def main(t):
    sim = ArcSim(t).start()
    try:
        clients = [sim.client(i) for i in range(5)]
        check_startup(t, sim)
        check_lists(t, sim, clients)
        check_get(t, clients)
        check_updates(t, sim, clients)
        check_safety(t, sim, clients)
        check_validation(t, sim, clients)
        check_auth(t, sim)
        check_paths(t, sim, clients)
        check_throttle_fault(t, sim, clients)
        check_print_config(t, sim)
        check_print_config_clash(t, sim)
        check_log(t, sim)
        sim.signal(signal.SIGTERM)
        t.is_(sim.wait_exit(10), 0, "SIGTERM: clean stop, status 0")
    finally:
        sim.stop()
    check_plain(t)


if __name__ == "__main__":
    run_sim(main)
