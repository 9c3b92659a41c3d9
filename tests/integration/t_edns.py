#!/usr/bin/python3
"""t_edns.py -- EDNS(0) (RFC 6891), UDP sizes and truncation.

Names used (tests/data/example.test.zone): big = 40 A (~690 bytes, between
512 and 1232), mid = 20 A (~370 bytes, fits 512), huge = 8 TXT (~1750 bytes,
above 1232). Our payload size is edns-buffer-size (default 1232).
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
from harness import Daemon, build_query, run  # noqa: E402

BIG = [("big.example.test", "A", "198.51.100.%d" % i) for i in range(1, 41)]


def raw(t, d, name, qtype, label, edns, expect_tc, limit, payload=1232, n_answer=None, **kw):
    """One UDP query; asserts TC, the size limit and the OPT record."""
    m = d.query(name, qtype, edns=edns, **kw)
    if not t.ok(m is not None, "%s: answered" % label):
        return None
    t.is_(m.tc, expect_tc, "%s: TC %s" % (label, "set" if expect_tc else "clear"), m)
    t.ok(m.size <= limit, "%s: reply fits %d bytes (%d)" % (label, limit, m.size), m)
    t.ok(m.qr and m.aa and m.rcode == 0, "%s: NOERROR, AA" % label, m)
    t.is_(m.question, [(name + ".", 1 if qtype == "A" else 16, 1)],
          "%s: question present" % label, m)
    if edns is None:
        t.is_(m.nopt, 0, "%s: no OPT without EDNS in the query" % label, m)
    else:
        t.is_(m.nopt, 1, "%s: one OPT in the reply" % label, m)
        if m.opt:
            t.is_(m.opt["payload"], payload, "%s: OPT advertises our size %d" % (label, payload), m)
            t.is_(m.opt["version"], 0, "%s: OPT version 0" % label, m)
            t.is_(m.opt["owner"], ".", "%s: OPT owner is the root" % label, m)
    if n_answer is not None and not expect_tc:
        t.is_(len(m.answer), n_answer, "%s: %d answers" % (label, n_answer), m)
    return m


def default_size(t, d):
    # dig, UDP, +ignore so that dig does not retry over TCP by itself
    r = d.dig("+bufsize=512", "+ignore", "big.example.test", "A")
    cases.check_reply(t, r, "dig +bufsize=512 big: TC over UDP", tc=True)
    r = d.dig("+bufsize=512", "+tcp", "big.example.test", "A")
    cases.check_reply(t, r, "dig +bufsize=512 +tcp big: full answer", tc=False, answer=BIG)
    r = d.dig("+bufsize=1232", "+ignore", "big.example.test", "A")
    cases.check_reply(t, r, "dig +bufsize=1232 big: fits", tc=False, answer=BIG)
    r = d.dig("+ignore", "big.example.test", "A")
    cases.check_reply(t, r, "dig default EDNS big: fits", tc=False, answer=BIG)
    if r is not None:
        t.ok(r.edns is not None and r.edns["udp"] == 1232 and r.edns["version"] == 0,
             "dig default: OPT echoed, udp 1232, version 0", repr(r))
    r = d.dig("+bufsize=4096", "+ignore", "huge.example.test", "TXT")
    cases.check_reply(t, r, "dig +bufsize=4096 huge (> 1232): TC, capped by our size", tc=True)
    r = d.dig("+bufsize=4096", "+tcp", "huge.example.test", "TXT")
    cases.check_reply(t, r, "dig +tcp huge: full answer", tc=False)
    if r is not None:
        t.is_(len(r.answer), 8, "dig +tcp huge: 8 TXT", repr(r))
    r = d.dig("+noedns", "+ignore", "big.example.test", "A")
    cases.check_reply(t, r, "dig +noedns big: TC at 512", tc=True)
    if r is not None:
        t.is_(r.edns, None, "dig +noedns big: no OPT in reply", repr(r))
    r = d.kdig("+bufsize=512", "+ignore", "big.example.test", "A")
    if r is not None:
        cases.check_reply(t, r, "kdig +bufsize=512 big: TC", tc=True)

    raw(t, d, "big.example.test", "A", "raw edns 512 big", 512, True, 512)
    raw(t, d, "big.example.test", "A", "raw edns 1232 big", 1232, False, 1232, n_answer=40)
    raw(t, d, "big.example.test", "A", "raw edns 4096 big", 4096, False, 1232, n_answer=40)
    raw(t, d, "big.example.test", "A", "raw no EDNS big", None, True, 512)
    raw(t, d, "mid.example.test", "A", "raw no EDNS mid", None, False, 512, n_answer=20)
    # RFC 6891 6.2.5: sizes below 512 are treated as 512
    raw(t, d, "mid.example.test", "A", "raw edns 100 mid (= 512)", 100, False, 512, n_answer=20)
    raw(t, d, "big.example.test", "A", "raw edns 100 big (= 512)", 100, True, 512)
    raw(t, d, "huge.example.test", "TXT", "raw edns 4096 huge", 4096, True, 1232)
    raw(t, d, "huge.example.test", "TXT", "raw edns 1232 huge", 1232, True, 1232)
    raw(t, d, "huge.example.test", "TXT", "raw edns 65535 huge", 65535, True, 1232)

    m = d.query("nope.example.test", "A", edns=1232)
    t.ok(m is not None and m.rcode == 3 and m.nopt == 1 and m.opt["payload"] == 1232,
         "raw NXDOMAIN with EDNS: OPT in the reply", m)
    m = d.query("www.example.org", "A", edns=1232)
    t.ok(m is not None and m.rcode == 5 and m.nopt == 1,
         "raw REFUSED with EDNS: OPT in the reply", m)


def big_referral(t, d):
    """12 NS with 12 in-domain glue A: the NS set fits 512 bytes, the glue
    does not. RFC 9471: all in-domain glue, or TC."""
    name = "www.bigdeleg.example.test"
    for edns, limit in ((512, 512), (None, 512), (1232, 1232)):
        label = "referral with big glue, %s" % ("no EDNS" if edns is None else "edns %d" % edns)
        m = d.query(name, "A", edns=edns)
        if not t.ok(m is not None and m.rcode == 0 and not m.aa,
                    "%s: NOERROR referral, AA clear" % label, m):
            continue
        t.ok(m.size <= limit, "%s: fits %d bytes" % (label, limit), m)
        glue = [rr for rr in m.additional if rr.type == 1]
        t.ok(m.tc or (len(m.rrs("authority", "NS")) == 12 and len(glue) == 12),
             "%s: TC or every NS and glue (RFC 9471)" % label, m)
        if limit >= 1232:
            t.ok(not m.tc and len(glue) == 12, "%s: complete, no TC" % label, m)
    m = d.query(name, "A", tcp=True)
    t.ok(m is not None and not m.tc and len(m.rrs("authority", "NS")) == 12 and
         len([rr for rr in m.additional if rr.type == 1]) == 12,
         "referral with big glue over TCP: 12 NS, 12 glue", m)


def exact_sizes(t, d):
    """Replies of exactly the limit fit; one byte more is truncated."""
    for name, edns, limit, tc in (("e512", None, 512, False), ("e513", None, 512, True),
                                  ("e1232", 1232, 1232, False), ("e1233", 1232, 1232, True)):
        label = "%s %s" % (name, "no EDNS" if edns is None else "edns %d" % edns)
        m = d.query(name + ".example.test", "TXT", edns=edns)
        if not t.ok(m is not None and m.rcode == 0, "%s: answered" % label, m):
            continue
        t.is_(m.tc, tc, "%s: TC %s" % (label, "set" if tc else "clear"), m)
        if not tc:
            t.is_((m.size, len(m.answer)), (limit, 1), "%s: exactly %d bytes" % (label, limit), m)
        else:
            t.ok(m.size <= limit, "%s: truncated reply fits" % label, m)


def unknown_option(t, d):
    opt = struct.pack("!HH", 65001, 4) + b"\xde\xad\xbe\xef"
    m = d.query("www.example.test", "A", edns=1232, edns_options=opt)
    t.ok(m is not None and m.rcode == 0 and m.texts("answer", "A") == cases.WWW_A,
         "unknown EDNS option: ignored, normal answer", m)
    t.ok(m is not None and m.opt is not None and 65001 not in m.opt["codes"],
         "unknown EDNS option: not echoed", m)
    r = d.dig("+ednsopt=65001:deadbeef", "www.example.test", "A")
    cases.check_reply(t, r, "dig +ednsopt unknown option",
                      answer=[("www.example.test", "A", a) for a in cases.WWW_A])


def malformed_options(t, d):
    """Options that do not fill the OPT's data exactly: FORMERR, as NSD and
    Knot answer (RFC 6891 6.1.2 gives each option a length)."""
    for label, opts in (("option longer than the OPT", struct.pack("!HH", 10, 8) + b"abc"),
                        ("option header cut short", b"\x00\x0a\x00"),
                        ("a byte after the last option", struct.pack("!HH", 3, 0) + b"\x00")):
        m = d.query("www.example.test", "A", edns=1232, edns_options=opts)
        t.ok(m is not None and m.rcode_name == "FORMERR" and not m.answer,
             "%s: FORMERR" % label, m)
    m = d.query("www.example.test", "A", edns=1232,
                edns_options=struct.pack("!HH", 10, 8) + b"12345678")
    t.ok(m is not None and m.rcode == 0 and m.answer, "a client cookie: answered", m)


def edns_flags(t, d):
    m = d.query("www.example.test", "A", edns=1232, do=True)
    t.ok(m is not None and m.opt is not None and m.opt["do"] and m.rcode == 0,
         "DO bit copied into the reply (RFC 3225)", m)
    m = d.query("www.example.test", "A", edns=1232, do=False)
    t.ok(m is not None and m.opt is not None and not m.opt["do"], "DO clear stays clear", m)
    # unknown EDNS flag bits: ignored, and zero in the reply (RFC 6891 6.1.4)
    q = bytearray(build_query("www.example.test", "A", edns=1232))
    q[-3] |= 0x7F          # OPT flags, low byte: bits not defined
    m = d.send(bytes(q))
    t.ok(m is not None and m.rcode == 0 and m.answer and m.opt is not None and
         m.opt["flags"] == 0, "unknown EDNS flag bits: ignored, zero in the reply", m)


def badvers(t, d):
    r = d.dig("+edns=1", "+noednsneg", "www.example.test", "A")
    if cases.check_reply(t, r, "dig +edns=1: BADVERS", status="BADVERS", aa=None, answer=[]):
        t.ok(r.edns is not None and r.edns["version"] == 0,
             "dig +edns=1: OPT present with version 0", repr(r))
    r = d.kdig("+edns=1", "www.example.test", "A")
    if r is not None:
        t.is_(r.status, "BADVERS", "kdig +edns=1: BADVERS", repr(r))
    for version in (1, 255):
        m = d.query("www.example.test", "A", edns=1232, edns_version=version, qid=0x4242)
        if not t.ok(m is not None, "raw EDNS version %d: answered" % version):
            continue
        t.is_(m.rcode, 16, "raw EDNS version %d: rcode 16 BADVERS" % version, m)
        t.is_(m.header_rcode, 0, "raw EDNS version %d: header rcode bits 0" % version, m)
        t.ok(m.opt is not None and m.opt["ext_rcode"] == 1 and m.opt["version"] == 0,
             "raw EDNS version %d: OPT ext-rcode 1, version 0" % version, m)
        t.ok(m.id == 0x4242 and m.qr and not m.answer,
             "raw EDNS version %d: ID echoed, QR, empty answer" % version, m)
    # BADVERS for a name outside our zones too: EDNS is checked first
    m = d.query("www.example.org", "A", edns=1232, edns_version=1)
    t.ok(m is not None and m.rcode == 16, "raw EDNS version 1 out of zone: BADVERS", m)


def configured_size(t):
    d = Daemon(t, "basic.yaml.in", server={"edns-buffer-size": 4096}, name="edns4096").start()
    try:
        raw(t, d, "huge.example.test", "TXT", "size 4096: huge at 4096", 4096, False, 4096,
            payload=4096, n_answer=8)
        raw(t, d, "huge.example.test", "TXT", "size 4096: huge at 1232", 1232, True, 1232,
            payload=4096)
        raw(t, d, "big.example.test", "A", "size 4096: big at 512", 512, True, 512, payload=4096)
        r = d.dig("+bufsize=4096", "+ignore", "huge.example.test", "TXT")
        cases.check_reply(t, r, "size 4096: dig huge fits", tc=False)
        if r is not None:
            t.ok(r.edns is not None and r.edns["udp"] == 4096, "size 4096: dig sees udp 4096", repr(r))
    finally:
        d.stop()
    d = Daemon(t, "basic.yaml.in", server={"edns-buffer-size": 512}, name="edns512").start()
    try:
        raw(t, d, "big.example.test", "A", "size 512: big at 4096", 4096, True, 512, payload=512)
        raw(t, d, "mid.example.test", "A", "size 512: mid at 4096", 4096, False, 512,
            payload=512, n_answer=20)
    finally:
        d.stop()


def main(t):
    d = Daemon(t, "basic.yaml.in", name="edns").start()
    try:
        default_size(t, d)
        big_referral(t, d)
        exact_sizes(t, d)
        unknown_option(t, d)
        malformed_options(t, d)
        edns_flags(t, d)
        badvers(t, d)
        d.check_alive("the EDNS cases")
    finally:
        d.stop()
    configured_size(t)


if __name__ == "__main__":
    run(main)
