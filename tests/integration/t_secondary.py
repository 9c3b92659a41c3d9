#!/usr/bin/python3
"""t_secondary.py -- real NSD and Knot DNS as secondaries of arcdnsd.

arcsim (plain HTTP) and an arcdnsd mirroring it serve svc.example.internal.
with ARC-driven records (api A failover east -> west, role TXT), notify:
to an NSD and a Knot DNS, allow-transfer: [127.0.0.0/8]. NSD
(/usr/sbin/nsd -d) and Knot (/usr/sbin/knotd) run in the foreground on
loopback ports with their own folders, as secondaries (request-xfr /
master to arcdnsd, allow-notify / acl notify from 127.0.0.1). The zone's
SOA refresh and retry are an hour: a secondary that follows a flip within
the bounds below did so because of our NOTIFY.

  - AXFR from arcdnsd (a zone of ~100 KB, several messages): SOA first
    and last, static and ARC-driven records at current values, the current
    serial; IXFR over TCP: the same full
    AXFR-style reply; IXFR over UDP: just the SOA (RFC 1995 section 4);
  - each secondary transfers the zone and serves the ARC-driven answer
    and our serial;
  - after a flip through arcsim (boto3), arcdnsd's serial moves forward,
    each secondary is NOTIFYed, transfers again and serves the new answer
    and the new serial; and back;
  - arcdnsd restarted on the same port (same state-dir): its serial does
    not go back, and the secondaries follow the next flips;
  - SIGHUP after an edit of the zone file (with and without a raised file
    serial): the serial moves forward and the secondaries get the edit;
  - with a TSIG key (keys: + tsig-key:, the same key in NSD and Knot):
    unsigned or wrongly signed AXFR is refused, a signed one succeeds with
    every message signed and verified, the secondaries transfer with the key and follow a flip
    (their ACLs take only signed NOTIFYs);
  - two views, each with its own copy of the zone (own values, serial,
    notify: and allow-transfer:): Knot transfers the default view's copy
    (from 127.0.0.1), NSD the vpc view's (outgoing-interface 127.0.0.2);
    each is NOTIFYed by its block and follows flips with its own values
    and serial;
  - no ARC state yet (every arcsim endpoint unavailable): AXFR fails (no partial
    zone), secondaries started meanwhile hold no zone; when the endpoints
    come back, the serial moves and both transfer the zone;
  - over IPv6: notify: ["[::1]:N"] and allow-transfer: ["::1/128"]; Knot
    on ::1 transfers and follows a flip (SKIP without IPv6 loopback);
  - allow-transfer: [127.0.0.1/32]: AXFR and IXFR from 127.0.0.2 are
    REFUSED, from 127.0.0.1 allowed; a zone without allow-transfer
    refuses every transfer.

A missing nsd or knotd binary SKIPs that server's checks (the file SKIPs
when both are missing).
"""

import os
import re
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (DIG, Message, bound, build_query, encode_name, frame,  # noqa: E402
                     recv_exact, tcp_connect)
from harness import Daemon, free_port, have_ipv6_loopback  # noqa: E402
from peers import (API, EAST_ARN, EAST_IP, KEY_ALG, KEY_NAME, KEY_SECRET,  # noqa: E402
                   ORIGIN, ROLE_EAST, ROLE_WEST, WEST_ARN, WEST_IP, WWW_IP, ArcZone,
                   Knot, Nsd, answer_of, dig_xfr, flip, query_at, serial_of,
                   wait_for)
from simharness import REGIONS  # noqa: E402
from simharness import ArcSim, run_sim  # noqa: E402

FOLLOW = 10.0       # s: flip -> secondary serves the new answer (poll 250ms)
BULK = 1500         # extra static names (A + TXT): a transfer of ~100 KB
LAST = "h%d.%s" % (BULK - 1, ORIGIN)


def serial_newer(new, old):
    """RFC 1982: new is ahead of old."""
    if new is None or old is None or new == old:
        return False
    return (new - old) % (1 << 32) < (1 << 31)


# ---------------------------------------------------------------------------
# raw zone transfers

