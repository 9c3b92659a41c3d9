"""simharness.py -- integration test support for arcsim (the ARC simulator).

Builds on harness.py (Tap, bound(), the watchdog and the PID bookkeeping)
and adds:

  ArcSim     one arcsim process: sim.yaml rendered into a temporary folder,
             six consecutive free loopback ports (five endpoints + admin),
             "$ARCSIM -f -c sim.yaml --base-port N --admin 127.0.0.1:N+5
             --ca-out ca.pem", wait for the `ready:` line, TERM then KILL
             by PID, log dumped as TAP diagnostics when a check failed.
             client(i) gives a boto3 client for endpoint i signed for its
             region and verifying TLS with the CA arcsim wrote.
  run_sim()  like harness.run(), but checks $ARCSIM and boto3 instead.
  SIM_YAML   the cluster the tests use (its ARNs follow from its names:
             panel_arn(), control_arn(), rule_arn() compute them as arcsim
             does).
  https_raw  one raw request (http.client) for what boto3 cannot send.

boto3 is Debian's python3-boto3: the tests run under /usr/bin/python3.

Environment: ARCSIM (default $TOP_BUILDDIR/src/arcsim), TOP_SRCDIR,
TOP_BUILDDIR, TEST_RUNNER and ARCDNS_TEST_KEEP as in harness.py.
"""

import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (KEEP, TEST_RUNNER, TOP_BUILDDIR, FileTimeout, StartError,  # noqa: E402
                     Tap, bound, stop_all)

ARCSIM = os.environ.get("ARCSIM") or os.path.join(TOP_BUILDDIR, "src", "arcsim")

try:
    import boto3
    import botocore
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
    HAVE_BOTO3 = True
except ImportError:  # reported as a SKIP by run_sim()
    HAVE_BOTO3 = False

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2"]
SERVICE = "route53-recovery-cluster"
ACCOUNT = "111122223333"
AKID = "AKIDARCSIMTEST"
SECRET = "arcsim/Test+Secret/0123456789abcdefEXAMPLE"
TOKEN_AKID = "AKIDSESSIONTEST"
TOKEN_SECRET = "session/Secret/EXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token"

# Panels sort by ARN in arcsim's lists; tests compute ARNs instead of
# relying on that order.
SIM_YAML = """\
account: "%(account)s"
credentials:
  - access-key-id: %(akid)s
    secret-access-key: "%(secret)s"
  - access-key-id: %(takid)s
    secret-access-key: "%(tsecret)s"
    session-token: "%(token)s"
control-panels:
  - name: DefaultControlPanel
    routing-controls:
      - { name: route-us-east-1, state: On }
      - { name: route-us-west-2, state: On }
      - { name: route-eu-west-1, state: Off }
    safety-rules:
      - name: at-least-one-region
        type: assertion
        controls: [route-us-east-1, route-us-west-2, route-eu-west-1]
        rule: { type: ATLEAST, threshold: 1 }
  - name: CellPanel
    routing-controls:
%(cells)s
""" % {
    "account": ACCOUNT, "akid": AKID, "secret": SECRET, "takid": TOKEN_AKID,
    "tsecret": TOKEN_SECRET, "token": TOKEN,
    "cells": "".join("      - { name: cell-%02d, state: Off }\n" % i for i in range(12)),
}
REGION_CONTROLS = ["route-us-east-1", "route-us-west-2", "route-eu-west-1"]
CELLS = ["cell-%02d" % i for i in range(12)]
NCONTROLS = len(REGION_CONTROLS) + len(CELLS)


def _hexid(kind, *names, n):
    # every part followed by a NUL (src/sim/simconf.c, hash_id)
    data = b"".join(x.encode() + b"\0" for x in ("arcsim", kind, ACCOUNT) + names)
    return hashlib.sha256(data).hexdigest()[:n]


def panel_arn(panel):
    return "arn:aws:route53-recovery-control::%s:controlpanel/%s" % (
        ACCOUNT, _hexid("controlpanel", panel, n=32))


def control_arn(panel, control):
    return "%s/routingcontrol/%s" % (panel_arn(panel),
                                     _hexid("routingcontrol", panel, control, n=16))


def rule_arn(panel, rule):
    return "%s/safetyrule/%s" % (panel_arn(panel), _hexid("safetyrule", panel, rule, n=16))


def region_arn(name):
    return control_arn("DefaultControlPanel", name)


def cell_arn(i):
    return control_arn("CellPanel", CELLS[i])


RULE_ARN = rule_arn("DefaultControlPanel", "at-least-one-region")


