"""peers.py -- real DNS peers of arcdnsd for the integration tests.

Builds on harness.py and simharness.py and adds:

  ArcZone   arcdnsd mirroring a plain-HTTP arcsim, serving the zone
            svc.example.internal. with ARC-driven records (api A failover
            east -> west, role TXT), and optionally notify:,
            allow-transfer: and a TSIG key.
  Nsd       /usr/sbin/nsd -d, a secondary of that zone.
  Knot      /usr/sbin/knotd, a secondary of that zone.
  KnotAuth  /usr/sbin/knotd, a primary of zone files from tests/data (the
            reference of t_peer_answers.py).
  Unbound   /usr/sbin/unbound -d, a resolver with a stub-zone for it.

Each peer gets its own temporary folder (config, database, log, pid file),
one free loopback port, is started in the foreground by the test and
stopped by PID (TERM, then KILL) through harness.stop_all(), like arcdnsd.
Nothing here touches the packaged services or port 53.

Helpers: query_at() (one raw UDP/TCP query to any loopback port),
wait_for() (bounded polling), flip() (boto3 update_routing_control_state,
as the real SDK does), answer_of() and serial_of().
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import (DIG, KEEP, Message, StartError, _run_tool, free_port,
                     bound, build_query, tcp_exchange, udp_exchange)
from harness import Daemon  # noqa: E402
from simharness import AKID, REGIONS, SECRET, region_arn  # noqa: E402

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"

ORIGIN = "svc.example.internal."
API = "api." + ORIGIN
EAST_IP = "10.0.1.10"
WEST_IP = "10.1.1.10"
WWW_IP = "192.0.2.80"
ROLE_EAST = "us-east-1.role." + ORIGIN
ROLE_WEST = "us-west-2.role." + ORIGIN
EAST_ARN = region_arn("route-us-east-1")
WEST_ARN = region_arn("route-us-west-2")

KEY_NAME = "xfr-key"
KEY_ALG = "hmac-sha256"
KEY_SECRET = "c2VjcmV0LWZvci1hcmNkbnMtdGVzdHMtMDEyMzQ1Njc4OWFi"   # 36 bytes

# SOA refresh and retry are long on purpose: a secondary that follows a
# flip within the test's bounds did so because of our NOTIFY.
ZONE_TEXT = """\
$ORIGIN svc.example.internal.
$TTL 300
@       300 IN SOA ns1 hostmaster 1 3600 3600 86400 60
@       300 IN NS  ns1
ns1     300 IN A   127.0.0.1
www     300 IN A   %s
""" % WWW_IP

CONF = """\
server:
  listen: @LISTEN@
  state-dir: "@DIR@/state"
  log: { level: debug }
%(keys)szones:
  - id: svc
    origin: svc.example.internal.
    file: svc.example.internal.zone
    ttl: %(ttl)d
%(zone_extra)s    records:
      - name: api
        type: A
        policy: failover
        targets:
          - { control: east, region: us-east-1, values: [%(east_ip)s] }
          - { control: west, region: us-west-2, values: [%(west_ip)s] }
      - name: role
        type: TXT
        policy: role
        targets:
          - { control: east, region: us-east-1 }
          - { control: west, region: us-west-2 }
arc:
  endpoints:
%(endpoints)s  poll-interval: %(poll)dms
  timeout: 500ms
  credentials: env
controls:
  east: { arn: "%(east)s" }
  west: { arn: "%(west)s" }
"""

STATIC_CONF = """\
server:
  listen: @LISTEN@
  state-dir: "@DIR@/state"
  log: { level: debug }
zones:
  - id: svc
    origin: svc.example.internal.
    file: svc.example.internal.zone