def soa_rr(serial):
    rdata = b"\x00\x00" + struct.pack("!IIIII", serial, 0, 0, 0, 0)
    return encode_name(ORIGIN) + struct.pack("!HHIH", 6, 1, 0, len(rdata)) + rdata


def xfr_raw(port, qtype="AXFR", serial=None, src=None, timeout=5.0, host="127.0.0.1"):
    """One AXFR (or IXFR with our SOA serial) over TCP: the list of reply
    Messages, ending at the closing SOA, an error reply, EOF or the bound."""
    if qtype == "IXFR":
        q = build_query(ORIGIN, "IXFR", rd=False, nscount=1, extra=soa_rr(serial or 0))
    else:
        q = build_query(ORIGIN, "AXFR", rd=False)
    try:
        s = tcp_connect(host, port, timeout, src)
    except OSError:
        return []
    msgs = []
    try:
        s.sendall(frame(q))
        deadline = time.monotonic() + bound(timeout)
        soas = 0
        for _ in range(1000):
            hdr = recv_exact(s, 2, deadline)
            if len(hdr) < 2:
                break
            n = struct.unpack("!H", hdr)[0]
            body = recv_exact(s, n, deadline)
            if len(body) < n:
                break
            try:
                m = Message(body)
            except ValueError:
                break
            msgs.append(m)
            if m.rcode != 0:
                break
            soas += len(m.rrs("answer", "SOA"))
            if soas >= 2 or (qtype == "IXFR" and soas == 1 and len(m.answer) == 1
                             and len(msgs) == 1):
                break
    except OSError:
        pass
    finally:
        s.close()
    return msgs


def xfr_rrs(msgs):
    out = []
    for m in msgs:
        out.extend(m.answer)
    return out


def check_full_transfer(t, msgs, serial, east_or_west, label):
    """A full AXFR-style stream: SOA ... SOA with the current contents."""
    rrs = xfr_rrs(msgs)
    rc = msgs[0].rcode_name if msgs else None
    t.is_(rc, "NOERROR", "%s: NOERROR" % label)
    ok = (len(rrs) >= 2 and rrs[0].tname == "SOA" and rrs[-1].tname == "SOA"
          and rrs[0].fields[2] == serial and rrs[-1].fields[2] == serial)
    t.ok(ok, "%s: SOA (serial %s) first and last" % (label, serial),
         "\n".join(repr(r) for r in rrs))
    if len(rrs) >= 2:
        rrs = rrs[1:-1]

    def have(name, rtype, text):
        return any(r.name.lower() == name.lower() and r.tname == rtype and r.text == text
                   for r in rrs)
    t.ok(have("www." + ORIGIN, "A", WWW_IP) and have("ns1." + ORIGIN, "A", "127.0.0.1"),
         "%s: static records" % label, "\n".join(repr(r) for r in rrs))
    want_ip = EAST_IP if east_or_west == "east" else WEST_IP
    apis = sorted(r.text for r in rrs if r.name.lower() == API and r.tname == "A")
    t.is_(apis, [want_ip], "%s: api A at its current value" % label)
    active, passive = (ROLE_EAST, ROLE_WEST) if east_or_west == "east" else (ROLE_WEST, ROLE_EAST)
    t.ok(have(active, "TXT", '"active"') and have(passive, "TXT", '"passive"'),
         "%s: role TXT records at their current values" % label,
         "\n".join(repr(r) for r in rrs if r.tname == "TXT"))
    soa_inside = [r for r in rrs if r.tname == "SOA"]
    t.is_(len(soa_inside), 0, "%s: no SOA inside the stream (not an incremental reply)" % label)
    bulk = [r for r in rrs if r.name.lower().startswith("h") and r.tname in ("A", "TXT")]
    t.ok(len(bulk) == 2 * BULK and len(msgs) > 1,
         "%s: all %d bulk records, in %d messages" % (label, len(bulk), len(msgs)))


# ---------------------------------------------------------------------------
# phases

