#!/usr/bin/python3
"""t_arcctl.py -- `arcdnsctl arc ...` against arcsim, no daemon.

arcsim over TLS (its CA through the config's ca-file, credentials through
the environment, `credentials: env`); controls: by ARN and by ARC name.
list, get and set round trip, checked independently with boto3's
get_routing_control_state; failover moves both controls with exactly one
UpdateRoutingControlStates request in arcsim's log; the at-least-one-region
assertion rule refuses turning the last On control Off (exit 3, the rule's
name on stderr, nothing changed) and --override (by name, or ARN) lets it
through; a gating rule refuses a failover (exit 3) until overridden; four
endpoints down, or hanging, and the call still succeeds on the fifth; all
five down: exit 1, bounded; bad NAME, a name the cluster lacks, an unknown
ARN: exit 1 with a clear message; usage errors: exit 2; without the
ca-file TLS verification fails; --json output. Then with arcdnsd
mirroring a second arcsim (policyharness): `arc failover` and `arc set`
with the daemon's own configuration file, and the daemon's answers follow
within a poll interval.

Environment: ARCDNSCTL (default $TOP_BUILDDIR/src/arcdnsctl) and those of
simharness.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TOP_BUILDDIR, bound  # noqa: E402
from simharness import (AKID, NCONTROLS, REGIONS, SECRET, SIM_YAML, ArcSim,  # noqa: E402
                        control_arn, region_arn, rule_arn, run_sim)
from policyharness import (PolicyDaemon, PolicySim, converge,  # noqa: E402
                           set_credentials)

ARCDNSCTL = os.environ.get("ARCDNSCTL") or os.path.join(TOP_BUILDDIR, "src", "arcdnsctl")

# SIM_YAML plus a panel whose failovers are gated by a switch that is Off.
YAML = SIM_YAML + """\
  - name: GatedPanel
    routing-controls:
      - { name: drills-allowed, state: Off }
      - { name: gated-east, state: On }
      - { name: gated-west, state: Off }
    safety-rules:
      - name: change-freeze
        type: gating
        gating-controls: [drills-allowed]
        target-controls: [gated-east, gated-west]
        rule: { type: OR }
"""
TOTAL = NCONTROLS + 3
EAST = region_arn("route-us-east-1")
WEST = region_arn("route-us-west-2")
EU = region_arn("route-eu-west-1")
AT_LEAST_ONE = rule_arn("DefaultControlPanel", "at-least-one-region")
G_EAST = control_arn("GatedPanel", "gated-east")
G_WEST = control_arn("GatedPanel", "gated-west")
FREEZE = rule_arn("GatedPanel", "change-freeze")

CONF = """\
server:
  state-dir: "%(dir)s/state"
zones:
  - id: svc
    origin: svc.example.internal.
    file: svc.example.internal.zone
arc:
  endpoints:
%(endpoints)s
  timeout: 800ms
  connect-timeout: 500ms
%(ca)s
  credentials: env
controls:
  east: { arn: "%(east)s" }
  west: { name: route-us-west-2 }
  eu: { arn: "%(eu)s" }
  g-east: { arn: "%(geast)s" }
  g-west: { name: gated-west }
  ghost: { name: no-such-control }
"""


class Ctl:
    def __init__(self, t, sim, tmp):
        self.t = t
        self.sim = sim
        self.tmp = tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                         "AWS_EC2_METADATA_DISABLED": "true", "HOME": tmp})
        self.conf = self.write_conf("arcdns.yaml", ca=True)

    def write_conf(self, name, ca=True):
        eps = "".join('    - { region: %s, url: "%s" }\n' % (r, self.sim.url(i))
                      for i, r in enumerate(REGIONS))
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(CONF % {"dir": self.tmp, "endpoints": eps.rstrip("\n"),
                            "ca": '  ca-file: "%s"' % self.sim.ca if ca else "",
                            "east": EAST, "eu": EU, "geast": G_EAST})
        return path

    def run(self, *args, conf=None, json_out=False, timeout=30):
        """(status, stdout, stderr, seconds)."""
        argv = [ARCDNSCTL, "-c", conf or self.conf]
        if json_out:
            argv.append("--json")
        argv += ["arc"] + list(args)
        t0 = time.monotonic()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env, timeout=bound(timeout))
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)

    def json(self, *args, **kw):
        st, out, err, _ = self.run(*args, json_out=True, **kw)
        try:
            doc = json.loads(out)
        except ValueError:
            doc = None
        return st, doc, err

    def boto_state(self, arn, i=1):
        """The state as boto3 reads it (not through arcdnsctl)."""
        r = self.sim.client(i).get_routing_control_state(RoutingControlArn=arn)
        return r["RoutingControlState"]


def update_lines(sim):
    """arcsim's log lines for update requests."""
    return [x for x in sim.log_text().splitlines()
            if re.search(r" UpdateRoutingControlStates? -> ", x)]


