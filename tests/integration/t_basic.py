#!/usr/bin/python3
"""t_basic.py -- authoritative answers over UDP (dig, kdig, drill, raw).

AA and zone TTLs; NXDOMAIN and NODATA with the SOA and the negative TTL;
REFUSED outside our zones; RA clear; CNAME chains; wildcards (RFC 4592);
referrals with glue; case echo; ANY (RFC 8482); CHAOS; MX/TXT/AAAA data as
in the zone file. Then hide-version, a version override and two workers.
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
from harness import ARCDNSD, Daemon, arcdnsd_version, build_query, run  # noqa: E402

IDENTITY = "arcdns-test-1"


def check_ready_line(t, d):
    t.like(d.ready_line, r"^\S+ arcdnsd\[%d\]: notice: main: ready:" % d.pid,
           "ready line: <time> arcdnsd[PID]: notice: main: ready:")
    t.like(d.ready_line, r"127\.0\.0\.1[:#]%d" % d.port, "ready line names the listen address")


def raw_checks(t, d):
    """Header details that dig does not show exactly."""
    q = build_query("www.example.test", "A", qid=0x1234, rd=True)
    m = d.send(q)
    if not t.ok(m is not None, "raw: www A answered"):
        return
    t.is_(m.id, 0x1234, "raw: ID echoed")
    t.ok(m.qr and m.aa and m.rd and not m.ra and not m.tc, "raw: flags qr aa rd, no ra tc", m)
    t.is_(m.opcode, 0, "raw: opcode QUERY")
    t.is_(m.question, [("www.example.test.", 1, 1)], "raw: question echoed", m)
    t.is_(m.trailing, 0, "raw: no bytes after the last RR", m)
    t.is_(m.nopt, 0, "raw: no OPT in reply to a query without OPT", m)

    m = d.query("www.example.test", "A", qid=0xBEEF, rd=False)
    t.ok(m is not None and m.id == 0xBEEF and not m.rd and m.aa,
         "raw: RD clear in query -> clear in reply", m)

    m = d.query("nope.example.test", "TXT", qid=7)
    t.ok(m is not None and m.question == [("nope.example.test.", 16, 1)] and m.rcode == 3,
         "raw: NXDOMAIN echoes the question", m)

    # exact bytes of a mixed-case name in question and answer owner
    m = d.query("wWw.eXaMpLe.TeSt", "AAAA")
    t.ok(m is not None and m.question and m.question[0][0] == "wWw.eXaMpLe.TeSt." and
         m.answer and all(rr.name == "wWw.eXaMpLe.TeSt." for rr in m.answer),
         "raw: case echoed in question and every answer owner", m)

    # rdata bytes exactly as in the zone file
    m = d.query("txt.example.test", "TXT")
    strs = sorted(tuple(rr.fields) for rr in m.rrs("answer", "TXT")) if m else None
    t.is_(strs, sorted([(b"hello world", b"second string"), (b"v=spf1 -all",),
                        (b"semi;colon", b'quote"inside', b"back\\slash")]),
          "raw: TXT character-strings exact", m)
    m = d.query("example.test", "MX")
    t.is_(sorted(rr.fields for rr in m.answer) if m else None,
          [(10, "mail.example.test."), (20, "mail2.example.net.")], "raw: MX preference and exchange", m)
    m = d.query("mail.example.test", "AAAA")
    t.is_([rr.rdata.hex() for rr in m.answer] if m else None,
          ["20010db8000000000000000000000025"], "raw: AAAA rdata bytes", m)

    # class IN only for zone data: a CH query for a zone name is not answered from IN data
    m = d.query("www.example.test", "A", qclass="CH")
    t.ok(m is not None and m.rcode in (5, 3, 4) and not m.answer,
         "raw: CH A for a zone name: no IN data (REFUSED/NXDOMAIN/NOTIMP)", m)

    # QCLASS * (RFC 1035 3.2.5) matches IN data; the records say IN
    m = d.query("www.example.test", "A", qclass=255)
    t.ok(m is not None and m.rcode == 0 and m.question == [("www.example.test.", 1, 255)]
         and sorted((rr.rclass, rr.rdata.hex()) for rr in m.answer)
         == [(1, "c000020a"), (1, "c000020b")],
         "raw: class ANY query answered from IN data", m)


def labels_query(d, labels, qtype=1):
    """A query whose name is the given raw labels (bytes) below example.test."""
    qname = b"".join(bytes([len(lb)]) + lb for lb in labels + [b"example", b"test"]) + b"\x00"
    return d.send(build_query("unused", question=qname + struct.pack("!HH", qtype, 1)))


def zone_oddities(t, d):
    m = d.query("dup.example.test", "A")
    t.ok(m is not None and m.texts("answer", "A") == ["192.0.2.80"],
         "an RR listed twice in the zone is served once", m)
    m = d.query("mixed.example.test", "A")
    t.ok(m is not None and m.texts("answer", "A") == ["192.0.2.81"] and
         m.answer[0].name == "mixed.example.test.",
         "owner written MiXeD in the zone: found, owner in the query's case", m)
    m = labels_query(d, [b"dot.label"])
    t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["192.0.2.82"],
         "a label holding a dot (dot\\.label) is found", m)
    m = labels_query(d, [b"dot", b"label"])
    t.ok(m is not None and m.rcode == 3, "dot.label as two labels: NXDOMAIN", m)
    m = labels_query(d, [b"caf\xc3\xa9"])
    t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["192.0.2.83"],
         "a label with UTF-8 bytes is found", m)
    m = labels_query(d, [b"CAF\xc3\xa9"])
    t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["192.0.2.83"] and
         m.answer[0].rdata and m.question[0][0] == "CAF\\195\\169.example.test.",
         "ASCII letters fold around non-ASCII bytes, case echoed", m)
    m = labels_query(d, [b"caf\xc3\x89"])
    t.ok(m is not None and m.rcode == 3, "bytes >= 0x80 do not fold: NXDOMAIN", m)


def cross_tools(t, d):
    r = d.kdig("www.example.test", "A")
    if r is None:
        t.skip("kdig www A", "kdig not installed")
    else:
        cases.check_reply(t, r, "kdig www A",
                          answer=[("www.example.test", "A", a) for a in cases.WWW_A],
                          answer_ttl={"A": 300})
    r = d.drill("nope.example.test", "A")
    if r is None:
        t.skip("drill NXDOMAIN", "drill not installed")
    else:
        cases.check_reply(t, r, "drill NXDOMAIN", status="NXDOMAIN", answer=[],
                          soa=(cases.ZONE, cases.NEG_TTL))
    r = d.drill("txt.example.test", "TXT")
    if r is not None:
        cases.check_reply(t, r, "drill txt TXT", answer=[
            ("txt.example.test", "TXT", '"hello world" "second string"'),
            ("txt.example.test", "TXT", '"v=spf1 -all"'),
            ("txt.example.test", "TXT", '"semi;colon" "quote\\"inside" "back\\\\slash"')])


def version_daemons(t, version):
    d = Daemon(t, "basic.yaml.in", server={"hide-version": "true"}, name="hidever").start()
    try:
        for name in ("version.bind", "version.server"):
            r = d.dig("-c", "CH", "-t", "TXT", name)
            cases.check_reply(t, r, "hide-version: CH TXT %s" % name, status="REFUSED",
                              aa=None, answer=[])
        r = d.dig("-c", "CH", "-t", "TXT", "id.server")
        cases.check_reply(t, r, "hide-version: id.server still answers", aa=None,
                          answer=[("id.server", "TXT", '"%s"' % IDENTITY)])
    finally:
        d.stop()

    d = Daemon(t, "basic.yaml.in", server={"version": '"custom build 9"'},
               name="version").start()
    try:
        r = d.dig("-c", "CH", "-t", "TXT", "version.bind")
        cases.check_reply(t, r, "version override: version.bind", aa=None,
                          answer=[("version.bind", "TXT", '"custom build 9"')])
    finally:
        d.stop()


def workers_daemon(t):
    d = Daemon(t, "basic.yaml.in", server={"workers": 2}, name="workers").start()
    try:
        good = 0
        bad = []
        for i in range(60):
            name = ("www", "nope", "alias1")[i % 3] + ".example.test"
            m = d.query(name, "A", tcp=(i % 4 == 0))
            want = {"www": 0, "nope": 3, "alias1": 0}[name.split(".")[0]]
            if m is not None and m.rcode == want and m.aa:
                good += 1
            else:
                bad.append((name, m))
        t.is_(good, 60, "workers 2: 60 mixed UDP/TCP queries answered right",
              "\n".join("%s: %r" % b for b in bad[:3]))
        r = d.dig("-c", "CH", "-t", "TXT", "id.server")
        cases.check_reply(t, r, "workers 2: CHAOS", aa=None,
                          answer=[("id.server", "TXT", '"%s"' % IDENTITY)])
    finally:
        d.stop()


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(t, d):
    """An idle daemon sleeps: its UDP threads block in recvmmsg and the
    loops in epoll. A busy loop would burn a whole second of CPU here."""
    before = cpu_seconds(d.pid)
    time.sleep(1.0)  # measuring idleness, not waiting for readiness
    used = cpu_seconds(d.pid) - before
    t.ok(used < 0.3, "idle daemon uses almost no CPU (%.2f s in 1 s)" % used)


def detached_daemon(t):
    """Without -f: the parent exits 0, the daemon serves from the
    background and writes its pid-file; TERM through that PID stops it."""
    import shutil
    import subprocess
    import tempfile
    from harness import free_port, udp_exchange, parse_message
    d = tempfile.mkdtemp(prefix="arcdns-detach-")
    pid = None
    try:
        port = free_port()
        pidfile = os.path.join(d, "arcdnsd.pid")
        with open(os.path.join(d, "z.zone"), "w") as f:
            f.write("$ORIGIN detach.test.\n@ 60 IN SOA ns1 host 1 2 3 4 5\n"
                    "@ 60 IN NS ns1\nns1 60 IN A 192.0.2.53\n")
        conf = os.path.join(d, "a.yaml")
        with open(conf, "w") as f:
            f.write("server:\n  listen: [\"127.0.0.1:%d\"]\n  pid-file: %s\n"
                    "  log: { level: warn }\n"
                    "zones:\n  - { id: z, origin: detach.test., file: z.zone }\n"
                    % (port, pidfile))
        p = subprocess.run([ARCDNSD, "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        t.is_(p.returncode, 0, "without -f: the parent exits 0", p.stderr)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and pid is None:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip() or 0) or None
            except (OSError, ValueError):
                time.sleep(0.05)  # polling for the pid-file, bounded
        t.ok(pid is not None, "pid-file written", pidfile)
        reply = None
        while pid is not None and time.monotonic() < deadline and reply is None:
            data = udp_exchange(build_query("ns1.detach.test", "A"), "127.0.0.1", port, 0.5)
            reply = parse_message(data) if data else None
        t.ok(reply is not None and reply.rcode == 0 and reply.answer,
             "the detached daemon answers", reply)
        if pid is not None:
            os.kill(pid, 15)
            gone = False
            while time.monotonic() < deadline + 5 and not gone:
                try:
                    os.kill(pid, 0)
                    time.sleep(0.05)  # waiting for the exit, bounded
                except ProcessLookupError:
                    gone = True
            t.ok(gone, "TERM to the pid-file's PID stops it")
            if not gone:
                os.kill(pid, 9)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def address_taken(t, d):
    """A second daemon on an address the first holds exits 1 at once (the
    kernel would have let it share the port through SO_REUSEPORT and take
    part of the queries); so does one whose TCP port another process
    listens on with SO_REUSEPORT. The first keeps answering. The same port
    on another address is no conflict."""
    import shutil
    import socket
    import subprocess
    import tempfile
    from harness import free_port
    tmp = tempfile.mkdtemp(prefix="arcdns-taken-")
    held = None
    try:
        with open(os.path.join(tmp, "z.zone"), "w") as f:
            f.write("$ORIGIN taken.test.\n@ 60 IN SOA ns1 host 1 2 3 4 5\n"
                    "@ 60 IN NS ns1\nns1 60 IN A 192.0.2.53\n")

        def second(port):
            conf = os.path.join(tmp, "a.yaml")
            with open(conf, "w") as f:
                f.write("server:\n  listen: [\"127.0.0.1:%d\"]\n  workers: 2\n"
                        "zones:\n  - { id: z, origin: taken.test., file: z.zone }\n"
                        % port)
            p = subprocess.Popen([ARCDNSD, "-f", "-c", conf], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True)
            try:
                err = p.communicate(timeout=5)[1]
            except subprocess.TimeoutExpired:   # it started: it shares the port
                p.kill()
                err = p.communicate()[1]
                return None, err
            return p.returncode, err

        code, err = second(d.port)
        t.is_(code, 1, "a second daemon on the first one's address exits 1 "
              "(None: it started, sharing the port)")
        t.like(err, r"cannot listen on 127\.0\.0\.1[:#]%d \(udp\): Address already "
               r"in use \(another process has it\)" % d.port, "... and says why")
        m = d.query("www.example.test", "A")
        t.ok(m is not None and m.rcode == 0 and m.answer, "... the first one answers", m)

        port = free_port()
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind(("127.0.0.1", port))
        held.listen(1)
        code, err = second(port)
        t.is_(code, 1, "TCP port held by another SO_REUSEPORT listener: exit 1")
        t.like(err, r"cannot listen on 127\.0\.0\.1[:#]%d \(tcp\): Address already "
               r"in use" % port, "... naming tcp")
        held.close()
        held = None

        # the same port on another address is no conflict
        port = free_port(("127.0.0.1", "127.0.0.2"))
        held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.2", port))
        code, err = second(port)
        t.is_(code, None, "UDP port taken on 127.0.0.2 only: the daemon on "
              "127.0.0.1 starts (None: still running after 5 s)", err[-300:])
    finally:
        if held is not None:
            held.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(t):
    version = arcdnsd_version()
    t.ok(version is not None, "arcdnsd -V prints 'arcdnsd <version>'", ARCDNSD)
    d = Daemon(t, "basic.yaml.in").start()
    try:
        check_ready_line(t, d)
        cases.run_all(t, d, [], "udp", IDENTITY, "arcdns %s" % version)
        raw_checks(t, d)
        zone_oddities(t, d)
        cross_tools(t, d)
        idle_cpu(t, d)
        address_taken(t, d)
        d.check_alive("the basic cases")
    finally:
        d.stop()
    version_daemons(t, version)
    workers_daemon(t)
    detached_daemon(t)


if __name__ == "__main__":
    run(main)