def secondaries_follow(t, sim, d, peers, label, tsig=False):
    """Each peer serves arcdnsd's answer and serial; then flip east Off and
    On again through arcsim, and each peer follows both times."""
    for p in peers:
        want = ([EAST_IP], d.serial())
        got, took = wait_for(lambda: (p.api(), p.serial()) == want, FOLLOW)
        t.ok(got, "%s: %s transferred the zone: api %s, serial %s (%.2fs)" % (
            label, p.LABEL, want[0], want[1], took),
            "got api %r serial %r" % (p.api(), p.serial()))
        role = answer_of(query_at(p.port, ROLE_EAST, "TXT"), "TXT")
        t.is_(role, ['"active"'], "%s: %s serves the role TXT" % (label, p.LABEL))
        t.is_(answer_of(query_at(p.port, LAST, "TXT"), "TXT"),
              ['"bulk record %d of %d"' % (BULK - 1, BULK)],
              "%s: %s has the whole multi-message transfer (%s)" % (label, p.LABEL, LAST))
    for state, ip, side in (("Off", WEST_IP, "west"), ("On", EAST_IP, "east")):
        old = d.serial()
        marks = {p.LABEL: len(p.log_text()) for p in peers}
        dmark = len(d.log_text())
        flip(sim, EAST_ARN, state)
        got, took = wait_for(lambda: d.api() == [ip] and serial_newer(d.serial(), old), FOLLOW)
        new = d.serial()
        t.ok(got, "%s: east %s: arcdnsd answers %s, serial %s -> %s (%.2fs)" % (
            label, state, ip, old, new, took), "api %r serial %r" % (d.api(), new))
        for p in peers:
            got, took = wait_for(lambda: (p.api(), p.serial()) == ([ip], new), FOLLOW)
            t.ok(got, "%s: east %s: %s serves %s and serial %s (%.2fs after arcdnsd)" % (
                label, state, p.LABEL, ip, new, took),
                "got api %r serial %r" % (p.api(), p.serial()))
            log = p.log_text()[marks[p.LABEL]:]
            # with the SOA in our NOTIFY (RFC 1996 3.7, optional) the
            # secondary logs its serial: then it must be the new one
            seen = re.findall(p.NOTIFY_RX, log)
            serials = [int(x) for x in seen if x.isdigit()]
            t.ok(seen and (not serials or new in serials),
                 "%s: east %s: %s logged our NOTIFY (serials shown: %s)" % (
                     label, state, p.LABEL, serials or "none"), log[-2000:])
            ack = d.wait_log(r"notify: svc\.example\.internal\. serial %d acknowledged by "
                             r"127\.0\.0\.1:%d\b" % (new, p.port), 2, start_at=dmark)
            t.ok(ack, "%s: east %s: arcdnsd logged %s's acknowledgement of serial %s" % (
                label, state, p.LABEL, new))
            if tsig and p.TSIG_RX:
                t.ok(re.search(p.TSIG_RX, log), "%s: east %s: %s verified the transfer's "
                     "TSIG" % (label, state, p.LABEL), log[-2000:])
        role = [answer_of(query_at(p.port, ROLE_EAST if side == "east" else ROLE_WEST,
                                   "TXT"), "TXT") for p in peers]
        t.is_(role, [['"active"']] * len(peers),
              "%s: east %s: the secondaries' role TXT follows" % (label, state))