def quiet(sim):
    """Let arcsim's 3-updates-per-second window pass, so that an update
    is not throttled (a throttled one goes to the next endpoint: two
    requests in the log)."""
    time.sleep(1.2)


def check_list_get(t, c):
    st, out, err, _ = c.run("list")
    t.is_(st, 0, "list: exit 0", err)
    rows = [x.split() for x in out.splitlines()[1:]]
    t.is_(len(rows), TOTAL, "list: every control of every panel (%d)" % TOTAL, out)
    by_arn = {r[3]: r for r in rows if len(r) == 4}
    t.is_(by_arn.get(EAST, [None])[0], "east", "list: local name by ARN")
    t.is_(by_arn.get(WEST, [None])[0], "west", "list: local name by ARC name")
    t.is_([by_arn.get(a, [None, None])[1] for a in (EAST, WEST, EU)], ["On", "On", "Off"],
          "list: states")
    t.like(err, r"ghost .*no-such-control.* not listed", "list: warns about a configured "
           "control the cluster lacks")
    st, doc, err = c.json("list")
    t.is_(st, 0, "list --json: exit 0", err)
    ctl = {x["arn"]: x for x in (doc or {}).get("controls", [])}
    t.is_(len(ctl), TOTAL, "list --json: every control")
    t.is_(ctl.get(EU, {}).get("state"), "Off", "list --json: state")
    t.is_(ctl.get(EU, {}).get("name"), "route-eu-west-1", "list --json: ARC name")
    t.is_(ctl.get(EU, {}).get("control"), "eu", "list --json: local name")
    t.ok(doc is not None and doc.get("ok") is True and doc.get("endpoint"),
         "list --json: ok and the endpoint that answered", doc)
    states = c.sim.control_states()
    t.is_({a: x["state"] for a, x in ctl.items()}, states, "list --json: as arcsim has them")

    st, out, err, _ = c.run("get", "east")
    t.is_((st, out), (0, "east (route-us-east-1): On\n"), "get east (by ARN)", err)
    st, out, err, _ = c.run("get", "west")
    t.is_((st, out), (0, "west (route-us-west-2): On\n"), "get west (by ARC name: one list "
          "call resolves it)", err)
    st, doc, err = c.json("get", EU)
    t.is_((st, doc and doc.get("state"), doc and doc.get("control"), doc and doc.get("arn")),
          (0, "Off", "eu", EU), "get ARN --json: state, local name, ARN", err)


def check_set(t, c):
    st, out, err, _ = c.run("set", "eu", "on")
    t.is_(st, 0, "set eu on: exit 0", err)
    t.like(out, r"^eu: On \(UpdateRoutingControlState via [a-z0-9-]+", "set: says what and where")
    t.is_(c.boto_state(EU), "On", "set eu on: boto3 get_routing_control_state sees On")
    st, out, err, _ = c.run("get", "eu")
    t.is_(out, "eu (route-eu-west-1): On\n", "get eu after set: On", err)
    st, doc, err = c.json("set", "eu", "OFF")
    t.is_((st, doc and doc.get("ok"), doc and doc.get("state")), (0, True, "Off"),
          "set eu OFF --json (any case)", err)
    t.is_(c.boto_state(EU, i=3), "Off", "set eu off: boto3 sees Off")
    quiet(c.sim)
    st, out, err, _ = c.run("set", "g-west", "on")
    t.is_(st, 3, "set on a gated control while the switch is Off: exit 3", err)
    t.like(err, r"change-freeze", "and the gating rule's name on stderr")
    t.is_(c.boto_state(G_WEST), "Off", "nothing changed")