%(zone_extra)s"""


def flow(items):
    return "[" + ", ".join('"%s"' % x for x in items) + "]"


def use_sim_credentials():
    """arcdnsd reads the credentials arcsim knows from its environment."""
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(k, None)
    os.environ["AWS_ACCESS_KEY_ID"] = AKID
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET


class ArcZone(Daemon):
    """arcdnsd serving svc.example.internal. with ARC-driven records.

    sim: a running plain ArcSim, or None for a zone with no records and no
    arc: section. notify: list of "addr:port"; allow_transfer: list of
    CIDRs or None (no key); tsig: True to add keys: and tsig-key:; bulk:
    that many extra static names (hN A and TXT) so that a transfer takes
    several messages."""

    def __init__(self, t, sim, notify=(), allow_transfer=None, tsig=False,
                 ttl=2, poll_ms=250, name="arczone", bulk=0, ipv6=False):
        Daemon.__init__(self, t, "svc.example.internal.zone", name=name, ipv6=ipv6)
        self.bulk = bulk        # static names h0 .. h<bulk-1> (A + TXT)
        self.sim = sim
        self.notify = list(notify)
        self.allow_transfer = allow_transfer
        self.tsig = tsig
        self.ttl = ttl
        self.poll_ms = poll_ms

    def render(self, template_text=None):
        extra = ""
        if self.notify:
            extra += "    notify: %s\n" % flow(self.notify)
        if self.allow_transfer is not None:
            extra += "    allow-transfer: %s\n" % flow(self.allow_transfer)
        if self.tsig:
            extra += "    tsig-key: %s\n" % KEY_NAME
        keys = ""
        if self.tsig:
            keys = 'keys:\n  %s: { algorithm: %s, secret: "%s" }\n' % (
                KEY_NAME, KEY_ALG, KEY_SECRET)
        if self.sim is None:
            return Daemon.render(self, keys + STATIC_CONF % {"zone_extra": extra})
        eps = "".join('    - { region: %s, url: "%s" }\n' % (REGIONS[i], self.sim.url(i))
                      for i in range(5))
        text = CONF % {
            "keys": keys, "ttl": self.ttl, "zone_extra": extra,
            "east_ip": EAST_IP, "west_ip": WEST_IP, "endpoints": eps,
            "poll": self.poll_ms, "east": EAST_ARN, "west": WEST_ARN,
        }
        return Daemon.render(self, text)

    def _write_conf(self):
        with open(os.path.join(self.dir, "svc.example.internal.zone"), "w") as f:
            f.write(ZONE_TEXT)
            for i in range(self.bulk):
                f.write("h%d 300 IN A 198.51.%d.%d\nh%d 300 IN TXT \"bulk record %d of %d\"\n" % (
                    i, i // 256 % 256, i % 256, i, i, self.bulk))
        Daemon._write_conf(self)

    def start(self, attempts=4):
        """Daemon.start(), with the credentials arcsim knows."""
        use_sim_credentials()
        return Daemon.start(self, attempts)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def api(self):
        return answer_of(query_at(self.port, API, "A"))

    def serial(self):
        return serial_of(query_at(self.port, ORIGIN, "SOA"))

    def wait_mirrored(self, expect, timeout=10):
        """Wait until api A answers `expect` (the mirror has state)."""
        return wait_for(lambda: self.api() == [expect], timeout)[0]

    def stop_checked(self, what=None):
        """Stop (TERM) and check the exit status is 0: a sanitizer or
        valgrind error (TEST_RUNNER) shows up there."""
        self._reap()
        self.t.is_(self.exit_code, 0, "%s: arcdnsd exits 0 on SIGTERM" % (what or self.name))
        return self.stop()      # with the log as diagnostics if that failed

    def restart(self, timeout=10):
        """SIGTERM, then start again on the same port with the same folder
        (state-dir kept), so that peers configured with our address keep
        it. Returns (exit status, ready)."""
        self.signal(signal.SIGTERM)
        code = self.wait_exit(timeout)
        mark = len(self.log_text())
        ready, _ = self._spawn_and_wait(mark)
        return code, ready


# ---------------------------------------------------------------------------
# queries and polling

def query_at(port, qname, qtype="A", host="127.0.0.1", tcp=False, timeout=1.0,
             src=None, **kw):
    """One query to host:port; a Message, or None (no reply, bad reply)."""
    payload = build_query(qname, qtype, rd=kw.pop("rd", False), **kw)
    if tcp:
        data = tcp_exchange(payload, host, port, timeout, src)
    else:
        data = udp_exchange(payload, host, port, timeout, src)
    if data is None:
        return None
    try:
        return Message(data)
    except ValueError:
        return None


def answer_of(m, rtype="A"):
    """Sorted answer texts of a NOERROR reply, or the rcode name, or None."""
    if m is None:
        return None
    if m.rcode != 0:
        return m.rcode_name
    return m.texts("answer", rtype)


def serial_of(m):
    """The SOA serial in a reply's answer, or None."""
    if m is None or m.rcode != 0:
        return None
    soa = m.rrs("answer", "SOA")
    return soa[0].fields[2] if soa else None


def wait_for(fn, timeout, step=0.05):
    """Poll fn() until it is true: (value, seconds) or (None, seconds)."""
    t0 = time.monotonic()
    deadline = t0 + bound(timeout)
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() >= deadline:
            return None, time.monotonic() - t0
        time.sleep(step)