def check_restart(t, sim, d, peers):
    """arcdnsd restarts on the same port while east flips: its serial is
    ahead of every serial it served before (state-dir/serials.json), so
    the secondaries take the new zone."""
    before = d.serial()
    code, ready = d.restart()
    t.ok(code == 0 and ready, "restart: clean stop (status %s) and ready again" % code)
    got, _ = wait_for(lambda: d.api() == [EAST_IP], FOLLOW)
    t.ok(got, "restart: arcdnsd answers %s again" % EAST_IP, "api %r" % d.api())
    after = d.serial()
    t.ok(after == before or serial_newer(after, before),
         "restart: the serial did not go back (%s -> %s)" % (before, after))
    marks = {p.LABEL: len(p.log_text()) for p in peers}
    flip(sim, EAST_ARN, "Off")
    got, took = wait_for(lambda: d.api() == [WEST_IP] and serial_newer(d.serial(), after),
                         FOLLOW)
    new = d.serial()
    t.ok(got, "restart: east Off: arcdnsd answers %s, serial %s -> %s" % (WEST_IP, after, new))
    for p in peers:
        got, took = wait_for(lambda: (p.api(), p.serial()) == ([WEST_IP], new), FOLLOW)
        t.ok(got, "restart: east Off: %s serves %s and serial %s (%.2fs)" % (
            p.LABEL, WEST_IP, new, took), "got api %r serial %r\n%s" % (
                p.api(), p.serial(), p.log_text()[marks[p.LABEL]:][-2000:]))
    flip(sim, EAST_ARN, "On")
    got, _ = wait_for(lambda: d.api() == [EAST_IP], FOLLOW)
    t.ok(got, "restart: east On again", "api %r" % d.api())
    new = d.serial()
    for p in peers:
        got, took = wait_for(lambda: (p.api(), p.serial()) == ([EAST_IP], new), FOLLOW)
        t.ok(got, "restart: east On: %s serves %s and serial %s (%.2fs)" % (
            p.LABEL, EAST_IP, new, took), "got api %r serial %r" % (p.api(), p.serial()))


VIEWS_CONF = """\
server:
  listen: @LISTEN@
  state-dir: "@DIR@/state"
  log: { level: debug }
zones:
%(blocks)sviews:
  - name: vpc
    match-clients: ["127.0.0.2/32"]
    zones: [svc-vpc]
  - name: default
    match-clients: [any]
    zones: [svc]
arc:
  endpoints:
%(endpoints)s  poll-interval: 250ms
  timeout: 500ms
  credentials: env
controls:
  east: { arn: "%(east)s" }
  west: { arn: "%(west)s" }
"""

BLOCK = """\
  - id: %(id)s
    origin: svc.example.internal.
    file: svc.example.internal.zone
    ttl: 2
    notify: ["%(notify)s"]
    allow-transfer: ["%(allow)s"]
    records:
      - name: api
        type: A
        policy: failover
        targets:
          - { control: east, region: us-east-1, values: [%(east_ip)s] }
          - { control: west, region: us-west-2, values: [%(west_ip)s] }
"""

VPC_EAST_IP = "10.0.9.10"
VPC_WEST_IP = "10.1.9.10"


class ViewsZone(ArcZone):
    """Two views, each with its own copy of the zone (own values, serial,
    notify list and allow-transfer): vpc for 127.0.0.2, default for the
    rest."""

    def __init__(self, t, sim, vpc_notify, default_notify):
        ArcZone.__init__(self, t, sim, name="secondary-views")
        self.vpc_notify = vpc_notify
        self.default_notify = default_notify

    def render(self, template_text=None):
        blocks = BLOCK % {"id": "svc", "notify": self.default_notify, "allow": "127.0.0.1/32",
                          "east_ip": EAST_IP, "west_ip": WEST_IP}
        blocks += BLOCK % {"id": "svc-vpc", "notify": self.vpc_notify, "allow": "127.0.0.2/32",
                           "east_ip": VPC_EAST_IP, "west_ip": VPC_WEST_IP}
        eps = "".join('    - { region: %s, url: "%s" }\n' % (REGIONS[i], self.sim.url(i))
                      for i in range(5))
        text = VIEWS_CONF % {"blocks": blocks, "endpoints": eps, "east": EAST_ARN,
                             "west": WEST_ARN}
        return Daemon.render(self, text)


