#!/usr/bin/python3
"""t_reload.py -- SIGHUP reloads config and zones atomically; a bad file
keeps the old data serving and logs `reload failed: <reason>`; SIGTERM and
SIGINT stop cleanly with status 0; `arcdnsd -t` checks files.
"""

import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
from harness import (Daemon, Message, bound, build_query, frame, run,  # noqa: E402
                     run_check, tcp_connect, tcp_read_msgs)

ZONE = "example.test.zone"
SERIAL = 2024010101


def zone_v2(text):
    """www -> 192.0.2.99 only, new name `new`, `mail` removed, serial + 1."""
    text = text.replace("2024010101 ; serial", "2024010102 ; serial")
    text = text.replace("www\t\t300\tIN\tA\t192.0.2.10\nwww\t\t300\tIN\tA\t192.0.2.11\n",
                        "www\t\t300\tIN\tA\t192.0.2.99\nnew\t\t300\tIN\tA\t192.0.2.77\n")
    text = re.sub(r"^mail\t.*\n", "", text, flags=re.M)
    return text


def hup(t, d, label, expect_ok):
    """SIGHUP, then wait for the outcome line. Returns the line or None."""
    mark = len(d.log_text())
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"reloaded|reload failed", 10, start_at=mark)
    if expect_ok:
        t.ok(line is not None and "reloaded" in line, "%s: `reloaded` logged" % label, line)
    else:
        t.ok(line is not None and "reload failed" in line, "%s: `reload failed` logged" % label,
             line)
    return line


def serves(t, d, label, www, serial, mail=None, new=None):
    m = d.query("www.example.test", "A")
    t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == sorted(www),
         "%s: www A %s" % (label, " ".join(www)), m)
    m = d.query("example.test", "SOA")
    got = m.rrs("answer", "SOA")[0].fields[2] if m and m.rrs("answer", "SOA") else None
    t.is_(got, serial, "%s: SOA serial %d" % (label, serial), m)
    if mail is not None:
        m = d.query("mail.example.test", "A")
        t.ok(m is not None and m.rcode == (0 if mail else 3),
             "%s: mail %s" % (label, "present" if mail else "gone (NXDOMAIN)"), m)
    if new is not None:
        m = d.query("new.example.test", "A")
        t.ok(m is not None and m.rcode == (0 if new else 3),
             "%s: new %s" % (label, "present" if new else "absent"), m)


def check_mode(t, d, good_zone, bad_zone):
    """arcdnsd -t: OK on a good config, zone errors with file and line."""
    code, out, err = run_check(d.conf)
    t.is_(code, 0, "-t on the running config: exit 0", err)
    t.like(out, r"arcdns\.yaml: OK", "-t prints `FILE: OK`")
    d.write(ZONE, bad_zone)
    code, out, err = run_check(d.conf)
    t.is_(code, 1, "-t with a broken zone file: exit 1", out + err)
    t.like(err, r"example\.test\.zone:20: ", "-t names the zone file and the bad line (20)")
    # the same mistake on the last line of the file
    last = good_zone.count("\n") + 1
    d.write(ZONE, good_zone + "a..b\t300\tIN\tA\t192.0.2.1\n")   # empty label
    code, out, err = run_check(d.conf)
    t.is_(code, 1, "-t with a bad last record: exit 1", out + err)
    t.like(err, r"example\.test\.zone:%d: " % last, "-t names the last line (%d)" % last)
    hup(t, d, "bad last record", False)
    d.write(ZONE, good_zone)
    hup(t, d, "good zone again", True)