def flip(sim, arn, state, i=0):
    """Set a routing control through endpoint i with boto3."""
    sim.pace(i)
    sim.client(i).update_routing_control_state(RoutingControlArn=arn,
                                               RoutingControlState=state)


def dig_at(port, *args, host="127.0.0.1", timeout=3):
    """dig @host -p port ARGS: a harness.DigReply (None without dig)."""
    if DIG is None:
        return None
    argv = [DIG, "@" + host, "-p", str(port), "+time=%d" % max(1, int(bound(timeout))),
            "+tries=1"] + list(args)
    text, rc = _run_tool(argv, bound(timeout) * 3 + 5)
    return harness.DigReply(text, rc, argv)


def dig_xfr(port, args, host="127.0.0.1", timeout=5):
    """dig for a zone transfer: (raw output, list of harness.DigRR)."""
    if DIG is None:
        return None, []
    argv = [DIG, "@" + host, "-p", str(port), "+time=%d" % max(1, int(bound(timeout))),
            "+tries=1"] + list(args)
    text, rc = _run_tool(argv, bound(timeout) * 3 + 5)
    rrs = []
    for line in text.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        rr = harness.DigRR.parse(line)
        if rr is not None:
            rrs.append(rr)
    return text, rrs


# ---------------------------------------------------------------------------
# peer servers