def check_views(t, sim):
    """Knot (transfers from 127.0.0.1) holds the default view's copy, NSD
    (outgoing-interface 127.0.0.2) the vpc view's; each block NOTIFYs its
    own secondary; both follow a flip with their own values and serials."""
    if not (Nsd.available() and Knot.available()):
        t.skip("views: NSD and Knot as secondaries of two views", "needs nsd and knotd")
        return
    nsd_port, knot_port = _ports(2)
    d = ViewsZone(t, sim, "127.0.0.1:%d" % nsd_port, "127.0.0.1:%d" % knot_port).start()

    def view(src):
        api = answer_of(query_at(d.port, API, "A", src=src))
        return api, serial_of(query_at(d.port, ORIGIN, "SOA", src=src))
    got, _ = wait_for(lambda: view("127.0.0.1")[0] == [EAST_IP] and
                      view("127.0.0.2")[0] == [VPC_EAST_IP], FOLLOW)
    t.ok(got, "views: arcdnsd answers %s to 127.0.0.1 and %s to 127.0.0.2" % (
        EAST_IP, VPC_EAST_IP), "%r %r" % (view("127.0.0.1"), view("127.0.0.2")))
    rrs = xfr_rrs(xfr_raw(d.port, "AXFR", src="127.0.0.2"))
    t.is_(sorted(r.text for r in rrs if r.name.lower() == API and r.tname == "A"),
          [VPC_EAST_IP], "views: AXFR from 127.0.0.2 is the vpc view's copy")
    rrs = xfr_rrs(xfr_raw(d.port, "AXFR", src="127.0.0.1"))
    t.is_(sorted(r.text for r in rrs if r.name.lower() == API and r.tname == "A"),
          [EAST_IP], "views: AXFR from 127.0.0.1 is the default view's copy")
    nsd = Nsd(t, d.port, port=nsd_port, source="127.0.0.2").start()
    knot = Knot(t, d.port, port=knot_port).start()

    def secondaries_match(label):
        want = {knot: view("127.0.0.1"), nsd: view("127.0.0.2")}
        for p in (knot, nsd):
            got, took = wait_for(lambda: (p.api(), p.serial()) == want[p], FOLLOW)
            t.ok(got, "views: %s: %s serves the %s view's %s, serial %s (%.2fs)" % (
                label, p.LABEL, "default" if p is knot else "vpc", want[p][0], want[p][1],
                took), "got %r %r" % (p.api(), p.serial()))
    secondaries_match("start")
    for state, ip, vpc_ip in (("Off", WEST_IP, VPC_WEST_IP), ("On", EAST_IP, VPC_EAST_IP)):
        old_d, old_v = view("127.0.0.1")[1], view("127.0.0.2")[1]
        flip(sim, EAST_ARN, state)

        def moved():
            (a, sd), (b, sv) = view("127.0.0.1"), view("127.0.0.2")
            return (a == [ip] and b == [vpc_ip] and serial_newer(sd, old_d)
                    and serial_newer(sv, old_v))
        got, _ = wait_for(moved, FOLLOW)
        t.ok(got, "views: east %s: arcdnsd answers %s and %s, both serials forward" % (
            state, ip, vpc_ip), "%r %r" % (view("127.0.0.1"), view("127.0.0.2")))
        secondaries_match("east %s" % state)
    nsd.stop()
    knot.stop()
    d.stop_checked()


def check_unknown_state(t, sim):
    """No ARC state yet (every endpoint down): no transfer of a zone whose
    ARC-driven names have no answer; the secondaries started meanwhile
    hold no zone; once the endpoints are back, the serial moves, they are
    NOTIFYed and transfer the zone."""
    for i in range(5):      # still listening: "down" would free the ports
        sim.fault(i, "unavailable")
    nsd_port, knot_port = _ports(2)
    d = ArcZone(t, sim, notify=["127.0.0.1:%d" % nsd_port, "127.0.0.1:%d" % knot_port],
                allow_transfer=["127.0.0.0/8"], name="secondary-unknown").start()
    t.is_(d.api(), "SERVFAIL", "unknown state: api A is SERVFAIL")
    msgs = xfr_raw(d.port, "AXFR")
    rc = msgs[0].rcode_name if msgs else None
    t.ok(rc not in (None, "NOERROR") and not xfr_rrs(msgs),
         "unknown state: AXFR is refused with an error (%s), no partial zone" % rc,
         "\n".join(m.summary() for m in msgs[:2]))
    peers = start_peers(t, d.port, nsd_port, knot_port, tsig=False)
    for p in peers:
        # NSD: "received error code SERVFAIL", Knot: "responded with error 'SERVFAIL'"
        tried, _ = wait_for(lambda: re.search(r"error( code)? '?SERVFAIL", p.log_text()), 5)
        t.ok(tried, "unknown state: %s asked and got SERVFAIL" % p.LABEL, p.log_text()[-2000:])
        t.ok(answer_of(query_at(p.port, API, "A")) != [EAST_IP] and p.serial() is None,
             "unknown state: %s has no zone" % p.LABEL,
             "api %r serial %r" % (p.api(), p.serial()))
    before = d.serial()
    sim.reset()
    got, took = wait_for(lambda: d.api() == [EAST_IP] and serial_newer(d.serial(), before),
                         FOLLOW)
    t.ok(got, "unknown state: endpoints back: api %s, serial %s -> %s (%.2fs)" % (
        EAST_IP, before, d.serial(), took))
    for p in peers:
        want = ([EAST_IP], d.serial())
        got, took = wait_for(lambda: (p.api(), p.serial()) == want, FOLLOW)
        t.ok(got, "unknown state: endpoints back: %s transfers the zone (%.2fs)" % (
            p.LABEL, took), "got api %r serial %r\n%s" % (p.api(), p.serial(),
                                                         p.log_text()[-2000:]))
    for p in peers:
        p.stop()
    d.stop_checked()