def reloads(t):
    d = Daemon(t, "basic.yaml.in", name="reload",
               server={"pid-file": '"@DIR@/arcdnsd.pid"'}).start()
    try:
        # pid-file holds the daemon's PID
        try:
            with open(os.path.join(d.dir, "arcdnsd.pid")) as f:
                pid = f.read().strip()
        except OSError as e:
            pid = str(e)
        t.is_(pid, str(d.pid), "pid-file holds the PID")

        original = d.read_data(ZONE)
        serves(t, d, "start", cases.WWW_A, SERIAL, mail=True, new=False)

        # 1. a changed zone file
        v2 = zone_v2(original)
        t.ok(v2 != original and "192.0.2.99" in v2, "(zone v2 differs)")
        d.write(ZONE, v2)
        hup(t, d, "changed zone", True)
        serves(t, d, "after reload", ["192.0.2.99"], SERIAL + 1, mail=False, new=True)
        r = d.dig("nope.example.test", "A")
        if r is not None:
            t.ok(r.status == "NXDOMAIN" and r.authority and "2024010102" in r.authority[0].rdata,
                 "after reload: negative answers carry the new SOA", repr(r))

        # 2. a broken zone: syntax error on line 20
        lines = v2.splitlines(True)
        broken = "".join(lines[:19]) + "www2\t300\tIN\tA\t999.1.2.3\n" + "".join(lines[19:])
        broken = broken.replace("2024010102 ; serial", "2024010103 ; serial")
        d.write(ZONE, broken)
        line = hup(t, d, "broken zone", False)
        t.like(line, r"example\.test\.zone", "broken zone: the reason names the zone file")
        serves(t, d, "after failed zone reload", ["192.0.2.99"], SERIAL + 1, new=True)

        # 3. a zone without SOA
        nosoa = re.sub(r"^@\t\t3600\tIN\tSOA.*?\)[^\n]*\n", "", v2, flags=re.S | re.M)
        t.ok(re.search(r"\tSOA\t", nosoa) is None and "\tNS\t" in nosoa,
             "(zone without SOA built)")
        d.write(ZONE, nosoa)
        hup(t, d, "zone without SOA", False)
        serves(t, d, "after zone without SOA", ["192.0.2.99"], SERIAL + 1)
        d.write(ZONE, v2)

        good_conf = open(d.conf).read()
        # 4. YAML syntax error
        d.write("arcdns.yaml", good_conf + "zones: [unclosed\n")
        line = hup(t, d, "broken YAML", False)
        t.like(line, r"arcdns\.yaml:\d+", "broken YAML: the reason names file:line")
        serves(t, d, "after broken YAML", ["192.0.2.99"], SERIAL + 1)

        # 5. unknown key
        d.write("arcdns.yaml", good_conf.replace("server:\n", "server:\n  no-such-key: 1\n", 1))
        line = hup(t, d, "unknown key", False)
        t.like(line, r"arcdns\.yaml:\d+:\d+", "unknown key: the reason names file:line:column")
        serves(t, d, "after unknown key", ["192.0.2.99"], SERIAL + 1)

        # 6. listen changed: restart-only, rejected
        d.write("arcdns.yaml", good_conf.replace("127.0.0.1:%d" % d.port,
                                                 "127.0.0.1:%d" % (d.port ^ 1), 1))
        line = hup(t, d, "listen changed", False)
        t.like(line, r"listen", "listen changed: the reason says listen is restart-only")
        serves(t, d, "after listen change", ["192.0.2.99"], SERIAL + 1)

        # 7. a good config adding a zone and a view
        d.copy_data("lab.test.zone")
        d.copy_data("views-vpc.zone")
        new_conf = good_conf + (
            "  - id: lab\n    origin: lab.test.\n    file: lab.test.zone\n    ttl: 5\n"
            "  - id: ex-vpc\n    origin: example.test.\n    file: views-vpc.zone\n    ttl: 5\n"
            "views:\n"
            "  - name: vpc\n    match-clients: [\"127.0.0.2/32\"]\n    zones: [ex-vpc, lab]\n"
            "  - name: default\n    match-clients: [any]\n    zones: [example, other, deep, lab]\n")
        d.write("arcdns.yaml", new_conf)
        hup(t, d, "config with a new zone and views", True)
        serves(t, d, "new config, default view", ["192.0.2.99"], SERIAL + 1)
        m = d.query("www.lab.test", "A")
        t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.2.1.1"],
             "new config: the added zone answers", m)
        m = d.query("www.example.test", "A", src="127.0.0.2")
        t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.0.1.10"],
             "new config: 127.0.0.2 gets the new view", m)
        m = d.query("www.other.test", "A", src="127.0.0.2")
        t.ok(m is not None and m.rcode == 5, "new config: other.test not in view vpc", m)

        # 8. back to the original: zone removed from the config -> REFUSED
        d.write("arcdns.yaml", good_conf)
        d.write(ZONE, original)
        hup(t, d, "back to the original", True)
        serves(t, d, "original again", cases.WWW_A, SERIAL, mail=True, new=False)
        m = d.query("www.lab.test", "A")
        t.ok(m is not None and m.rcode == 5, "original again: lab.test REFUSED", m)

        check_mode(t, d, original, broken)

        # 9. server settings that may change at run time: identity, version
        d.write("arcdns.yaml", good_conf.replace('identity: "arcdns-test-1"',
                                                 'identity: "renamed-1"\n  hide-version: true'))
        hup(t, d, "identity and hide-version changed", True)
        m = d.query("id.server", "TXT", qclass="CH")
        t.ok(m is not None and m.texts() == ['"renamed-1"'], "reload: new identity served", m)
        m = d.query("version.bind", "TXT", qclass="CH")
        t.ok(m is not None and m.rcode == 5, "reload: hide-version now REFUSES version.bind", m)
        d.write("arcdns.yaml", good_conf)
        hup(t, d, "identity back", True)
        m = d.query("id.server", "TXT", qclass="CH")
        t.ok(m is not None and m.texts() == ['"arcdns-test-1"'], "reload: identity back", m)

        # 10. a zone file that disappeared
        os.rename(os.path.join(d.dir, ZONE), os.path.join(d.dir, ZONE + ".away"))
        line = hup(t, d, "missing zone file", False)
        t.like(line, r"example\.test\.zone", "missing zone file: the reason names it")
        serves(t, d, "after missing zone file", cases.WWW_A, SERIAL)
        os.rename(os.path.join(d.dir, ZONE + ".away"), os.path.join(d.dir, ZONE))

        # 11. an open TCP connection keeps working across a reload
        tcp_across_reload(t, d, original, v2)

        # 12. answers never stop during reloads
        during_reloads(t, d, original, v2)

        # 13. SIGTERM: exit 0, bounded
        d.signal(signal.SIGTERM)
        code = d.wait_exit(5)
        t.is_(code, 0, "SIGTERM: exit 0 within 5 s")
    finally:
        d.stop()