def free_port_block(n=6, host="127.0.0.1", attempts=64):
    """A base port such that base..base+n-1 are free for TCP (then released)."""
    for _ in range(attempts):
        base = random.randrange(20000, 60000 - n)
        held = []
        good = True
        for p in range(base, base + n):
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                              socket.SOCK_STREAM)
            try:
                s.bind((host, p))
            except OSError:
                s.close()
                good = False
                break
            held.append(s)
        for s in held:
            s.close()
        if good:
            return base
    raise RuntimeError("no block of %d free ports after %d attempts" % (n, attempts))


def error_code(e):
    """The AWS error code of a botocore ClientError, or the class name."""
    if HAVE_BOTO3 and isinstance(e, botocore.exceptions.ClientError):
        return e.response.get("Error", {}).get("Code")
    return type(e).__name__


def call(fn, *args, **kw):
    """(result, None) or (None, exception) -- for checks on errors."""
    try:
        return fn(*args, **kw), None
    except Exception as e:  # the caller checks which
        return None, e


class ArcSim(harness.Process):
    """One arcsim on loopback.

    yaml: sim.yaml text (default SIM_YAML); plain: --plain; args: extra
    command-line arguments; state: True for --state <dir>/state.json.
    """

    LABEL = "arcsim"
    DUMP_LINES = 150

    def __init__(self, t, yaml=None, plain=False, args=(), state=False,
                 name="arcsim", ready_timeout=10.0):
        self.t = t
        self.yaml = SIM_YAML if yaml is None else yaml
        self.plain = plain
        self.args = list(args)
        self.use_state = state
        self.name = name
        self.ready_timeout = ready_timeout
        self.dir = tempfile.mkdtemp(prefix="arcsim-%s-" % name)
        self.conf = os.path.join(self.dir, "sim.yaml")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.state_path = os.path.join(self.dir, "state.json")
        self.log = os.path.join(self.dir, "arcsim.log")
        self.proc = None
        self.base = None
        self.exit_code = None
        self.ready_line = None
        self.fail_mark = t.failed
        self._clients = {}
        self._updates = {}
        with open(self.conf, "w") as f:
            f.write(self.yaml)

    # -- process --------------------------------------------------------
    @property
    def admin_port(self):
        return self.base + 5

    def argv(self):
        cmd = TEST_RUNNER + [ARCSIM, "-f", "-c", self.conf,
                             "--base-port", str(self.base),
                             "--admin", "127.0.0.1:%d" % self.admin_port]
        if self.plain:
            cmd.append("--plain")
        else:
            cmd += ["--ca-out", self.ca]
        if self.use_state:
            cmd += ["--state", self.state_path]
        return cmd + self.args

    def start(self, attempts=4, keep_ports=False):
        """Start and wait for `ready:`. Raises StartError on failure."""
        last = ""
        for _ in range(attempts):
            if not keep_ports or self.base is None:
                self.base = free_port_block()
            mark = len(self.log_text())
            ok, why = self._spawn_and_wait(mark)
            if ok:
                return self
            last = why
            self._reap()
            if "in use" not in self.log_text()[mark:].lower() or keep_ports:
                break
        self.t.diag("arcsim failed to start: %s" % last)
        self.dump_log()
        raise StartError("arcsim did not become ready: %s" % last)

    def _spawn_and_wait(self, mark):
        cmd = self.argv()
        with open(self.log, "ab") as logf:
            logf.write(("harness: $ %s\n" % " ".join(cmd)).encode())
            logf.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, cwd=self.dir, close_fds=True)
        self.exit_code = None
        if self not in harness._DAEMONS:
            harness._DAEMONS.append(self)
        line = self.wait_log(r"ready:", self.ready_timeout, start_at=mark)
        if line is not None:
            self.ready_line = line
            self._clients = {}
            return True, ""
        if self.proc.poll() is not None:
            return False, "exited with status %s before ready" % self.proc.returncode
        return False, "no `ready:` line within %.0f s" % bound(self.ready_timeout)

    def wait_log(self, pattern, timeout, start_at=0):
        """Poll the log for a line matching pattern; the line or None."""
        deadline = time.monotonic() + bound(timeout)
        rx = re.compile(pattern)
        while True:
            done = self.proc is None or self.proc.poll() is not None
            for line in self.log_text()[start_at:].splitlines():
                if rx.search(line):
                    return line
            if done or time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def halt(self):
        """TERM (then KILL) the process but keep the folder; its status."""
        self._reap()
        return self.exit_code

    def stop(self):
        """TERM, then KILL by PID; dump the log when a check failed while
        this process ran; remove the folder unless ARCDNS_TEST_KEEP."""
        if self in harness._DAEMONS:
            harness._DAEMONS.remove(self)
        self._reap()
        if self.dir is None:
            return self.exit_code
        if self.t.failed > self.fail_mark:
            self.dump_log()
        if KEEP or self.t.failed > self.fail_mark:
            self.t.diag("kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        return self.exit_code

    # -- endpoints --------------------------------------------------------
    def url(self, i):
        return "%s://127.0.0.1:%d/v1" % ("http" if self.plain else "https", self.base + i)

    def client(self, i, region=None, akid=AKID, secret=SECRET, token=None,
               retries=False, read_timeout=10, connect_timeout=3, cache=True):
        """A boto3 client for endpoint i (retries off unless asked)."""
        key = (i, region, akid, secret, token, retries, read_timeout, connect_timeout)
        if cache and key in self._clients:
            return self._clients[key]
        cfg = botocore.config.Config(
            retries={"total_max_attempts": 3 if retries else 1},
            read_timeout=bound(read_timeout), connect_timeout=bound(connect_timeout))
        c = boto3.session.Session().client(
            SERVICE, endpoint_url=self.url(i), region_name=region or REGIONS[i],
            verify=False if self.plain else self.ca, aws_access_key_id=akid,
            aws_secret_access_key=secret, aws_session_token=token, config=cfg)
        if cache:
            self._clients[key] = c
        return c

    def pace(self, i, limit=3, window=1.1):
        """Before an update on endpoint i: wait until it is within the
        3-updates-per-second quota (bounded: at most `window` seconds)."""
        times = [x for x in self._updates.get(i, []) if time.monotonic() - x < window]
        if len(times) >= limit:
            time.sleep(max(0.0, window - (time.monotonic() - times[-limit])))
        times.append(time.monotonic())
        self._updates[i] = times[-limit:]

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx

    def raw(self, i, method="POST", path="/v1", body=b"{}", headers=None, timeout=5):
        """One raw request to endpoint i: (status, headers dict lower-case, body)."""
        if self.plain:
            conn = http.client.HTTPConnection("127.0.0.1", self.base + i,
                                              timeout=bound(timeout))
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", self.base + i,
                                               timeout=bound(timeout),
                                               context=self.ssl_context())
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    # -- admin ------------------------------------------------------------
    def admin(self, method, path, body=None, raw=None, timeout=5):
        """(status, parsed JSON or None, raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=bound(timeout))
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body))
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        return r.status, doc, text

    def fault(self, i, mode, **kw):
        body = {"mode": mode}
        body.update(kw)
        status, doc, text = self.admin("PUT", "/endpoints/%d/fault" % i, body)
        if status != 200:
            raise RuntimeError("fault %s on %d: %s %r" % (mode, i, status, text))
        return doc

    def reset(self):
        status, doc, text = self.admin("POST", "/reset")
        if status != 200:
            raise RuntimeError("reset: %s %r" % (status, text))
        return doc

    def state(self):
        status, doc, _ = self.admin("GET", "/state")
        return doc if status == 200 else None

    def control_states(self):
        """{arn: "On"|"Off"} from the admin interface."""
        doc = self.state() or {}
        return {c["arn"]: c["state"] for c in doc.get("controls", [])}


def run_sim(main, timeout=120):
    """Run main(t) as one TAP stream with a watchdog and full cleanup."""
    t = Tap()
    signal.signal(signal.SIGALRM, harness._alarm_cb)
    signal.signal(signal.SIGTERM, harness._term_cb)
    signal.signal(signal.SIGINT, harness._term_cb)
    signal.alarm(int(bound(timeout)))
    try:
        if not os.access(ARCSIM, os.X_OK):
            if os.environ.get("ARCSIM"):
                t.bail("ARCSIM=%s is not executable" % ARCSIM)
            t._emit("1..0 # SKIP %s not built (set ARCSIM)" % ARCSIM)
            t.finished = True
            return
        if not HAVE_BOTO3:
            t._emit("1..0 # SKIP boto3 not importable by %s (apt-get install "
                    "python3-boto3)" % sys.executable)
            t.finished = True
            return
        main(t)
    except FileTimeout as e:
        t.ok(False, str(e), "".join(traceback.format_exc()))
    except SystemExit as e:
        if not t.finished:
            t.ok(False, "interrupted: %s" % e)
    except BaseException:
        t.ok(False, "unexpected exception", traceback.format_exc())
    finally:
        signal.alarm(0)
        stop_all(t)
        t.done()
    sys.exit(1 if t.failed else 0)


def run_arcsim(args, timeout=20):
    """arcsim with args, not expected to keep running: (status, stdout, stderr)."""
    p = subprocess.run([ARCSIM] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=bound(timeout))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