def check_reload(t, d, peers):
    """SIGHUP after an edit of the zone file: the serial moves forward (one
    step when the file's serial was left alone, to the file's serial when
    the operator raised it past ours), and the secondaries get the edit."""
    path = os.path.join(d.dir, "svc.example.internal.zone")
    for n, bump in ((81, None), (82, 1000)):
        ip = "192.0.2.%d" % n
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(?m)^(www\s+300 IN A\s+)\S+", r"\g<1>" + ip, text)
        if bump:
            text = re.sub(r"(IN SOA ns1 hostmaster )\d+", r"\g<1>%d" % bump, text)
        d.write("svc.example.internal.zone", text)
        before = d.serial()
        mark = len(d.log_text())
        d.signal(signal.SIGHUP)
        line = d.wait_log(r"reloaded|reload failed", 10, start_at=mark)
        t.ok(line and "reloaded" in line, "reload: SIGHUP reloaded", line)
        after = d.serial()
        want = "%s" % (bump if bump else "ahead of %s" % before)
        t.ok((after == bump) if bump else serial_newer(after, before),
             "reload: www %s, serial %s -> %s (want %s)" % (ip, before, after, want))
        for p in peers:
            got, took = wait_for(lambda: answer_of(query_at(p.port, "www." + ORIGIN, "A"))
                                 == [ip] and p.serial() == after, FOLLOW)
            t.ok(got, "reload: %s serves www %s and serial %s (%.2fs)" % (
                p.LABEL, ip, after, took), "got www %r serial %r" % (
                answer_of(query_at(p.port, "www." + ORIGIN, "A")), p.serial()))


def check_ipv6(t, sim):
    """Over ::1: arcdnsd listens on [::1] too, notify: ["[::1]:N"],
    allow-transfer: ["::1/128"]; Knot on ::1 transfers from [::1] and
    follows a flip; an AXFR over 127.0.0.1 is REFUSED."""
    if not have_ipv6_loopback():
        t.skip("IPv6: Knot as a secondary over ::1", "no IPv6 loopback")
        return
    if not Knot.available():
        t.skip("IPv6: Knot as a secondary over ::1", "%s not installed" % Knot.BINARY)
        return
    kport = free_port(hosts=("::1",))
    d = ArcZone(t, sim, notify=["[::1]:%d" % kport], allow_transfer=["::1/128"], ipv6=True,
                name="secondary-v6").start()
    t.ok(d.wait_mirrored(EAST_IP), "IPv6: arcdnsd mirrors arcsim")
    msgs = xfr_raw(d.port, "AXFR", src="127.0.0.1")
    t.is_(msgs[0].rcode_name if msgs else None, "REFUSED",
          "IPv6: allow-transfer ::1/128: AXFR over 127.0.0.1 is REFUSED")
    msgs = xfr_raw(d.port, "AXFR", host="::1")
    t.ok(len(xfr_rrs(msgs)) >= 2 and msgs[0].rcode == 0, "IPv6: AXFR over ::1 transfers")
    k = Knot(t, d.port, port=kport, host="::1").start()
    for state, ip in ((None, EAST_IP), ("Off", WEST_IP), ("On", EAST_IP)):
        if state:
            old = d.serial()
            flip(sim, EAST_ARN, state)
            wait_for(lambda: d.api() == [ip] and serial_newer(d.serial(), old), FOLLOW)
        want = ([ip], d.serial())
        got, took = wait_for(lambda: (k.api(), k.serial()) == want, FOLLOW)
        t.ok(got, "IPv6: %s: knot on ::1 serves %s, serial %s (%.2fs)" % (
            "east " + state if state else "start", ip, want[1], took),
            "got %r %r\n%s" % (k.api(), k.serial(), k.log_text()[-1500:]))
    k.stop()
    d.stop_checked()


