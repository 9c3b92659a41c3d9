#!/usr/bin/python3
"""t_views.py -- split horizon: the client's source address picks the view.

tests/data/views.yaml.in: vpc [10.0.0.0/16, 127.0.0.2/32], lab
[127.0.1.0/24, 127.0.0.2/31], v6 [::1/128], default [any]; first match wins.
tests/data/views-noany.yaml.in: no catch-all, so other clients get REFUSED.
Each view's example.test has its own www A, a TXT naming the view, and a
name only-<view>; the SOA serial differs too.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
from harness import Daemon, have_ipv6_loopback, run  # noqa: E402

VIEWS = {
    "vpc": ("10.0.1.10", 11),
    "lab": ("10.2.0.10", 12),
    "v6": ("10.6.0.10", 16),
    "default": ("192.0.2.10", 10),
}


def can_bind(addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((addr, 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def sees_view(t, d, view, src=None, host=None, tcp=False):
    """Raw queries from src: www A, TXT, only-<view>, an NXDOMAIN's SOA."""
    addr, serial = VIEWS[view]
    how = "%s%s -> view %s" % (src or host, " tcp" if tcp else "", view)
    m = d.query("www.example.test", "A", src=src, host=host, tcp=tcp)
    t.ok(m is not None and m.rcode == 0 and m.aa and m.texts("answer", "A") == [addr],
         "%s: www A %s" % (how, addr), m)
    m = d.query("www.example.test", "TXT", src=src, host=host, tcp=tcp)
    t.ok(m is not None and m.texts("answer", "TXT") == ['"view %s"' % view],
         "%s: www TXT names the view" % how, m)
    m = d.query("only-%s.example.test" % view, "TXT", src=src, host=host, tcp=tcp)
    t.ok(m is not None and m.rcode == 0 and len(m.answer) == 1,
         "%s: only-%s exists" % (how, view), m)
    others = [v for v in VIEWS if v != view]
    m = d.query("only-%s.example.test" % others[0], "TXT", src=src, host=host, tcp=tcp)
    t.ok(m is not None and m.rcode == 3, "%s: only-%s is NXDOMAIN here" % (how, others[0]), m)
    soa = m.rrs("authority", "SOA") if m else []
    t.ok(len(soa) == 1 and soa[0].fields[2] == serial,
         "%s: NXDOMAIN carries this view's SOA (serial %d)" % (how, serial), m)


def refused(t, d, label, name="www.example.test", src=None, host=None, tcp=False):
    m = d.query(name, "A", src=src, host=host, tcp=tcp)
    t.ok(m is not None and m.rcode == 5 and not m.answer and not m.aa,
         "%s: %s REFUSED" % (label, name), m)


def with_catch_all(t, v6):
    d = Daemon(t, "views.yaml.in", ipv6=v6, name="views").start()
    try:
        # dig -b, as an operator would
        r = d.dig("-b", "127.0.0.2", "www.example.test", "A")
        cases.check_reply(t, r, "dig -b 127.0.0.2: view vpc",
                          answer=[("www.example.test", "A", "10.0.1.10")], answer_ttl={"A": 300})
        r = d.dig("-b", "127.0.0.1", "www.example.test", "A")
        cases.check_reply(t, r, "dig -b 127.0.0.1: view default",
                          answer=[("www.example.test", "A", "192.0.2.10")])
        r = d.dig("+tcp", "-b", "127.0.0.2", "www.example.test", "A")
        cases.check_reply(t, r, "dig +tcp -b 127.0.0.2: view vpc",
                          answer=[("www.example.test", "A", "10.0.1.10")])
        r = d.kdig("-b", "127.0.0.2", "www.example.test", "A")
        if r is not None:
            cases.check_reply(t, r, "kdig -b 127.0.0.2: view vpc",
                              answer=[("www.example.test", "A", "10.0.1.10")])

        sees_view(t, d, "default", src="127.0.0.1")
        sees_view(t, d, "vpc", src="127.0.0.2")          # first match beats lab
        sees_view(t, d, "vpc", src="127.0.0.2", tcp=True)
        sees_view(t, d, "default", src="127.0.0.1", tcp=True)
        for src in ("127.0.0.3", "127.0.1.77"):
            if can_bind(src):
                sees_view(t, d, "lab", src=src)
            else:
                t.skip("source %s -> view lab" % src, "cannot bind %s" % src)
        sees_view(t, d, "lab", src="127.0.0.3", tcp=True)

        # a zone only the lab view holds
        m = d.query("www.lab.test", "A", src="127.0.0.3")
        t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.2.1.1"],
             "view lab: lab.test answers", m)
        refused(t, d, "view default", "www.lab.test", src="127.0.0.1")
        refused(t, d, "view vpc", "www.lab.test", src="127.0.0.2")
        refused(t, d, "view vpc", "www.other.test", src="127.0.0.2")

        # CHAOS answers whatever the view
        for src in ("127.0.0.1", "127.0.0.2"):
            m = d.query("id.server", "TXT", qclass="CH", src=src)
            t.ok(m is not None and m.texts() == ['"arcdns-views"'],
                 "CHAOS id.server from %s" % src, m)

        if v6:
            sees_view(t, d, "v6", host="::1")
            sees_view(t, d, "v6", host="::1", tcp=True)
            m = d.query("www.example.test", "AAAA", host="::1")
            t.ok(m is not None and m.texts("answer", "AAAA") == ["fd00::6"],
                 "::1 -> view v6: www AAAA", m)
            r = d.dig("www.example.test", "A", host="::1")
            cases.check_reply(t, r, "dig @::1: view v6",
                              answer=[("www.example.test", "A", "10.6.0.10")])
        else:
            t.skip("::1 -> view v6", "no IPv6 loopback")
        d.check_alive("the view queries")
    finally:
        d.stop()


def without_catch_all(t):
    d = Daemon(t, "views-noany.yaml.in", name="views-noany").start()
    try:
        r = d.dig("-b", "127.0.0.1", "www.example.test", "A")
        cases.check_reply(t, r, "no view matches 127.0.0.1: dig REFUSED", status="REFUSED",
                          aa=False, answer=[])
        refused(t, d, "no view for 127.0.0.1", src="127.0.0.1")
        refused(t, d, "no view for 127.0.0.1 tcp", src="127.0.0.1", tcp=True)
        refused(t, d, "no view for 127.0.0.1", "nope.example.test", src="127.0.0.1")
        if can_bind("127.0.0.3"):
            refused(t, d, "no view for 127.0.0.3", src="127.0.0.3")
        m = d.query("www.example.test", "A", src="127.0.0.2")
        t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.0.1.10"],
             "views without any: 127.0.0.2 still gets vpc", m)
        if can_bind("127.0.1.5"):
            m = d.query("www.example.test", "A", src="127.0.1.5")
            t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.2.0.10"],
                 "views without any: 127.0.1.5 gets lab", m)
        m = d.query("www.example.test", "A", src="127.0.0.2", tcp=True)
        t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == ["10.0.1.10"],
             "views without any: 127.0.0.2 over TCP gets vpc", m)
        t.ok(d.alive(), "views without any: daemon still running")
    finally:
        d.stop()


def main(t):
    if not can_bind("127.0.0.2"):
        t.skip("views", "cannot bind 127.0.0.2 on this host")
        return
    with_catch_all(t, have_ipv6_loopback())
    without_catch_all(t)


if __name__ == "__main__":
    run(main)
