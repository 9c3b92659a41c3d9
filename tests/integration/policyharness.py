"""policyharness.py -- arcsim + arcdnsd with ARC-driven records (t_policy*.py).

One arcsim (plain HTTP on loopback, no update rate limit) holding three
region controls, and arcdnsd processes rendered from
tests/data/policy.yaml.in that mirror it every POLL_MS. A flip goes
through arcsim's real API (boto3 update_routing_control_state on one of
the five endpoints); the test then polls arcdnsd's answers until they match
what the model below computes from the controls' states, within FOLLOW
seconds (the poll interval plus one second), and never sleeps blindly.

The model (expected()) is the issue's semantics written once:
  failover    the first target whose control is On; a control the
              decision needs whose state is unknown -> SERVFAIL
  multivalue  every On target's values, in order, duplicates dropped (all
              targets are needed: one unknown -> SERVFAIL)
  role        <region>.<name> TXT "active" for the region failover picks,
              "passive" for the others
  none On     when-none-on: first (the first target's values; role: the
              first region active), servfail, nodata (NOERROR, SOA)
A CNAME name with unknown state answers SERVFAIL for every type.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Daemon, bound  # noqa: E402
from simharness import AKID, REGIONS, SECRET, ArcSim, control_arn  # noqa: E402

POLL_MS = 250
FOLLOW = POLL_MS / 1000.0 + 1.0     # a flip shows within this (seconds)
ORIGIN = "svc.test."
VPC_SRC = "127.0.0.2"               # the vpc view; 127.0.0.1 is default
DEF_SRC = "127.0.0.1"
PANEL = "Regions"
TTL = {"default": 7, "vpc": 3}      # the zone blocks' ttl
NEG_TTL = 60                        # min(SOA TTL 3600, minimum 60)

SIM_YAML = """\
account: "111122223333"
credentials:
  - access-key-id: %s
    secret-access-key: "%s"
control-panels:
  - name: %s
    routing-controls:
      - { name: route-us-east-1, state: On }
      - { name: route-us-west-2, state: On }
      - { name: route-eu-west-1, state: Off }