def start_peers(t, d_port, nsd_port, knot_port, tsig):
    peers = []
    for cls, port in ((Nsd, nsd_port), (Knot, knot_port)):
        if not cls.available():
            t.skip("%s as a secondary" % cls.LABEL, "%s not installed (apt-get install %s)" % (
                cls.BINARY, "nsd" if cls is Nsd else "knot"))
            continue
        peers.append(cls(t, d_port, tsig=tsig, port=port).start())
    return peers


def check_plain(t, sim):
    nsd_port, knot_port = _ports(2)
    d = ArcZone(t, sim, notify=["127.0.0.1:%d" % nsd_port, "127.0.0.1:%d" % knot_port],
                allow_transfer=["127.0.0.0/8"], name="secondary", bulk=BULK).start()
    t.ok(d.wait_mirrored(EAST_IP), "arcdnsd mirrors arcsim: api A %s" % EAST_IP,
         "api %r" % d.api())
    serial = d.serial()
    check_full_transfer(t, xfr_raw(d.port, "AXFR"), serial, "east", "AXFR")
    check_full_transfer(t, xfr_raw(d.port, "IXFR", serial=(serial - 1) % (1 << 32)),
                        serial, "east", "IXFR over TCP (full reply)")
    if DIG is not None:
        text, rrs = dig_xfr(d.port, ["+notcp", "ixfr=%d" % ((serial - 1) % (1 << 32)), ORIGIN])
        t.ok(len(rrs) == 1 and rrs[0].type == "SOA" and rrs[0].rdata.split()[2] == str(serial),
             "IXFR over UDP: just the SOA (serial %s)" % serial, text)
        text, rrs = dig_xfr(d.port, ["axfr", ORIGIN])
        t.ok(len(rrs) == 8 + 2 * BULK and rrs[0].type == "SOA" and rrs[-1].type == "SOA",
             "dig axfr: a full transfer (%d records)" % len(rrs), text[-3000:])
    peers = start_peers(t, d.port, nsd_port, knot_port, tsig=False)
    secondaries_follow(t, sim, d, peers, "no key")
    check_restart(t, sim, d, peers)
    check_reload(t, d, peers)
    for p in peers:
        p.stop()
    d.stop_checked()


