#!/usr/bin/python3
"""t_ctl.py -- the control socket and arcdnsctl against a daemon mirroring
arcsim (policyharness.py: tests/data/policy.yaml.in plus server.control).

Checks:
  - the socket: mode 0660, a socket file; removed when arcdnsd stops; a
    stale socket file from a previous run is replaced; control-group sets
    its group (daemon as root, else one's own); a regular file at
    the path and an unknown control-group are start errors with a clear
    message (the file is left alone);
  - every command, human and --json: status, controls (NAME STATE AGE
    ENDPOINT, states as arcsim holds them), stats (counters move after
    queries), reload (ok; a bad config's error, the old one serving);
  - what-if east=off: the answers of every view and ARC-driven name match
    the model (policyharness.expected) for those states, "now" matches the
    current states, and the live answers, serials and arcsim's states do
    not change; what-if errors (unknown control, bad value, none given);
  - the protocol by hand: one reply per line in order, bad JSON and an
    unknown command get {"ok":false}, a request over 64 KiB gets an error
    reply and the connection closes, several clients at once, a client
    that never reads does not stop the others;
  - exit codes: 0 ok, 1 failed, 2 usage, 4 daemon not reachable; the
    socket path from -c (server.control of the config);
  - fences (t_fence's daemon and hooks): fence status, fence NAME with a
    failing hook (failed closed, the writer withdrawn), fence confirm
    until the writer is served again; errors (no such fence, nothing to
    confirm, no fences configured, usage).
"""

import grp
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ARCDNSD, bound, free_port  # noqa: E402
from policyharness import (ORIGIN, PolicyDaemon, PolicySim, converge,  # noqa: E402
                           expected, set_credentials, wait_for)
from simharness import run_sim  # noqa: E402
from t_fence import FenceDaemon, writer  # noqa: E402

ARCDNSCTL = os.environ.get("ARCDNSCTL") or os.path.join(
    os.environ.get("TOP_BUILDDIR", "."), "src", "arcdnsctl")


class CtlDaemon(PolicyDaemon):
    """PolicyDaemon with a control socket (and extra server keys)."""

    def __init__(self, t, sim, name="ctl", extra=""):
        PolicyDaemon.__init__(self, t, sim, name=name)
        self.extra = extra

    def render(self, template_text=None):
        text = PolicyDaemon.render(self, template_text)
        keys = '  control: "%s"\n%s' % (self.sock, self.extra)
        return text.replace("server:\n", "server:\n" + keys, 1)

    @property
    def sock(self):
        return os.path.join(self.dir, "ctl.sock")


def ctl(*args, sock=None, timeout=20):
    """Run arcdnsctl; (status, stdout, stderr)."""
    argv = [ARCDNSCTL] + (["-s", sock] if sock is not None else []) + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=bound(timeout))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def ctl_json(t, d, *args):
    rc, out, err = ctl("--json", *args, sock=d.sock)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    t.ok(rc == 0 and isinstance(doc, dict) and doc.get("ok") is True,
         "arcdnsctl --json %s: exit 0, one JSON object with ok true" % " ".join(args),
         "status %s\nstdout %s\nstderr %s" % (rc, out, err))
    return doc or {}


def diag(rc, out, err):
    return "status %s\nstdout %s\nstderr %s" % (rc, out, err)


# ---------------------------------------------------------------------------
# the protocol, by hand


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(bound(5))
    s.connect(path)
    return s


def read_lines(s, n, timeout=5.0):
    """n reply lines (parsed), or fewer if the connection closed."""
    buf = b""
    deadline = time.monotonic() + bound(timeout)
    while buf.count(b"\n") < n and time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return [json.loads(x) for x in buf.split(b"\n")[:n] if x]


def closed(s, timeout=5.0):
    deadline = time.monotonic() + bound(timeout)
    while time.monotonic() < deadline:
        try:
            if s.recv(65536) == b"":
                return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
    return False