class Peer(harness.Process):
    """One peer server in the foreground on host:port (loopback)."""

    LABEL = "peer"
    BINARY = None

    def __init__(self, t, port=None, host="127.0.0.1"):
        self.t = t
        self.host = host
        self.port = port or free_port(hosts=(host,))
        self.dir = tempfile.mkdtemp(prefix="arcdns-%s-" % self.LABEL)
        self.log = os.path.join(self.dir, "%s.log" % self.LABEL)
        self.proc = None
        self.exit_code = None
        self.fail_mark = t.failed

    @classmethod
    def available(cls):
        return os.access(cls.BINARY, os.X_OK)

    @property
    def addr(self):
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def argv(self, conf):
        raise NotImplementedError

    def config(self):
        raise NotImplementedError

    def start(self, ready=None, timeout=10):
        """Write the config, spawn, wait until ready() (default: the
        process answers any query on its port). Raises StartError."""
        conf = self.config()
        cmd = self.argv(conf)
        with open(self.log, "ab") as logf:
            logf.write(("harness: $ %s\n" % " ".join(cmd)).encode())
            logf.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, cwd=self.dir, close_fds=True)
        if self not in harness._DAEMONS:
            harness._DAEMONS.append(self)
        self.fail_mark = self.t.failed
        ready = ready or (lambda: query_at(self.port, ORIGIN, "SOA", host=self.host,
                                           timeout=0.3) is not None)
        deadline = time.monotonic() + bound(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if ready():
                return self
            time.sleep(0.05)
        why = ("exited with status %s" % self.proc.returncode
               if self.proc.poll() is not None else "not ready within %.0f s" % bound(timeout))
        self.t.diag("%s failed to start: %s" % (self.LABEL, why))
        self.dump_log()
        raise StartError("%s did not start: %s" % (self.LABEL, why))

    def stop(self):
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

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def api(self):
        return answer_of(query_at(self.port, API, "A", host=self.host))

    def serial(self):
        return serial_of(query_at(self.port, ORIGIN, "SOA", host=self.host))


class Nsd(Peer):
    """NSD as a secondary of primary_port (NOTIFY from 127.0.0.1)."""

    LABEL = "nsd"
    BINARY = NSD
    NOTIFY_RX = r"notify for svc\.example\.internal\. from 127\.0\.0\.1(?: serial (\d+))?"
    TSIG_RX = r"received update to serial \d+ .* TSIG verified with key " + KEY_NAME

    def __init__(self, t, primary_port, tsig=False, port=None, source=None):
        Peer.__init__(self, t, port)
        self.primary_port = primary_port
        self.tsig = tsig
        self.source = source    # outgoing-interface for transfers (a view)

    def argv(self, conf):
        return [NSD, "-d", "-c", conf]

    def config(self):
        d = self.dir
        key = KEY_NAME if self.tsig else "NOKEY"
        keyblock = ""
        if self.tsig:
            keyblock = 'key:\n    name: "%s"\n    algorithm: %s\n    secret: "%s"\n' % (
                KEY_NAME, KEY_ALG, KEY_SECRET)
        return self.write("nsd.conf", """\
server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    server-count: 1
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    zonelistfile: "{d}/zone.list"
    database: ""
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    logfile: "{log}"
    verbosity: 2
    xfrd-reload-timeout: 0
    rrl-ratelimit: 0
remote-control:
    control-enable: no
{keyblock}zone:
    name: "{origin}"
    zonefile: "svc.zone"
    allow-notify: 127.0.0.1 {key}
    request-xfr: 127.0.0.1@{primary} {key}
{outgoing}""".format(port=self.port, d=d, log=self.log, keyblock=keyblock, origin=ORIGIN,
           key=key, primary=self.primary_port,
           outgoing="    outgoing-interface: %s\n" % self.source if self.source else ""))


class Knot(Peer):
    """Knot DNS as a secondary of primary_port, on host (127.0.0.1 or ::1:
    then arcdnsd is reached, and NOTIFYs from, ::1 too)."""

    LABEL = "knot"
    BINARY = KNOTD
    NOTIFY_RX = r"\[svc\.example\.internal\.\] notify, incoming, remote (?:127\.0\.0\.1|::1)@\d+, serial (\d+|none)"
    TSIG_RX = None      # a remote with a key: Knot takes only signed replies

    def __init__(self, t, primary_port, tsig=False, port=None, host="127.0.0.1"):
        Peer.__init__(self, t, port, host)
        self.primary_port = primary_port
        self.tsig = tsig

    def argv(self, conf):
        return [KNOTD, "-c", conf]

    def config(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        keyblock = keyref = ""
        if self.tsig:
            keyblock = "key:\n  - id: %s\n    algorithm: %s\n    secret: %s\n" % (
                KEY_NAME, KEY_ALG, KEY_SECRET)
            keyref = "    key: %s\n" % KEY_NAME
        return self.write("knot.conf", """\
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: {host}@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
{keyblock}remote:
  - id: arcdnsd
    address: {host}@{primary}
{keyref}acl:
  - id: notify-from-arcdnsd
    address: {host}
    action: notify
{keyref}template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
zone:
  - domain: {origin}
    master: arcdnsd
    acl: notify-from-arcdnsd
    file: "{d}/svc.zone"
""".format(port=self.port, d=d, keyblock=keyblock, keyref=keyref,
           primary=self.primary_port, origin=ORIGIN, host=self.host))


class KnotAuth(Peer):
    """Knot DNS serving zone files of tests/data as a primary: zones is a
    list of (origin, file name)."""

    LABEL = "knotauth"
    BINARY = KNOTD

    def __init__(self, t, zones, port=None):
        Peer.__init__(self, t, port)
        self.zones = list(zones)

    def argv(self, conf):
        return [KNOTD, "-c", conf]

    def start(self, timeout=10):
        origin = self.zones[0][0]
        return Peer.start(self, ready=lambda: query_at(
            self.port, origin, "SOA", timeout=0.3) is not None, timeout=timeout)

    def config(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        zones = ""
        for origin, fname in self.zones:
            shutil.copy(os.path.join(harness.DATA_DIR, fname), os.path.join(d, fname))
            zones += '  - domain: %s\n    file: "%s/%s"\n' % (origin, d, fname)
        return self.write("knot.conf", """\
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: "{d}/db"
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    journal-content: none
zone:
{zones}""".format(d=d, port=self.port, zones=zones))


class Unbound(Peer):
    """unbound with a stub-zone for the service zone at primary_port."""

    LABEL = "unbound"
    BINARY = UNBOUND

    def __init__(self, t, primary_port, mode="stub", port=None):
        Peer.__init__(self, t, port)
        self.primary_port = primary_port
        self.mode = mode        # "stub" or "forward"

    def argv(self, conf):
        return [UNBOUND, "-d", "-c", conf]

    def config(self):
        return self.write("unbound.conf", """\
server:
    interface: 127.0.0.1
    port: {port}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    num-threads: 1
    so-reuseport: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-queries: yes
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    domain-insecure: "{origin}"
    prefetch: no
    serve-expired: no
    qname-minimisation: no
{mode}-zone:
    name: "{origin}"
    {mode}-addr: 127.0.0.1@{primary}
    {mode}-first: no
remote-control:
    control-enable: no
""".format(port=self.port, d=self.dir, origin=ORIGIN, primary=self.primary_port,
           mode=self.mode))

    def ask(self, name=API, rtype="A"):
        """A recursive query to unbound: the Message or None."""
        return query_at(self.port, name, rtype, rd=True, timeout=2.0)

    def resolve(self, name=API, rtype="A"):
        return answer_of(self.ask(name, rtype), rtype)