""" % (AKID, SECRET, PANEL)

# local name -> routing-control name in arcsim (ghost: not in arcsim)
CONTROLS = {"east": "route-us-east-1", "west": "route-us-west-2",
            "eu": "route-eu-west-1", "ghost": "route-nowhere"}
INITIAL = {"east": "On", "west": "On", "eu": "Off"}

# ---------------------------------------------------------------------------
# the records of policy.yaml.in: (view, owner, type) -> rule

SERVFAIL = ("SERVFAIL", ())
NODATA = ("NOERROR", ())


def _a(*vals):
    return tuple("A " + v for v in vals)


RECORDS = {
    # default view (zone block svc, ttl 7)
    ("default", "api", "A"): ("failover", "first", [
        ("east", _a("10.0.1.10", "10.0.1.11")), ("west", _a("10.1.1.10"))]),
    ("default", "api", "AAAA"): ("failover", "first", [
        ("east", ("AAAA 2001:db8:e::10",)), ("west", ("AAAA 2001:db8:f::10",))]),
    ("default", "sf", "A"): ("failover", "servfail", [
        ("east", _a("10.0.2.10")), ("west", _a("10.1.2.10"))]),
    ("default", "nd", "A"): ("failover", "nodata", [
        ("east", _a("10.0.3.10")), ("west", _a("10.1.3.10"))]),
    ("default", "mv", "A"): ("multivalue", "first", [
        ("east", _a("10.0.4.10", "10.9.4.99")), ("west", _a("10.1.4.10", "10.9.4.99")),
        ("eu", _a("10.2.4.10"))]),
    ("default", "mvs", "A"): ("multivalue", "servfail", [
        ("east", _a("10.0.5.10")), ("west", _a("10.1.5.10"))]),
    ("default", "mvn.deep", "A"): ("multivalue", "nodata", [
        ("east", _a("10.0.6.10")), ("west", _a("10.1.6.10"))]),
    ("default", "gh", "A"): ("failover", "first", [
        ("east", _a("10.0.7.10")), ("ghost", _a("10.8.7.10"))]),
    ("default", "www", "CNAME"): ("failover", "first", [
        ("east", ("CNAME east-lb.svc.test.",)), ("west", ("CNAME west-lb.example.net.",))]),
    ("default", "role", "TXT"): ("role", "first", [("east", "us-east-1"), ("west", "us-west-2")]),
    # vpc view (zone block svc-vpc, ttl 3)
    ("vpc", "api", "A"): ("failover", "first", [
        ("east", _a("10.50.1.10")), ("west", _a("10.51.1.10"))]),
    ("vpc", "role", "TXT"): ("role", "first", [("east", "us-east-1"), ("west", "us-west-2")]),
}

# what the in-zone CNAME target east-lb answers (static, TTL 60)
EAST_LB = {"A": ("A 10.0.9.1",)}

# static names: (owner, type) -> answer texts, TTL
STATIC = {
    ("static", "A"): (("A 192.0.2.80",), 300),
    ("static", "TXT"): (('TXT "static"',), 300),
    ("east-lb", "A"): (("A 10.0.9.1",), 60),
    ("alias", "CNAME"): (("CNAME api.svc.test.",), 300),
    ("ns1", "A"): (("A 192.0.2.53",), 3600),
}


def _pick(targets, states, none_on, multi):
    """(rcode, answer texts) of a failover or multivalue rule."""
    if multi:
        if any(states.get(c) not in ("On", "Off") for c, _ in targets):
            return SERVFAIL
        out = []
        for c, vals in targets:
            if states[c] == "On":
                out += [v for v in vals if v not in out]
        if out:
            return ("NOERROR", tuple(out))
    else:
        for c, vals in targets:
            st = states.get(c)
            if st not in ("On", "Off"):
                return SERVFAIL
            if st == "On":
                return ("NOERROR", tuple(vals))
    if none_on == "servfail":
        return SERVFAIL
    if none_on == "nodata":
        return NODATA
    return ("NOERROR", tuple(targets[0][1]))


def expected(states):
    """{(view, qname, qtype): (rcode, sorted answer texts)} for states
    ({local name: "On"|"Off"}, a missing name is unknown)."""
    out = {}
    for (view, name, rtype), (policy, none_on, targets) in RECORDS.items():
        if policy == "role":
            regions = [r for _, r in targets]
            pick = _pick([(c, (r,)) for c, r in targets], states, none_on, False)
            for r in regions:
                qn = "%s.%s" % (r, name)
                if pick[0] != "NOERROR" or not pick[1]:
                    out[(view, qn, "TXT")] = pick
                else:
                    word = "active" if pick[1][0] == r else "passive"
                    out[(view, qn, "TXT")] = ("NOERROR", ('TXT "%s"' % word,))
            continue
        rc, ans = _pick(targets, states, none_on, policy == "multivalue")
        if rtype == "CNAME":
            for qt in ("A", "AAAA", "TXT", "CNAME"):
                if rc != "NOERROR":
                    out[(view, name, qt)] = (rc, ())
                    continue
                chain = list(ans)
                if qt != "CNAME" and ans[0].endswith(ORIGIN):
                    chain += EAST_LB.get(qt, ())
                out[(view, name, qt)] = (rc, tuple(sorted(chain)))
        else:
            out[(view, name, rtype)] = (rc, tuple(sorted(ans)))
    # static alias CNAME api: the chain ends in the ARC-driven api A
    # (not checked while api is SERVFAIL: the chain's rcode is not
    # specified)
    for view in ("default", "vpc"):
        rc, ans = out[(view, "api", "A")]
        if rc == "NOERROR":
            out[(view, "alias", "A")] = (rc, tuple(sorted(ans + ("CNAME api.svc.test.",))))
    return out


def summary(m):
    """(rcode name, sorted 'TYPE rdata' of the answer section) of a Message."""
    if m is None:
        return ("(no reply)", ())
    return (m.rcode_name, tuple(sorted("%s %s" % (rr.tname, rr.text) for rr in m.answer)))


def src_of(view):
    return VPC_SRC if view == "vpc" else DEF_SRC


def fq(name):
    return "%s.%s" % (name, ORIGIN) if not name.endswith(".") else name


def serial_gt(a, b):
    """RFC 1982 serial number arithmetic: a > b."""
    return a != b and ((a < b and b - a > 2 ** 31) or (a > b and a - b < 2 ** 31))


def wait_for(fn, timeout, step=0.02):
    """Poll fn() until it returns a true value; (value, seconds) or
    (None, seconds) after the bound."""
    t0 = time.monotonic()
    deadline = t0 + bound(timeout)
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() >= deadline:
            return None, time.monotonic() - t0
        time.sleep(step)


# ---------------------------------------------------------------------------
# processes


class PolicySim(ArcSim):
    """arcsim for the policy tests: plain HTTP, no update rate limit."""

    def __init__(self, t, name="policy"):
        ArcSim.__init__(self, t, yaml=SIM_YAML, plain=True,
                        args=["--rate-limit", "0"], name=name)
        self.turn = 0

    def arn(self, local):
        return control_arn(PANEL, CONTROLS[local])

    def states(self):
        """{local name: "On"|"Off"} as arcsim holds them."""
        by_arn = self.control_states()
        return {k: by_arn[self.arn(k)] for k in CONTROLS if self.arn(k) in by_arn}

    def set(self, local, state, endpoint=None):
        """Set a control through the API of one endpoint (the next in turn
        unless given); returns time.monotonic() when the call returned."""
        i = self.turn % 5 if endpoint is None else endpoint
        self.turn += 1
        self.client(i).update_routing_control_state(
            RoutingControlArn=self.arn(local), RoutingControlState=state)
        return time.monotonic()


def set_credentials():
    """arcdnsd reads them from the environment (credentials: env)."""
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(k, None)
    os.environ["AWS_ACCESS_KEY_ID"] = AKID
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET


class PolicyDaemon(Daemon):
    """arcdnsd from policy.yaml.in pointed at sim's five endpoints."""

    def __init__(self, t, sim, name="policy", identity="arcdns-policy", poll_ms=POLL_MS):
        Daemon.__init__(self, t, "policy.yaml.in", name=name)
        self.sim = sim
        self.identity = identity
        self.poll_ms = poll_ms

    def render(self, template_text=None):
        eps = "".join('    - { region: %s, url: "%s" }\n' % (REGIONS[i], self.sim.url(i))
                      for i in range(5)).rstrip("\n")
        self.vars.update({"ENDPOINTS": eps, "POLL": self.poll_ms, "IDENTITY": self.identity})
        return Daemon.render(self, template_text)

    @property
    def state_dir(self):
        return os.path.join(self.dir, "state")

    def ask(self, view, name, qtype, **kw):
        return self.query(fq(name), qtype, src=src_of(view), **kw)

    def observe(self, keys):
        """{key: summary} for keys (view, name, type)."""
        return {k: summary(self.ask(*k)) for k in keys}

    def serial(self, view="default"):
        m = self.ask(view, ORIGIN, "SOA")
        soa = m.rrs("answer", "SOA") if m is not None else []
        return soa[0].fields[2] if len(soa) == 1 else None

    def state_strings(self, src=DEF_SRC):
        """The strings of CH TXT state.arcdns (rcode name, [str, ...])."""
        m = self.query("state.arcdns.", "TXT", "CH", src=src)
        if m is None:
            return "(no reply)", []
        out = []
        for rr in m.rrs("answer", "TXT"):
            out += [s.decode("utf-8", "replace") for s in (rr.fields or [])]
        return m.rcode_name, out