def check_tsig(t, sim):
    nsd_port, knot_port = _ports(2)
    d = ArcZone(t, sim, notify=["127.0.0.1:%d" % nsd_port, "127.0.0.1:%d" % knot_port],
                allow_transfer=["127.0.0.0/8"], tsig=True, name="secondary-tsig",
                bulk=BULK).start()
    t.ok(d.wait_mirrored(EAST_IP), "TSIG: arcdnsd mirrors arcsim", "api %r" % d.api())
    msgs = xfr_raw(d.port, "AXFR")
    rc = msgs[0].rcode_name if msgs else None
    t.ok(rc in ("REFUSED", "NOTAUTH") and not xfr_rrs(msgs),
         "TSIG: an unsigned AXFR gets no data (rcode %s)" % rc,
         "\n".join(m.summary() for m in msgs[:2]))
    if DIG is not None:
        key = "%s:%s:%s" % (KEY_ALG, KEY_NAME, KEY_SECRET)
        text, rrs = dig_xfr(d.port, ["-y", key, "axfr", ORIGIN])
        signed = [r for r in rrs if r.type == "TSIG"]
        rrs = [r for r in rrs if r.type != "TSIG"]
        m = re.search(r"XFR size: (\d+) records \(messages (\d+)", text)
        nmsg = int(m.group(2)) if m else 0
        t.ok(len(rrs) == 8 + 2 * BULK and rrs[0].type == "SOA" and rrs[-1].type == "SOA"
             and len(signed) == nmsg and nmsg > 1 and not re.search(
                 r"tsig verify failure|could not be validated|BADSIG|BADKEY|"
                 r"Couldn't verify", text, re.I),
             "TSIG: a signed AXFR (dig -y) transfers in %d messages, each signed (%d TSIG), "
             "and every one verifies" % (nmsg, len(signed)), text[-3000:])
        bad = "%s:%s:%s" % (KEY_ALG, KEY_NAME, "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZw==")
        text, rrs = dig_xfr(d.port, ["-y", bad, "axfr", ORIGIN])
        t.ok(not [r for r in rrs if r.type in ("A", "TXT")],
             "TSIG: an AXFR signed with the wrong secret gets no data", text)
    else:
        t.skip("TSIG: dig -y", "dig not installed")
    peers = start_peers(t, d.port, nsd_port, knot_port, tsig=True)
    secondaries_follow(t, sim, d, peers, "TSIG", tsig=True)
    for p in peers:
        p.stop()
    d.stop_checked()


def check_refused(t):
    d = ArcZone(t, None, allow_transfer=["127.0.0.1/32"], name="xfr-acl").start()
    serial = d.serial()
    msgs = xfr_raw(d.port, "AXFR", src="127.0.0.2")
    t.is_(msgs[0].rcode_name if msgs else None, "REFUSED",
          "allow-transfer 127.0.0.1/32: AXFR from 127.0.0.2 is REFUSED")
    t.is_(xfr_rrs(msgs), [], "... with no records")
    msgs = xfr_raw(d.port, "IXFR", serial=serial, src="127.0.0.2")
    t.is_(msgs[0].rcode_name if msgs else None, "REFUSED",
          "allow-transfer 127.0.0.1/32: IXFR from 127.0.0.2 is REFUSED")
    if DIG is not None:
        text, rrs = dig_xfr(d.port, ["-b", "127.0.0.2", "axfr", ORIGIN])
        t.ok(not rrs and re.search(r"Transfer failed", text),
             "dig -b 127.0.0.2 axfr: Transfer failed", text)
    msgs = xfr_raw(d.port, "AXFR", src="127.0.0.1")
    rrs = xfr_rrs(msgs)
    t.ok(len(rrs) >= 2 and rrs[0].tname == "SOA" and rrs[-1].tname == "SOA"
         and rrs[0].fields[2] == serial,
         "allow-transfer 127.0.0.1/32: AXFR from 127.0.0.1 transfers",
         "\n".join(m.summary() for m in msgs[:3]))
    t.ok(d.alive(), "arcdnsd runs after the refused transfers")
    d.stop_checked()

    d = ArcZone(t, None, name="xfr-none").start()
    msgs = xfr_raw(d.port, "AXFR", src="127.0.0.1")
    t.is_(msgs[0].rcode_name if msgs else None, "REFUSED",
          "no allow-transfer: AXFR from 127.0.0.1 is REFUSED")
    d.stop_checked()


def _ports(n):
    """n distinct quiet loopback ports (harness.free_port)."""
    ports = []
    for _ in range(n):
        ports.append(free_port(taken=ports))
    return ports


def main(t):
    if not Nsd.available() and not Knot.available():
        t._emit("1..0 # SKIP neither %s nor %s installed (apt-get install nsd knot)" % (
            Nsd.BINARY, Knot.BINARY))
        t.finished = True
        return
    check_refused(t)
    sim = ArcSim(t, plain=True, name="secondary").start()
    check_unknown_state(t, sim)
    check_plain(t, sim)
    check_tsig(t, sim)
    check_views(t, sim)
    check_ipv6(t, sim)
    sim.stop()


if __name__ == "__main__":
    run_sim(main, timeout=240)
