#!/usr/bin/python3
"""t_malformed.py -- bad packets get FORMERR, NOTIMP, a drop or a closed
connection, and the daemon keeps answering everyone else.

Every case is followed by check_alive(): the process still runs and a
normal UDP query still gets the right answer.
"""

import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Daemon, Message, bound, build_query, encode_name, frame,  # noqa: E402
                     opt_rr, run, tcp_connect, tcp_read_msgs,
                     wait_closed)

IDLE = 1.0
MAXCONN = 8


def header(qid=0x5151, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QTAIL = struct.pack("!HH", 1, 1)     # type A, class IN


def reply_of(d, payload, timeout=1.0):
    """(raw reply or None, Message or None, parse error or None)."""
    data = d.send_raw(payload, timeout=timeout)
    if data is None:
        return None, None, None
    try:
        return data, Message(data), None
    except ValueError as e:
        return data, None, str(e)


def formerr_or_drop(t, d, payload, label):
    data, m, err = reply_of(d, payload)
    if data is None:
        t.ok(True, "%s: dropped" % label)
    elif len(data) >= 12:
        qid, flags = struct.unpack("!HH", data[:4])
        t.ok(flags & 0x8000 and flags & 0xF == 1 and
             (len(payload) < 2 or data[:2] == payload[:2]),
             "%s: FORMERR or drop" % label,
             "reply %s (flags 0x%04x, parse: %s)" % (data[:64].hex(), flags, err or m))
    else:
        t.ok(False, "%s: FORMERR or drop" % label, "short reply %s" % data.hex())
    d.check_alive(label)


def formerr(t, d, payload, label):
    data, m, err = reply_of(d, payload)
    good = (data is not None and len(data) >= 12 and data[:2] == payload[:2] and
            data[2] & 0x80 and data[3] & 0xF == 1)
    t.ok(good, "%s: FORMERR" % label,
         "reply: %s" % (None if data is None else (err or m or data.hex())))
    d.check_alive(label)
    return m


def dropped(t, d, payload, label):
    data, m, err = reply_of(d, payload)
    t.ok(data is None, "%s: dropped" % label, "reply: %r" % (m or data))
    d.check_alive(label)


def truncated(t, d):
    valid = build_query("www.example.test", "A", qid=0x1111)
    for n in (0, 1, 2, 5, 11):
        formerr_or_drop(t, d, valid[:n], "truncated header (%d bytes)" % n)
    formerr_or_drop(t, d, header(), "header only, QDCOUNT 1")
    formerr_or_drop(t, d, header() + b"\x03www\x07exam", "name cut inside a label")
    formerr_or_drop(t, d, header() + encode_name("www.example.test") + b"\x00",
                    "question without full type and class")
    formerr_or_drop(t, d, valid[:-1], "question one byte short")
    formerr_or_drop(t, d, header(ar=1) + encode_name("www.example.test") + QTAIL,
                    "ARCOUNT 1 without the record")
    formerr_or_drop(t, d, header(an=1) + encode_name("www.example.test") + QTAIL,
                    "ANCOUNT 1 without the record")
    formerr_or_drop(t, d, build_query("www.example.test", "A", edns=1232)[:-3],
                    "OPT record cut short")


def pointers(t, d):
    formerr_or_drop(t, d, header() + b"\xc0\x0c" + QTAIL, "pointer to itself")
    formerr_or_drop(t, d, header() + b"\x01a\xc0\x0c" + QTAIL, "pointer loop through a label")
    formerr_or_drop(t, d, header() + b"\x01a\xc0\x0e" + QTAIL, "pointer loop to the next label")
    formerr_or_drop(t, d, header() + b"\xc0\xff" + QTAIL, "pointer past the end")
    formerr_or_drop(t, d, header() + b"\x01a\xc0", "pointer cut in half")
    formerr_or_drop(t, d, header() + b"\x80\x01" + QTAIL, "reserved label type 10")
    # a pointer into the header decodes header bytes as labels: any sane
    # answer, or none, as long as the daemon survives
    data, m, err = reply_of(d, header(qid=0x0300, qd=1) + b"\xc0\x00" + QTAIL)
    t.ok(data is None or len(data) >= 12, "pointer into the header: no crash, sane reply",
         repr(m or data))
    d.check_alive("pointer into the header")
    # OPT in the additional section must not be reached through a loop either
    q = build_query("www.example.test", "A", arcount=1) + b"\xc0\x0c" + \
        struct.pack("!HHIH", 41, 1232, 0, 0)
    formerr_or_drop(t, d, q, "OPT owner is a pointer loop")


def counts(t, d):
    m = formerr(t, d, header(qid=0x2000, qd=0), "QDCOUNT 0")
    if m is not None:
        t.is_(m.id, 0x2000, "QDCOUNT 0: ID echoed")
    q2 = header(qid=0x2001, qd=2) + encode_name("www.example.test") + QTAIL + \
        encode_name("mail.example.test") + QTAIL
    m = formerr(t, d, q2, "QDCOUNT 2")
    if m is not None:
        t.is_(m.answer, [], "QDCOUNT 2: no answer data")
    formerr(t, d, header(qid=0x2002, qd=2) + encode_name("www.example.test") + QTAIL,
            "QDCOUNT 2 with one question")
    formerr_or_drop(t, d, header(qid=0x2003, qd=65535) + encode_name("www.example.test") + QTAIL,
                    "QDCOUNT 65535")
    # two OPT records: RFC 6891 6.1.1 says FORMERR
    q = build_query("www.example.test", "A", qid=0x2004, arcount=2) + opt_rr(1232) + opt_rr(1232)
    formerr(t, d, q, "two OPT records")


def long_names(t, d):
    lab64 = b"\x40" + b"a" * 64
    formerr(t, d, header(qid=0x3000) + lab64 + encode_name("example.test") + QTAIL,
            "label of 64 bytes")
    formerr(t, d, header(qid=0x3001) + b"\x7f" + b"a" * 127 + b"\x00" + QTAIL,
            "label of 127 bytes")
    # 5 labels of 60 + example.test = 319 bytes > 255
    long_name = b"".join(b"\x3c" + b"b" * 60 for _ in range(5)) + encode_name("example.test")
    formerr(t, d, header(qid=0x3002) + long_name + QTAIL, "name of 319 bytes")
    # exactly 255 bytes is legal: 3 x 63 + 48 + example.test
    ok255 = b"".join(b"\x3f" + b"c" * 63 for _ in range(3)) + b"\x30" + b"d" * 48 + \
        encode_name("example.test")
    t.is_(len(ok255), 255, "(the 255-byte name is 255 bytes)")
    data, m, err = reply_of(d, header(qid=0x3003) + ok255 + QTAIL)
    t.ok(m is not None and m.rcode == 3 and m.aa and len(m.rrs("authority", "SOA")) == 1,
         "name of exactly 255 bytes: NXDOMAIN with SOA, not FORMERR", m or err or data)
    # 256 bytes: one more byte in the last label
    bad256 = b"".join(b"\x3f" + b"c" * 63 for _ in range(3)) + b"\x31" + b"d" * 49 + \
        encode_name("example.test")
    t.is_(len(bad256), 256, "(the 256-byte name is 256 bytes)")
    formerr(t, d, header(qid=0x3004) + bad256 + QTAIL, "name of 256 bytes")


def flags_and_opcodes(t, d):
    dropped(t, d, build_query("www.example.test", "A", qr=True), "QR bit set (a response)")
    dropped(t, d, build_query("www.example.test", "A", qr=True, opcode=5),
            "QR bit set with opcode UPDATE")
    for op in (1, 2, 3, 5, 6, 15):
        q = build_query("www.example.test", "A", opcode=op, qid=0x4000 + op)
        data, m, err = reply_of(d, q)
        t.ok(m is not None and m.rcode == 4 and m.opcode == op and m.id == 0x4000 + op and m.qr,
             "opcode %d: NOTIMP, opcode and ID echoed" % op, m or err or data)
        d.check_alive("opcode %d" % op)
    m = d.query("www.example.test", "A", opcode=5, qid=0x4100, edns=1232)
    t.ok(m is not None and m.rcode == 4 and m.nopt == 1,
         "opcode UPDATE with EDNS: NOTIMP with an OPT (RFC 6891 7)", m)
    # zone transfers are not served over UDP
    for qtype in ("AXFR", "IXFR"):
        data, m, err = reply_of(d, build_query("example.test", qtype))
        t.ok(m is not None and m.rcode in (1, 4, 5) and not m.answer,
             "%s over UDP: FORMERR, NOTIMP or REFUSED" % qtype, m or err or data)
        d.check_alive("%s over UDP" % qtype)


def fuzz(t, d):
    rng = random.Random(20240101)
    base = [build_query(n, ty, edns=e) for n, ty, e in
            (("www.example.test", "A", None), ("alias1.example.test", "A", 1232),
             ("foo.wild.example.test", "TXT", 512), ("www.child.example.test", "A", 4096))]
    sent = 0
    bad_replies = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setblocking(False)
        for i in range(600):
            if i % 3 == 0:
                pkt = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
            else:
                pkt = bytearray(rng.choice(base))
                for _ in range(rng.randrange(1, 6)):
                    pos = rng.randrange(len(pkt))
                    pkt[pos] = rng.randrange(256)
                if rng.random() < 0.3:
                    pkt = pkt[:rng.randrange(len(pkt))]
                pkt = bytes(pkt)
            try:
                s.sendto(pkt, (d.host, d.port))
                sent += 1
            except OSError:
                pass
            # drain replies; each must at least carry a header
            for _ in range(8):
                try:
                    data = s.recv(65535)
                except (BlockingIOError, OSError):
                    break
                if len(data) < 12 or not data[2] & 0x80:
                    bad_replies.append(data[:32].hex())
            if i % 50 == 0:
                time.sleep(0.01)
    finally:
        s.close()
    t.is_(sent, 600, "fuzz: 600 random and mutated datagrams sent")
    t.is_(bad_replies, [], "fuzz: every reply has a header with QR set")
    d.check_alive("600 fuzzed datagrams")


def tcp_garbage(t, d):
    cases = [
        ("5 bytes in a 5-byte frame", frame(b"\x01\x02\x03\x04\x05")),
        ("zero-length frame", b"\x00\x00"),
        ("HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("TLS ClientHello bytes", bytes.fromhex("16030100c4010000c00303") + b"\x00" * 40),
        ("pointer loop in a frame", frame(header() + b"\xc0\x0c" + QTAIL)),
        ("QR set in a frame", frame(build_query("www.example.test", "A", qr=True))),
    ]
    for label, blob in cases:
        try:
            s = tcp_connect(d.host, d.port)
        except OSError as e:
            t.ok(False, "tcp %s: connect" % label, str(e))
            continue
        try:
            try:
                s.sendall(blob)
            except OSError:
                pass
            closed, data, secs = wait_closed(s, IDLE + 4)
            t.ok(closed, "tcp %s: connection closed" % label,
                 "after %.2f s, got %r" % (secs, data[:64]))
            # whatever came before the close must be whole FORMERR replies
            good = True
            rest = data
            while rest:
                if len(rest) < 2:
                    good = False
                    break
                n = struct.unpack("!H", rest[:2])[0]
                msg = rest[2:2 + n]
                if len(msg) < 12 or msg[3] & 0xF != 1:
                    good = False
                    break
                rest = rest[2 + n:]
            t.ok(good, "tcp %s: nothing but FORMERR before the close" % label, repr(data[:64]))
        finally:
            s.close()
        m = d.query("www.example.test", "A", tcp=True)
        t.ok(m is not None and m.rcode == 0 and m.answer,
             "tcp %s: a new TCP query still answers" % label, m)
        d.check_alive("tcp %s" % label)

    # a bad message between good ones: FORMERR for it, the others answered
    s = tcp_connect(d.host, d.port)
    try:
        blob = frame(build_query("www.example.test", "A", qid=0x6001)) + \
            frame(header(qid=0x6002, qd=2) + encode_name("a.example.test") + QTAIL +
                  encode_name("b.example.test") + QTAIL)
        s.sendall(blob)
        msgs = tcp_read_msgs(s, 2, timeout=3)
        got = {}
        for raw in msgs:
            if len(raw) >= 12:
                got[struct.unpack("!H", raw[:2])[0]] = raw[3] & 0xF
        t.is_(got.get(0x6001), 0, "tcp good then QDCOUNT 2: the good query is answered")
        t.ok(got.get(0x6002) in (1, None), "tcp good then QDCOUNT 2: FORMERR or close",
             repr(got))
    finally:
        s.close()
    d.check_alive("tcp good+bad frames")


def tcp_flood(t, d):
    """More silent connections than tcp-max-connections: UDP keeps working,
    and a new TCP query is answered once idle ones are shed."""
    n = MAXCONN * 4
    socks = []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((d.host, d.port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            socks.append(s)
            # half of them stall inside a message (slowloris)
            if i % 2:
                try:
                    s.send(b"\x00\x40\x12\x34")
                except OSError:
                    pass
        t.ok(len(socks) >= MAXCONN * 2, "flood: opened %d silent TCP connections" % len(socks))
        start = time.monotonic()
        m = d.query("www.example.test", "A", timeout=1)
        t.ok(m is not None and m.rcode == 0 and m.answer,
             "flood: UDP still answered at once", m)
        t.ok(time.monotonic() - start < bound(1.5), "flood: UDP answer within 1.5 s")
        # a new TCP client: answered once idle ones time out or are shed
        start = time.monotonic()
        answered = None
        for _ in range(10):
            m = d.query("mail.example.test", "A", tcp=True, timeout=2)
            if m is not None:
                answered = m
                break
            if time.monotonic() - start > bound(IDLE * 4 + 6):
                break
        secs = time.monotonic() - start
        t.ok(answered is not None and answered.texts("answer", "A") == ["192.0.2.25"],
             "flood: a new TCP query is answered (after %.1f s)" % secs, answered)
        # the silent connections are closed by the daemon, bounded
        deadline = time.monotonic() + bound(IDLE * (n / MAXCONN) + 8)
        open_socks = list(socks)
        while open_socks and time.monotonic() < deadline:
            still = []
            for s in open_socks:
                try:
                    data = s.recv(4096)
                    if data:
                        still.append(s)
                except BlockingIOError:
                    still.append(s)
                except OSError:
                    pass
            open_socks = still
            if open_socks:
                time.sleep(0.1)
        t.is_(len(open_socks), 0, "flood: the daemon closed every silent connection")
    finally:
        for s in socks:
            s.close()
    d.check_alive("the TCP flood")
    m = d.query("www.example.test", "A", tcp=True)
    t.ok(m is not None and m.rcode == 0, "flood over: TCP answers normally", m)


def main(t):
    d = Daemon(t, "basic.yaml.in", name="malformed",
               server={"tcp-idle-timeout": "1s", "tcp-max-connections": MAXCONN}).start()
    try:
        truncated(t, d)
        pointers(t, d)
        counts(t, d)
        long_names(t, d)
        flags_and_opcodes(t, d)
        fuzz(t, d)
        tcp_garbage(t, d)
        tcp_flood(t, d)
        t.ok(d.alive(), "daemon still running at the end")
        code = d.stop()
        t.is_(code, 0, "daemon exits 0 on SIGTERM after all that")
    finally:
        d.stop()


if __name__ == "__main__":
    run(main, timeout=180)