def check_failover(t, c):
    quiet(c.sim)
    before = len(update_lines(c.sim))
    st, out, err, _ = c.run("failover", "--from", "east", "--to", "eu")
    t.is_(st, 0, "failover --from east --to eu: exit 0", err)
    t.like(out, r"^failover: eu On, east Off \(one UpdateRoutingControlStates call via ",
           "failover: says so")
    lines = update_lines(c.sim)[before:]
    t.is_(len(lines), 1, "arcsim's log: exactly one update request", "\n".join(lines))
    t.like(lines[0] if lines else "", r" UpdateRoutingControlStates -> 200 ",
           "and it is one UpdateRoutingControlStates call")
    t.is_((c.boto_state(EU), c.boto_state(EAST)), ("On", "Off"), "boto3: eu On, east Off")

    quiet(c.sim)
    before = len(update_lines(c.sim))
    st, doc, err = c.json("failover", "--to", "east", "--from", "eu")
    t.is_((st, doc and doc.get("ok")), (0, True), "failover back --json: exit 0", err)
    t.is_(doc and [doc["on"]["control"], doc["off"]["control"]], ["east", "eu"],
          "failover --json: on and off")
    t.is_(len(update_lines(c.sim)[before:]), 1, "failover back: one update request")
    t.is_((c.boto_state(EAST), c.boto_state(EU)), ("On", "Off"), "boto3: east On, eu Off")

    quiet(c.sim)
    before = len(update_lines(c.sim))
    st, out, err, _ = c.run("failover", "--from", "g-east", "--to", "g-west")
    t.is_(st, 3, "failover blocked by a gating rule: exit 3", err)
    t.like(err, r"refused by safety rule change-freeze \(%s\)" % re.escape(FREEZE),
           "stderr names the rule (name and ARN)")
    t.is_(len(update_lines(c.sim)[before:]), 1, "refused once, not retried elsewhere")
    t.is_((c.boto_state(G_EAST), c.boto_state(G_WEST)), ("On", "Off"), "nothing changed")
    quiet(c.sim)
    st, out, err, _ = c.run("failover", "--from", "g-east", "--to", "g-west",
                            "--override", FREEZE)
    t.is_(st, 0, "failover --override RULE-ARN: exit 0", err)
    t.is_((c.boto_state(G_EAST), c.boto_state(G_WEST)), ("Off", "On"), "both moved")


def check_safety_rule(t, c):
    # east On, west On, eu Off: west off leaves east; then east is the last
    quiet(c.sim)
    st, _, err, _ = c.run("set", "west", "off")
    t.is_(st, 0, "set west off while east is On: exit 0", err)
    quiet(c.sim)
    before = len(update_lines(c.sim))
    st, out, err, _ = c.run("set", "east", "off")
    t.is_(st, 3, "turning the last On control Off: exit 3", err)
    t.like(err, r"refused by safety rule at-least-one-region", "stderr: the rule's name")
    t.like(err, re.escape(AT_LEAST_ONE), "stderr: the rule's ARN")
    t.like(err, r"--override at-least-one-region", "stderr: how to override")
    t.is_(out, "", "nothing on stdout")
    t.is_(len(update_lines(c.sim)[before:]), 1, "one refused request")
    t.is_(c.boto_state(EAST), "On", "east is still On")
    st, doc, err = c.json("set", "east", "off")
    t.is_(st, 3, "--json: exit 3 too", err)
    t.is_(doc and (doc.get("ok"), doc.get("code"), doc["rules"][0]["name"],
                   doc["rules"][0]["arn"]),
          (False, "ConflictException", "at-least-one-region", AT_LEAST_ONE),
          "--json: code and rules[]", doc)
    quiet(c.sim)
    st, out, err, _ = c.run("set", "east", "off", "--override", "at-least-one-region")
    t.is_(st, 0, "--override RULE (by name) lets it through", err)
    t.is_(c.boto_state(EAST), "Off", "boto3: east Off")
    quiet(c.sim)
    st, doc, err = c.json("set", "east", "on", "--override=" + AT_LEAST_ONE)
    t.is_((st, doc and doc.get("overrides")), (0, [AT_LEAST_ONE]),
          "--override=ARN: sent as given", err)
    st, _, err, _ = c.run("set", "west", "on")
    t.is_(st, 0, "west back On", err)


def check_endpoints(t, c):
    for i in range(4):
        c.sim.fault(i, "down")
    st, doc, err = c.json("get", "east")
    t.is_((st, doc and doc.get("state"), doc and doc.get("endpoint")),
          (0, "On", "ap-southeast-2"), "four endpoints down: get succeeds on the fifth", err)
    t.ok(doc and len(doc.get("attempts", [])) >= 1, "--json lists the attempts", doc)
    quiet(c.sim)
    st, out, err, _ = c.run("set", "eu", "on")
    t.is_(st, 0, "four endpoints down: set succeeds", err)
    t.is_(c.boto_state(EU, i=4), "On", "and it took effect")
    c.sim.fault(4, "down")
    st, out, err, secs = c.run("list")
    t.is_(st, 1, "all five down: exit 1", err)
    t.like(err, r"no endpoint answered \(", "stderr: no endpoint answered")
    t.is_([r for r in REGIONS if not re.search(r"[(;] ?%s: " % r, err)], [],
          "stderr: every endpoint's failure (in the shuffled order)", err)
    c.sim.reset()
    for i in range(4):
        c.sim.fault(i, "hang")
    st, doc, err = c.json("get", "eu")
    t.is_((st, doc and doc.get("endpoint")), (0, "ap-southeast-2"),
          "four endpoints hang: the fifth answers", err)
    c.sim.fault(4, "hang")
    st, out, err, secs = c.run("get", "eu")
    t.is_(st, 1, "all five hang: exit 1", err)
    t.ok(secs < bound(8), "all five hang: over in %.1f s (5 x 800 ms + credentials)" % secs)
    c.sim.reset()
    quiet(c.sim)
    st, _, err, _ = c.run("set", "eu", "off")
    t.is_(st, 0, "eu back Off", err)