def tcp_across_reload(t, d, original, v2):
    s = tcp_connect(d.host, d.port)
    try:
        s.sendall(frame(build_query("www.example.test", "A", qid=1)))
        msgs = tcp_read_msgs(s, 1, timeout=3)
        m = Message(msgs[0]) if msgs else None
        t.ok(m is not None and m.texts("answer", "A") == cases.WWW_A,
             "tcp across reload: old answer before", m)
        d.write(ZONE, v2)
        hup(t, d, "tcp across reload", True)
        s.sendall(frame(build_query("www.example.test", "A", qid=2)))
        msgs = tcp_read_msgs(s, 1, timeout=3)
        m = Message(msgs[0]) if msgs else None
        t.ok(m is not None and m.id == 2 and m.texts("answer", "A") == ["192.0.2.99"],
             "tcp across reload: same connection, new answer", m)
    finally:
        s.close()
        d.write(ZONE, original)
        hup(t, d, "tcp across reload, restore", True)


def during_reloads(t, d, original, v2):
    results = []
    stop = threading.Event()

    def querier():
        deadline = time.monotonic() + bound(20)
        while not stop.is_set() and time.monotonic() < deadline and len(results) < 5000:
            try:
                m = d.query("www.example.test", "A", timeout=1)
            except ValueError as e:
                results.append(("unparsable", str(e)))
                continue
            results.append(None if m is None else (m.rcode, tuple(m.texts("answer", "A"))))

    th = threading.Thread(target=querier, daemon=True)
    th.start()
    outcomes = []
    try:
        for i in range(6):
            d.write(ZONE, v2 if i % 2 == 0 else original)
            mark = len(d.log_text())
            d.signal(signal.SIGHUP)
            outcomes.append(d.wait_log(r"reloaded|reload failed", 10, start_at=mark))
    finally:
        stop.set()
        th.join(bound(5))
    t.ok(all(o and "reloaded" in o for o in outcomes), "6 reloads under load: all `reloaded`",
         "\n".join(map(str, outcomes)))
    allowed = {(0, tuple(sorted(cases.WWW_A))), (0, ("192.0.2.99",))}
    bad = [r for r in results if r not in allowed]
    t.ok(len(results) >= 20, "queries ran during reloads (%d)" % len(results))
    t.is_(bad[:5], [], "every query during reloads got the old or the new answer")
    serves(t, d, "after reloads under load", cases.WWW_A, SERIAL)