def parse_state(strings):
    """CH TXT state.arcdns strings -> {controls: {name: (state, age, endpoint)},
    mirror: (word, text), hash: hex or None}."""
    doc = {"controls": {}, "mirror": None, "hash": None}
    for s in strings:
        m = re.match(r"hash=([0-9a-f]+)\b", s)
        if m:
            doc["hash"] = m.group(1)
            continue
        m = re.match(r"mirror (\S+)(.*)$", s)
        if m:
            doc["mirror"] = (m.group(1), m.group(2).strip())
            continue
        m = re.match(r"(\S+) (On|Off|unknown)\b(.*)$", s)
        if m:
            doc["controls"][m.group(1)] = (m.group(2), m.group(3).strip())
    return doc


def converge(t, d, states, label, t0=None, limit=FOLLOW, keys=None):
    """Poll d until every answer the model gives for states is served
    (bounded by limit seconds from t0); then one check per answer.
    Returns the seconds it took (None when it did not converge)."""
    want = expected(states)
    if keys is not None:
        want = {k: v for k, v in want.items() if k in keys}
    t0 = time.monotonic() if t0 is None else t0
    deadline = t0 + bound(limit)
    got = {}
    took = None
    for _ in range(100000):
        got = d.observe(want)
        if got == want:
            took = time.monotonic() - t0
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    t.ok(took is not None,
         "%s: every answer follows within %.2fs%s" % (
             label, bound(limit), " (%.3fs)" % took if took is not None else ""),
         "\n".join("%s %s %s: got %r, expected %r" % (k + (got.get(k), v))
                   for k, v in sorted(want.items()) if got.get(k) != v))
    return took
