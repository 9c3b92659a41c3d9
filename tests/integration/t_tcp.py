#!/usr/bin/python3
"""t_tcp.py -- DNS over TCP (RFC 7766).

The t_basic answers again with `dig +tcp`; several pipelined queries in one
write, answered on one connection and matched by ID; a query split across
writes; the idle timeout closing a silent connection (tcp-idle-timeout 1s).
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
from harness import (Daemon, Message, arcdnsd_version, bound, build_query,  # noqa: E402
                     frame, run, tcp_connect, tcp_read_msgs, wait_closed)

IDENTITY = "arcdns-test-1"
IDLE = 1.0   # tcp-idle-timeout in the config


def parse_all(t, msgs, label):
    out = {}
    for raw in msgs:
        try:
            m = Message(raw)
        except ValueError as e:
            t.ok(False, "%s: reply parses" % label, str(e))
            continue
        out[m.id] = m
    return out


def pipelined(t, d):
    queries = [(101, "www.example.test", "A", 0, cases.WWW_A),
               (102, "nope.example.test", "A", 3, []),
               (103, "example.test", "MX", 0, ["10 mail.example.test.", "20 mail2.example.net."]),
               (104, "mail.example.test", "AAAA", 0, ["2001:db8::25"]),
               (105, "www.example.org", "A", 5, [])]
    s = tcp_connect(d.host, d.port)
    try:
        s.sendall(b"".join(frame(build_query(n, ty, qid=i)) for i, n, ty, _, _ in queries))
        msgs = tcp_read_msgs(s, len(queries), timeout=3)
        t.is_(len(msgs), len(queries), "pipeline: %d replies on one connection" % len(queries))
        got = parse_all(t, msgs, "pipeline")
        t.is_(sorted(got), [q[0] for q in queries], "pipeline: every ID answered once")
        for qid, name, ty, rcode, texts in queries:
            m = got.get(qid)
            t.ok(m is not None and m.rcode == rcode and
                 sorted(rr.text for rr in m.answer if rr.type != 5) == sorted(texts) and
                 m.question and m.question[0][0] == name + "." and not m.tc,
                 "pipeline: ID %d %s %s -> rcode %d" % (qid, name, ty, rcode), m)
        # the connection stays usable after the burst
        s.sendall(frame(build_query("www.example.test", "TXT", qid=106)))
        msgs = tcp_read_msgs(s, 1, timeout=3)
        m = Message(msgs[0]) if msgs else None
        t.ok(m is not None and m.id == 106 and m.texts() == ['"web server"'],
             "pipeline: connection still open for a later query", m)
    finally:
        s.close()

    # a bigger burst: 60 queries in one write
    n = 60
    s = tcp_connect(d.host, d.port)
    try:
        names = ["www", "mail", "nope", "alias1", "foo.wild", "www.child"]
        blob = b"".join(frame(build_query("%s.example.test" % names[i % len(names)], "A",
                                          qid=1000 + i)) for i in range(n))
        s.sendall(blob)
        msgs = tcp_read_msgs(s, n, timeout=5)
        got = parse_all(t, msgs, "pipeline 60")
        t.is_(sorted(got), list(range(1000, 1000 + n)), "pipeline: 60 queries in one write, 60 replies")
        wrong = [m for i, m in got.items()
                 if m.question[0][0].lower() != "%s.example.test." % names[(i - 1000) % len(names)]]
        t.is_(wrong, [], "pipeline 60: each reply answers its own question")
    finally:
        s.close()


def split_writes(t, d):
    q = frame(build_query("www.example.test", "A", qid=201))
    for label, cuts in (("length prefix split", [1]),
                        ("split inside the header", [7]),
                        ("split inside the question", [len(q) - 3]),
                        ("three pieces", [1, 14])):
        s = tcp_connect(d.host, d.port)
        try:
            prev = 0
            for c in cuts + [len(q)]:
                s.sendall(q[prev:c])
                prev = c
                if c != len(q):
                    time.sleep(0.15)   # make the pieces separate reads
            msgs = tcp_read_msgs(s, 1, timeout=3)
            m = Message(msgs[0]) if msgs else None
            t.ok(m is not None and m.id == 201 and m.texts("answer", "A") == cases.WWW_A,
                 "split: %s -> answered" % label, m)
        finally:
            s.close()

    # one byte at a time (bounded: ~40 writes)
    s = tcp_connect(d.host, d.port)
    try:
        for i in range(len(q)):
            s.sendall(q[i:i + 1])
            time.sleep(0.005)
        msgs = tcp_read_msgs(s, 1, timeout=3)
        m = Message(msgs[0]) if msgs else None
        t.ok(m is not None and m.id == 201 and m.rcode == 0, "split: one byte per write -> answered", m)
    finally:
        s.close()

    # the second query starts in the first write
    q2 = frame(build_query("mail.example.test", "A", qid=202))
    s = tcp_connect(d.host, d.port)
    try:
        s.sendall(q + q2[:5])
        time.sleep(0.15)
        s.sendall(q2[5:])
        got = parse_all(t, tcp_read_msgs(s, 2, timeout=3), "split 2")
        t.is_(sorted(got), [201, 202], "split: second query straddling two writes -> both answered")
    finally:
        s.close()


def idle_timeout(t, d):
    s = tcp_connect(d.host, d.port)
    try:
        closed, data, secs = wait_closed(s, IDLE + 4)
        t.ok(closed, "idle: a silent connection is closed", "after %.2f s" % secs)
        t.is_(data, b"", "idle: nothing sent on the silent connection")
        t.ok(IDLE * 0.5 <= secs <= bound(IDLE + 3),
             "idle: closed after about tcp-idle-timeout (%.2f s)" % secs)
    finally:
        s.close()

    # a connection that asked one question is kept for a while, then closed
    s = tcp_connect(d.host, d.port)
    try:
        s.sendall(frame(build_query("www.example.test", "A", qid=301)))
        msgs = tcp_read_msgs(s, 1, timeout=3)
        t.is_(len(msgs), 1, "idle: first query answered")
        time.sleep(IDLE * 0.3)
        s.sendall(frame(build_query("www.example.test", "A", qid=302)))
        msgs = tcp_read_msgs(s, 1, timeout=3)
        t.ok(len(msgs) == 1 and Message(msgs[0]).id == 302,
             "idle: a second query within the timeout is answered on the same connection")
        closed, data, secs = wait_closed(s, IDLE + 4)
        t.ok(closed and data == b"", "idle: closed after the last query went quiet",
             "closed=%s data=%r after %.2f s" % (closed, data, secs))
    finally:
        s.close()


def half_close(t, d):
    """The client writes its query and shuts down its side (allowed by
    RFC 7766 6.2.4 only for the last query): the answer still comes."""
    s = tcp_connect(d.host, d.port)
    try:
        s.sendall(frame(build_query("www.example.test", "A", qid=401)))
        s.shutdown(socket.SHUT_WR)
        msgs = tcp_read_msgs(s, 1, timeout=3)
        t.ok(len(msgs) == 1 and Message(msgs[0]).id == 401,
             "half-close after the query: answered")
        closed, _, _ = wait_closed(s, 3)
        t.ok(closed, "half-close: the server closes its side too")
    finally:
        s.close()


def large(t, d):
    r = d.dig("+tcp", "+bufsize=512", "big.example.test", "A")
    cases.check_reply(t, r, "tcp big A at bufsize 512: complete, no TC",
                      answer=[("big.example.test", "A", "198.51.100.%d" % i) for i in range(1, 41)])
    m = d.query("huge.example.test", "TXT", tcp=True, edns=1232)
    t.ok(m is not None and not m.tc and len(m.answer) == 8 and m.size > 1232,
         "tcp huge TXT (> 1232 bytes): complete, no TC", m)
    m = d.query("huge.example.test", "TXT", tcp=True)
    t.ok(m is not None and not m.tc and len(m.answer) == 8,
         "tcp huge TXT without EDNS: complete, no TC", m)


def slow_reader(t, d):
    """A client pipelines thousands of large queries and never reads: the
    daemon must not block on it; other clients are answered at once."""
    s = tcp_connect(d.host, d.port)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        blob = b"".join(frame(build_query("huge.example.test", "TXT", qid=i % 65536))
                        for i in range(2000))
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + bound(3)
        while sent < len(blob) and time.monotonic() < deadline:
            try:
                sent += s.send(blob[sent:])
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        t.ok(sent > 10000, "slow reader: %d bytes of queries written, replies never read" % sent)
        slow = []
        for i in range(5):
            start = time.monotonic()
            m1 = d.query("www.example.test", "A", timeout=1)
            m2 = d.query("mail.example.test", "A", timeout=1, tcp=True)
            secs = time.monotonic() - start
            if m1 is None or m2 is None or secs > bound(1):
                slow.append((i, m1 is not None, m2 is not None, round(secs, 3)))
        t.is_(slow, [], "slow reader: other UDP and TCP clients answered at once")
    finally:
        s.close()
    d.check_alive("a client that does not read")


def burst_beyond_cap(t):
    """3 x tcp-max-connections clients connect at once, each sends one query
    and waits for its answer. Clients retry on a closed connection (RFC 7766
    6.2.4), so all must be answered. A connection that holds an unanswered
    query is not idle (RFC 7766 6.2.3): the daemon may leave new connections
    waiting in the backlog, but should not reset one whose query it has not
    answered."""
    cap = 8
    d = Daemon(t, "basic.yaml.in", name="tcpcap",
               server={"tcp-max-connections": cap, "tcp-idle-timeout": "1s"}).start()
    n = cap * 3
    socks = {}
    answered = {}
    lost = []
    try:
        def open_one(i):
            s = tcp_connect(d.host, d.port)
            s.sendall(frame(build_query("www.example.test", "A", qid=i)))
            socks[i] = s

        for i in range(n):
            open_one(i)
        attempts = {i: 1 for i in range(n)}
        deadline = time.monotonic() + bound(10)
        while len(answered) < n and time.monotonic() < deadline:
            for i, s in list(socks.items()):
                s.setblocking(False)
                try:
                    data = s.recv(2, socket.MSG_PEEK)
                    closed = data == b""
                except BlockingIOError:
                    continue
                except OSError:
                    closed = True
                if not closed:
                    msgs = tcp_read_msgs(s, 1, timeout=1)
                    closed = not msgs
                    if msgs:
                        m = Message(msgs[0])
                        if m.id == i and m.texts("answer", "A") == cases.WWW_A:
                            answered[i] = attempts[i]
                        s.close()
                        del socks[i]
                        continue
                s.close()
                del socks[i]
                lost.append(i)
                if attempts[i] < 3:
                    attempts[i] += 1
                    open_one(i)
            time.sleep(0.01)
        t.is_(len(answered), n, "burst of %d TCP clients (cap %d): all answered, "
              "with retries" % (n, cap))
        t.is_(lost, [], "burst: no connection closed while its query was unanswered",
              "connections reset or closed before their answer (by query ID, "
              "in order): %r" % lost)
    finally:
        for s in socks.values():
            s.close()
        d.check_alive("the TCP burst", "www.example.test")
        d.stop()


def main(t):
    version = arcdnsd_version()
    d = Daemon(t, "basic.yaml.in", server={"tcp-idle-timeout": "1s"}, name="tcp").start()
    try:
        cases.run_all(t, d, ["+tcp"], "tcp", IDENTITY, "arcdns %s" % version)
        r = d.kdig("+tcp", "www.example.test", "A")
        if r is not None:
            cases.check_reply(t, r, "kdig +tcp www A",
                              answer=[("www.example.test", "A", a) for a in cases.WWW_A])
        pipelined(t, d)
        split_writes(t, d)
        large(t, d)
        half_close(t, d)
        slow_reader(t, d)
        idle_timeout(t, d)
        d.check_alive("the TCP cases")
    finally:
        d.stop()
    burst_beyond_cap(t)


if __name__ == "__main__":
    run(main)