def reloads_with_workers(t):
    """Two workers, UDP and TCP queriers, ten reloads: every answer is the
    old or the new one (the swap is atomic for every worker), no crash."""
    d = Daemon(t, "basic.yaml.in", name="reload-workers", server={"workers": 2}).start()
    try:
        original = d.read_data(ZONE)
        v2 = zone_v2(original)
        results = []
        stop = threading.Event()

        def querier(tcp):
            deadline = time.monotonic() + bound(30)
            while not stop.is_set() and time.monotonic() < deadline and len(results) < 20000:
                try:
                    m = d.query("www.example.test", "A", timeout=1, tcp=tcp)
                except ValueError as e:
                    results.append(("unparsable", str(e)))
                    continue
                results.append(None if m is None else (m.rcode, tuple(m.texts("answer", "A"))))

        threads = [threading.Thread(target=querier, args=(tcp,), daemon=True)
                   for tcp in (False, False, True)]
        for th in threads:
            th.start()
        outcomes = []
        try:
            for i in range(10):
                d.write(ZONE, v2 if i % 2 == 0 else original)
                mark = len(d.log_text())
                d.signal(signal.SIGHUP)
                outcomes.append(d.wait_log(r"reloaded|reload failed", 10, start_at=mark))
        finally:
            stop.set()
            for th in threads:
                th.join(bound(5))
        t.ok(all(o and "reloaded" in o for o in outcomes), "workers 2: 10 reloads under load",
             "\n".join(map(str, outcomes)))
        allowed = {(0, tuple(sorted(cases.WWW_A))), (0, ("192.0.2.99",))}
        bad = [r for r in results if r not in allowed]
        t.ok(len(results) >= 30, "workers 2: queries ran during reloads (%d)" % len(results))
        t.is_(bad[:5], [], "workers 2: every answer during reloads is the old or the new one")
        serves(t, d, "workers 2 after reloads", cases.WWW_A, SERIAL)
        d.signal(signal.SIGTERM)
        t.is_(d.wait_exit(5), 0, "workers 2: SIGTERM, exit 0 within 5 s")
    finally:
        d.stop()


def sigint(t):
    d = Daemon(t, "basic.yaml.in", name="sigint").start()
    try:
        d.signal(signal.SIGINT)
        t.is_(d.wait_exit(5), 0, "SIGINT: exit 0 within 5 s")
    finally:
        d.stop()


def main(t):
    reloads(t)
    reloads_with_workers(t)
    sigint(t)


if __name__ == "__main__":
    run(main)