def check_errors(t, c):
    st, out, err, _ = c.run("get", "nope")
    t.is_(st, 1, "bad NAME: exit 1")
    t.like(err, r"unknown control 'nope'.*known: east, west, eu", "bad NAME: a clear message")
    st, out, err, _ = c.run("get", "ghost")
    t.is_(st, 1, "a control whose ARC name the cluster lacks: exit 1")
    t.like(err, r"no routing control named 'no-such-control'", "and says so")
    st, out, err, _ = c.run("set", EAST + "0", "on")
    t.is_(st, 1, "an unknown ARN: exit 1")
    t.like(err, r"ResourceNotFoundException", "the service's error")
    for args, what in ((["set", "east", "maybe"], "set NAME maybe"),
                       (["set", "east"], "set without a state"),
                       (["failover", "--from", "east"], "failover without --to"),
                       (["failover", "--from", "east", "--to", "east"], "failover to itself"),
                       (["frobnicate"], "an unknown arc command"),
                       (["get", "east", "--bogus"], "an unknown option"),
                       ([], "no arc command")):
        st, _, err, _ = c.run(*args)
        t.is_(st, 2, "usage: %s: exit 2" % what, err)
    noca = c.write_conf("noca.yaml", ca=False)
    st, out, err, _ = c.run("get", "east", conf=noca)
    t.is_(st, 1, "without ca-file: arcsim's certificate is not trusted: exit 1")
    t.like(err, r"(?i)(certificate|SSL|CA)", "and the TLS failure is named")
    bad = os.path.join(c.tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("zones: [\n")
    st, _, err, _ = c.run("list", conf=bad)
    t.is_(st, 1, "a broken config: exit 1", err)
    env = dict(c.env)
    del env["AWS_ACCESS_KEY_ID"]
    p = subprocess.run([ARCDNSCTL, "-c", c.conf, "arc", "list"], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=bound(20))
    t.is_(p.returncode, 1, "no credentials: exit 1")
    t.like(p.stderr.decode(), r"no AWS credentials", "and says so")


def check_with_daemon(t, tmp):
    """arcdnsctl with the daemon's own file; the daemon follows."""
    set_credentials()
    sim = PolicySim(t, name="arcctl-policy").start()
    d = None
    try:
        d = PolicyDaemon(t, sim, name="arcctl").start()
        c = Ctl(t, sim, tmp)
        converge(t, d, sim.states(), "daemon: mirrors arcsim")
        t0 = time.monotonic()
        st, out, err, _ = c.run("failover", "--from", "east", "--to", "eu", conf=d.conf)
        t.is_(st, 0, "daemon's config: arc failover --from east --to eu: exit 0", err)
        t.is_(sim.states(), {"east": "Off", "west": "On", "eu": "On"}, "arcsim: moved")
        converge(t, d, sim.states(), "daemon: answers follow the failover", t0=t0)
        t0 = time.monotonic()
        st, out, err, _ = c.run("set", "east", "on", conf=d.conf)
        t.is_(st, 0, "daemon's config: arc set east on", err)
        converge(t, d, sim.states(), "daemon: answers follow the set", t0=t0)
        st, out, err, _ = c.run("list", conf=d.conf)
        t.like(err, r"ghost .*route-nowhere.* not listed", "daemon's config: list warns "
               "about its control the cluster lacks")
    finally:
        if d is not None:
            d.stop()
        sim.stop()


def main(t):
    if not os.access(ARCDNSCTL, os.X_OK):
        t.skip("arcdnsctl arc", "%s not built (set ARCDNSCTL)" % ARCDNSCTL)
        return
    tmp = tempfile.mkdtemp(prefix="t_arcctl-")
    sim = ArcSim(t, yaml=YAML).start()
    try:
        c = Ctl(t, sim, tmp)
        check_list_get(t, c)
        check_set(t, c)
        check_failover(t, c)
        check_safety_rule(t, c)
        check_endpoints(t, c)
        check_errors(t, c)
    finally:
        sim.stop()
    check_with_daemon(t, tmp)
    if t.failed:
        t.diag("kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_sim(main, timeout=240)