def check_protocol(t, d):
    s = connect(d.sock)
    s.sendall(b'{"cmd":"controls"}\n{"cmd":"nope"}\nnot json\n[1]\n{"cmd":"stats"}\n')
    r = read_lines(s, 5)
    t.is_(len(r), 5, "protocol: five request lines in one write, five replies")
    if len(r) == 5:
        t.ok(r[0].get("ok") is True and "controls" in r[0], "protocol: reply 1 is controls", r[0])
        t.ok(r[1].get("ok") is False and "unknown command" in r[1].get("error", ""),
             "protocol: an unknown command: ok false with an error", r[1])
        t.ok(r[2].get("ok") is False and "JSON" in r[2].get("error", ""),
             "protocol: bad JSON: ok false with an error", r[2])
        t.ok(r[3].get("ok") is False and "cmd" in r[3].get("error", ""),
             "protocol: not an object: ok false", r[3])
        t.ok(r[4].get("ok") is True and "dns" in r[4], "protocol: reply 5 is stats, in order", r[4])
    # several clients at once, one of which never reads
    hog = connect(d.sock)
    hog.setblocking(False)
    sent = 0
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < bound(3):
            sent += hog.send(b'{"cmd":"what-if","states":{"east":"off"}}\n' * 64)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    others = [connect(d.sock) for _ in range(5)]
    for o in others:
        o.sendall(b'{"cmd":"status"}\n')
    got = [read_lines(o, 1) for o in others]
    t.ok(all(len(g) == 1 and g[0].get("ok") is True for g in got),
         "protocol: five more clients answered while one sent %d bytes and never read" % sent,
         got)
    for o in others:
        o.close()
    hog.close()
    # a request longer than the limit: an error reply, then the close
    s2 = connect(d.sock)
    try:
        s2.sendall(b"x" * (70 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_lines(s2, 1)
    t.ok(len(r) == 1 and r[0].get("ok") is False and "longer" in r[0].get("error", ""),
         "protocol: a request over 64 KiB gets an error reply", r)
    t.ok(closed(s2), "protocol: ... and the connection is closed")
    s2.close()
    # a client that sends a last request without newline and shuts down
    # its side (printf ... | socat) still gets the reply
    s3 = connect(d.sock)
    s3.sendall(b'{"cmd":"status"}')
    s3.shutdown(socket.SHUT_WR)
    r = read_lines(s3, 1)
    t.ok(len(r) == 1 and r[0].get("ok") is True and closed(s3),
         "protocol: a request ended by EOF gets its reply, then the close", r)
    s3.close()
    # the first connection still works
    s.sendall(b'{"cmd":"status"}\n')
    r = read_lines(s, 1)
    t.ok(len(r) == 1 and r[0].get("ok") is True, "protocol: a connection serves many requests", r)
    s.close()
    t.ok(d.alive(), "protocol: arcdnsd still runs")


# ---------------------------------------------------------------------------
# commands


def check_socket_file(t, d):
    st = os.lstat(d.sock)
    t.ok(stat.S_ISSOCK(st.st_mode), "the control socket is a socket at server.control")
    t.is_(oct(st.st_mode & 0o777), oct(0o660), "the control socket's mode is 0660")


def check_status(t, d):
    rc, out, err = ctl("status", sock=d.sock)
    t.ok(rc == 0 and re.search(r"(?m)^zones:", out) and "svc.test." in out,
         "arcdnsctl status: exit 0, zones listed", diag(rc, out, err))
    doc = ctl_json(t, d, "status")
    t.ok("zones" in doc, "arcdnsctl --json status: zones present", doc)


def check_controls(t, d, sim):
    rc, out, err = ctl("controls", sock=d.sock)
    lines = out.splitlines()
    t.ok(rc == 0 and lines and re.match(r"NAME\s+STATE\s+AGE\s+ENDPOINT$", lines[0]),
         "arcdnsctl controls: exit 0, a NAME STATE AGE ENDPOINT table", diag(rc, out, err))
    want = dict(sim.states())
    want["ghost"] = "unknown"
    rows = {}
    for ln in lines[1:]:
        f = ln.split()
        if len(f) >= 4:
            rows[f[0]] = f[1]
    t.is_(rows, want, "arcdnsctl controls: every control with arcsim's state")
    doc = ctl_json(t, d, "controls")
    got = {c.get("name"): c.get("state") for c in doc.get("controls", [])}
    t.is_(got, want, "arcdnsctl --json controls: the same states")
    east = [c for c in doc.get("controls", []) if c.get("name") == "east"]
    t.ok(east and east[0].get("endpoint") and isinstance(east[0].get("age_s"), int) and
         east[0].get("arn", "").startswith("arn:") and
         east[0].get("arc_name") == "route-us-east-1",
         "arcdnsctl --json controls: endpoint, age and ARN of a known control", east)


def check_stats(t, d):
    doc = ctl_json(t, d, "stats")
    before = doc.get("dns", {}).get("udp_queries", -1)
    for _ in range(5):
        d.ask("default", "api", "A")
    doc = ctl_json(t, d, "stats")
    after = doc.get("dns", {}).get("udp_queries", -1)
    t.ok(after >= before + 5, "arcdnsctl stats: udp_queries moved by 5 queries (%s -> %s)"
         % (before, after), doc)
    t.ok(isinstance(doc.get("rebuilds"), int) and doc["rebuilds"] >= 1 and
         isinstance(doc.get("arc"), dict) and doc["arc"].get("polls_ok", 0) >= 1,
         "arcdnsctl stats: rebuilds and ARC polls counted", doc)
    eps = (doc.get("arc") or {}).get("endpoints", [])
    t.ok(len(eps) == 5 and sum(e.get("ok", 0) for e in eps) >= 1 and
         all(e.get("region") and e.get("url", "").startswith("http://127.0.0.1:") for e in eps),
         "arcdnsctl stats: the five endpoints with their requests and outcomes", eps)
    rc, out, err = ctl("stats", sock=d.sock)
    t.ok(rc == 0 and "udp_queries:" in out, "arcdnsctl stats: human output", diag(rc, out, err))


def model_of(entry, which):
    """An answer of what-if as policyharness's (rcode, sorted texts)."""
    a = entry[which]
    if a["answer"] == "SERVFAIL":
        return ("SERVFAIL", ())
    if a["answer"] == "NODATA":
        return ("NOERROR", ())
    if a["answer"] != "values":
        return (a["answer"], ())
    typ = entry["type"]
    if typ == "TXT":
        texts = ['TXT "%s"' % v for v in a["values"]]
    else:
        texts = ["%s %s" % (typ, v) for v in a["values"]]
    return ("NOERROR", tuple(sorted(texts)))


def key_of(entry):
    name = entry["name"]
    rel = name[:-len(ORIGIN) - 1] if name.endswith("." + ORIGIN) else name
    return (entry["view"], rel, entry["type"])


def check_whatif(t, d, sim):
    current = sim.states()
    live = expected(current)
    serials = (d.serial("default"), d.serial("vpc"))
    doc = ctl_json(t, d, "what-if", "east=off")
    answers = doc.get("answers", [])
    hypo = dict(current, east="Off")
    want = expected(hypo)
    got = {key_of(e): model_of(e, "what-if") for e in answers}
    now = {key_of(e): model_of(e, "now") for e in answers}
    t.ok(len(answers) >= 10, "what-if east=off: %d answers (every view and ARC-driven name)"
         % len(answers))
    t.is_({k: v for k, v in want.items() if k in got}, got,
          "what-if east=off: every answer matches the model for east Off")
    t.is_({k: v for k, v in live.items() if k in now}, now,
          "what-if east=off: every 'now' answer matches the current states")
    need = {("default", "api", "A"), ("vpc", "api", "A"), ("default", "www", "CNAME"),
            ("default", "us-east-1.role", "TXT"), ("vpc", "us-west-2.role", "TXT"),
            ("default", "mv", "A"), ("default", "gh", "A"), ("default", "nd", "A")}
    t.ok(need <= set(got), "what-if east=off: both views, role names, CNAME, multivalue",
         sorted(set(got)))
    t.is_(doc.get("states", {}).get("east"), "Off", "what-if east=off: states shows east Off")
    changed = {key_of(e) for e in answers if e.get("changed")}
    t.is_(sorted(changed), sorted(k for k in got if got[k] != now[k]),
          "what-if east=off: 'changed' marks exactly the answers that differ")
    t.ok(("default", "api", "A") in changed and ("default", "static", "A") not in changed,
         "what-if east=off: api changes", sorted(changed))
    # nothing changed meanwhile
    t.is_(sim.states(), current, "what-if: arcsim's states did not change")
    t.is_(d.observe(live), live, "what-if: the live answers did not change")
    t.is_((d.serial("default"), d.serial("vpc")), serials, "what-if: the serials did not move")
    ctl_json(t, d, "what-if", "east=off", "west=off")
    t.is_(d.observe(live), live, "what-if east=off west=off: the live answers did not change")
    # human output
    rc, out, err = ctl("what-if", "east=off", sock=d.sock)
    t.ok(rc == 0 and re.search(r"(?m)^\* default\s+api\.svc\.test\.\s+A\s+10\.0\.1\.10 10\.0\.1\.11"
                               r"\s+10\.1\.1\.10$", out) and "VIEW" in out and "WHAT-IF" in out,
         "arcdnsctl what-if east=off: a table with NOW and WHAT-IF, changes marked",
         diag(rc, out, err))
    # the prediction comes true: flip east Off in arcsim, then back
    sim.set("east", "Off")
    converge(t, d, hypo, "east Off in arcsim")
    served = d.observe(got)
    t.is_(served, got, "what-if east=off predicted every answer served after the flip")
    sim.set("east", current.get("east", "On"))
    converge(t, d, current, "east back")
    # errors
    rc, out, err = ctl("what-if", "nosuch=on", sock=d.sock)
    t.ok(rc == 1 and "unknown control 'nosuch'" in err, "what-if nosuch=on: exit 1, unknown control",
         diag(rc, out, err))
    for bad in (["east=maybe"], ["east"], []):
        rc, out, err = ctl("what-if", *bad, sock=d.sock)
        t.is_(rc, 2, "what-if %s: usage error, exit 2" % " ".join(bad) if bad else
              "what-if without states: usage error, exit 2")


def check_reload(t, d):
    mark = d.log_size()
    rc, out, err = ctl("reload", sock=d.sock)
    t.ok(rc == 0 and "reloaded" in out, "arcdnsctl reload: exit 0, reloaded", diag(rc, out, err))
    t.ok(d.wait_log(r"reloaded", 5, start_at=mark) is not None, "arcdnsctl reload: logged")
    with open(d.conf) as f:
        good = f.read()
    d.write("arcdns.yaml", good.replace("poll-interval:", "poll-interval: [", 1))
    rc, out, err = ctl("reload", sock=d.sock)
    t.ok(rc == 1 and re.search(r"reload failed: .*arcdns\.yaml:\d+:\d+:", err),
         "arcdnsctl reload of a bad config: exit 1 with file:line:column", diag(rc, out, err))
    rc, out, err = ctl("--json", "reload", sock=d.sock)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    t.ok(rc == 1 and doc.get("ok") is False and "arcdns.yaml" in doc.get("error", ""),
         "arcdnsctl --json reload of a bad config: ok false with the error", diag(rc, out, err))
    d.write("arcdns.yaml", good)
    live = expected(d.sim.states())
    t.is_(d.observe(live), live, "after a failed reload the old config still answers")
    rc, out, err = ctl("reload", sock=d.sock)
    t.is_(rc, 0, "arcdnsctl reload of the good config again: exit 0", diag(rc, out, err))


def check_usage(t, d):
    for args, what in ((["bogus"], "an unknown command"), ([], "no command"),
                       (["--nope", "status"], "an unknown option"),
                       (["status", "extra"], "an extra argument")):
        rc, out, err = ctl(*args, sock=d.sock)
        t.is_(rc, 2, "arcdnsctl with %s: exit 2" % what, diag(rc, out, err))
    rc, out, err = ctl("-V")
    t.ok(rc == 0 and out.startswith("arcdnsctl "), "arcdnsctl -V", diag(rc, out, err))
    rc, out, err = ctl("-h")
    t.ok(rc == 0 and "what-if" in out, "arcdnsctl -h", diag(rc, out, err))
    rc, out, err = ctl("-c", d.conf, "controls")
    t.ok(rc == 0 and out.startswith("NAME"), "arcdnsctl -c CONFIG: the socket from server.control",
         diag(rc, out, err))


def check_start_errors(t, sim):
    """A regular file at server.control; an unknown control-group."""
    for label, extra, prep, pattern in (
            ("a regular file at the socket path", "", "file",
             r"exists and is not a socket"),
            ("an unknown control-group", "  control-group: no-such-group-h6c\n", None,
             r"control-group: no such group 'no-such-group-h6c'")):
        d = CtlDaemon(t, sim, name="ctlerr", extra=extra)
        d._prepare()
        d.port = free_port()
        d._write_conf()
        if prep == "file":
            with open(d.sock, "w") as f:
                f.write("keep me\n")
        p = subprocess.run([ARCDNSD, "-f", "-c", d.conf], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=bound(15))
        err = p.stderr.decode()
        t.ok(p.returncode == 1 and re.search(pattern, err),
             "arcdnsd with %s: exit 1 with a clear message" % label,
             "status %s\n%s" % (p.returncode, err))
        if prep == "file":
            with open(d.sock) as f:
                t.is_(f.read(), "keep me\n", "... and the file is left alone")
        d.stop()


def check_stale(t, sim):
    # a group for the socket: root may give any, others their own
    group = "daemon" if os.geteuid() == 0 else grp.getgrgid(os.getegid()).gr_name
    d = CtlDaemon(t, sim, name="ctlstale", extra="  control-group: %s\n" % group)
    d._prepare()
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(os.path.join(d.dir, "ctl.sock"))
    old.close()     # a socket file nobody listens on, as a crash leaves
    d.start()
    rc, out, err = ctl("controls", sock=d.sock)
    t.ok(rc == 0, "a stale socket file from a previous run is replaced", diag(rc, out, err))
    st = os.lstat(d.sock)
    t.ok(st.st_gid == grp.getgrnam(group).gr_gid and st.st_mode & 0o777 == 0o660,
         "control-group %s: the socket's group, mode 0660" % group,
         "gid %d mode %o" % (st.st_gid, st.st_mode & 0o777))
    path = d.sock
    d.stop()
    t.ok(not os.path.exists(path), "the socket file is removed when arcdnsd stops")


class CtlFenceDaemon(FenceDaemon):
    """t_fence's daemon (fence db on writer.fence.test) with a control socket."""

    def render(self, template_text=None):
        text = FenceDaemon.render(self, template_text)
        return text.replace("server:\n", 'server:\n  control: "%s"\n' % self.sock, 1)

    @property
    def sock(self):
        return os.path.join(self.dir, "ctl.sock")


def fence_doc(d):
    rc, out, err = ctl("--json", "fence", "status", sock=d.sock)
    try:
        return json.loads(out)["fences"][0]
    except (ValueError, KeyError, IndexError):
        return {}


def check_fences(t, sim):
    d = CtlFenceDaemon(t, sim)
    d.prepare_hooks()
    d.start()
    try:
        got, _ = wait_for(lambda: writer(d.port) == "A 127.0.0.11" and fence_doc(d).get("phase")
                          == "serving", 5)
        t.ok(got, "fence: the writer serves east", fence_doc(d))
        rc, out, err = ctl("fence", "status", sock=d.sock)
        t.ok(rc == 0 and re.search(r"(?m)^NAME\s+PHASE", out) and
             re.search(r"(?m)^db\s+serving\b", out),
             "arcdnsctl fence status: a table, db serving", diag(rc, out, err))
        doc = fence_doc(d)
        t.ok(doc.get("name") == "db" and doc.get("serving") == "east",
             "arcdnsctl --json fence status: db serves east", doc)
        doc = ctl_json(t, d, "what-if", "east=off")
        w = [a for a in doc.get("answers", []) if a.get("name") == "writer.fence.test."]
        t.ok(len(w) == 1 and w[0]["now"] == {"answer": "values", "values": ["127.0.0.11"]} and
             w[0]["what-if"]["answer"] == "NODATA",
             "what-if east=off: the fenced writer would be withdrawn (NODATA), now east", w)
        t.is_(writer(d.port), "A 127.0.0.11", "what-if: the fenced writer still serves east")
        rc, out, err = ctl("fence", "confirm", "db", sock=d.sock)
        t.ok(rc == 1 and "nothing to confirm" in err,
             "arcdnsctl fence confirm while serving: exit 1, nothing to confirm", diag(rc, out, err))
        # fence by hand with a fence hook that fails: failed closed
        d.touch("fail-fence")
        rc, out, err = ctl("fence", "db", sock=d.sock)
        t.ok(rc == 0 and out.startswith("fence db: "), "arcdnsctl fence db: exit 0",
             diag(rc, out, err))
        got, _ = wait_for(lambda: fence_doc(d).get("phase") == "failed", 10)
        t.ok(got, "fence db with a failing hook: failed closed", fence_doc(d))
        t.ok((writer(d.port) or "").startswith("NODATA"),
             "failed closed: the writer is withdrawn (NODATA)", writer(d.port))
        # the operator fenced it another way: confirm until served again
        d.touch("fail-fence", False)
        for _ in range(3):
            if fence_doc(d).get("phase") == "serving":
                break
            rc, out, err = ctl("fence", "confirm", "db", sock=d.sock)
            t.ok(rc == 0, "arcdnsctl fence confirm db (%s): exit 0" % out.strip(),
                 diag(rc, out, err))
            wait_for(lambda: fence_doc(d).get("phase") in ("serving", "fenced", "failed"), 10)
        got, _ = wait_for(lambda: writer(d.port) == "A 127.0.0.11", 10)
        t.ok(got, "after the confirmation the writer serves east again", fence_doc(d))
        for args, pat, code in ((["fence", "nosuch"], "no fence 'nosuch'", 1),
                                (["fence"], "fence needs", 2),
                                (["fence", "confirm"], "fence needs", 2)):
            rc, out, err = ctl(*args, sock=d.sock)
            t.ok(rc == code and pat in err, "arcdnsctl %s: exit %d" % (" ".join(args), code),
                 diag(rc, out, err))
    finally:
        d.stop()


def check_no_fences(t, d):
    rc, out, err = ctl("fence", "status", sock=d.sock)
    t.ok(rc == 0 and "no fences configured" in out,
         "arcdnsctl fence status without fences: exit 0, none", diag(rc, out, err))
    rc, out, err = ctl("fence", "db", sock=d.sock)
    t.ok(rc == 1 and "no fences configured" in err,
         "arcdnsctl fence db without fences: exit 1", diag(rc, out, err))


def main(t):
    set_credentials()
    sim = PolicySim(t).start()
    d = None
    try:
        d = CtlDaemon(t, sim).start()
        converge(t, d, sim.states(), "arcdnsd mirrors arcsim")
        check_socket_file(t, d)
        check_status(t, d)
        check_controls(t, d, sim)
        check_stats(t, d)
        check_whatif(t, d, sim)
        check_protocol(t, d)
        check_reload(t, d)
        check_usage(t, d)
        check_no_fences(t, d)
        sock = d.sock
        d.stop()
        d = None
        rc, out, err = ctl("status", sock=sock)
        t.ok(rc == 4 and "cannot reach" in err, "arcdnsctl with the daemon down: exit 4",
             diag(rc, out, err))
        check_stale(t, sim)
        check_start_errors(t, sim)
        check_fences(t, sim)
    finally:
        if d is not None:
            d.stop()
        sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=150)
