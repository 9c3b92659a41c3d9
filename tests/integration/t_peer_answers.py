#!/usr/bin/python3
"""t_peer_answers.py -- arcdnsd answers what Knot DNS answers, query by query.

arcdnsd (tests/data/answers.yaml.in) and a real Knot DNS (/usr/sbin/knotd,
own config and folder, loopback, a free port) serve the same six zone
files (example.test., other.test., deep.example.test., served.example.test.,
rich.test., which holds one record of most types, unknown ones too, and
tricky.test.: wildcards at the apex and below, CNAMEs into wildcards, into
a delegation and to nowhere, '*' labels inside names).
Every owner name of example.test.zone and names around them (below
wildcards and delegations, empty non-terminals, nonexistent names, other
letter cases, the other zones, out of zone) is asked for 13 types, each
without EDNS, with EDNS 1232, with EDNS 512 and with the DO bit, over UDP;
A and TXT also over TCP. The two replies must agree on the rcode, the AA,
TC and RA flags, the question as sent, the OPT record (present, version,
DO echoed) and the answer, authority and additional sections (owner case,
type, TTL, data; order within a section aside).

Where the RFCs leave a choice the rules are narrower, and written here:
  - a truncated reply (TC) must be truncated in both, with the same rcode
    and flags; what is left inside differs (Knot keeps the NS RRset and
    the glue that fits, arcdnsd sends the empty sections RFC 2181 9
    allows);
  - ANY (RFC 8482): the same rcode and flags but TC, at most one RRset in
    our answer and an answer exactly when Knot has one (Knot picks one of
    the name's RRsets, which may not fit: TC; arcdnsd the synthesized
    HINFO, which does);
  - RRSIG and NSEC are not asked: at a CNAME, Knot answers NODATA and
    arcdnsd follows the CNAME as NSD does (the zones are unsigned).
One assertion per name (all its types and variants), with the first
differences in the diagnostics. SKIPs when knotd is absent.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Daemon, run  # noqa: E402
from peers import KnotAuth, query_at  # noqa: E402

ZONES = [("example.test.", "example.test.zone"),
         ("other.test.", "other.test.zone"),
         ("deep.example.test.", "deep.example.test.zone"),
         ("served.example.test.", "served.example.test.zone"),
         ("rich.test.", "rich.test.zone"),
         ("tricky.test.", "tricky.test.zone")]

# relative to example.test. unless they end in a dot
NAMES = """@ ns1 ns2 www mail txt alias1 alias2 alias3 dangling2 dangling
outside towild loop1 loop2 wild a.wild b.a.wild host.wild x.host.wild y.wild
x.y.wild z.x.y.wild cw a.cw b.a.cw ent sub.ent host.sub.ent x.ent child
a.child ns1.child ns2.child x.ns1.child bigdeleg nameserver-number-01.bigdeleg
nottl long dup MiXeD mixed e512 e513 e1232 e1233 big mid huge
served a.served www.served nonexist a.nonexist WWW wWw.EXAMPLE.TEST. www.Wild
_dmarc deep www.deep x.www.deep other.test. www.other.test. nx.other.test.
WWW.OTHER.test. example.net. test. .""".split()
TRICKY = """@ ns1 anything a.b.c * mx srv srv2 sub x.sub y.x.sub target q.chain
wcname z.wcname deleg x.deleg ns.deleg a.ns.deleg cn2deleg cn2nx cn2wnx sub2
a.b.sub2 odd x.odd a.x.odd *.odd a.*.odd odd2 *.odd2 ent.*.odd2 x.ent.*.odd2
cnmx alias nsalias x.nsalias txtbig""".split()
# rich.test.: each is asked for its own type (and the grid's)
RICH = [("rich.test.", "CAA"), ("_sip._tcp.rich.test.", "SRV"),
        ("_sip._udp.rich.test.", "SRV"), ("ptr.rich.test.", "PTR"),
        ("naptr.rich.test.", 35), ("sshfp.rich.test.", 44),
        ("tlsa._443._tcp.rich.test.", 52), ("hinfo.rich.test.", 13),
        ("rp.rich.test.", 17), ("afsdb.rich.test.", 18), ("loc.rich.test.", 29),
        ("unk.rich.test.", 65280), ("unk2.rich.test.", 731),
        ("spf.rich.test.", 99), ("uri.rich.test.", 256), ("svcb.rich.test.", 64),
        ("https.rich.test.", 65), ("cert.rich.test.", 37), ("kx.rich.test.", 36),
        ("dhcid.rich.test.", 49), ("eui48.rich.test.", 108),
        ("eui64.rich.test.", 109), ("openpgp.rich.test.", 61),
        ("csync.rich.test.", 62), ("zonemd.rich.test.", 63),
        ("apl.rich.test.", 42), ("txt.rich.test.", "TXT"),
        ("Mixed.Case.rich.test.", "A")]
TYPES = ["A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME", "ANY", "DS", "PTR",
         "SRV", 257, 999]
VARIANTS = [("no EDNS", {}), ("EDNS 1232", {"edns": 1232}),
            ("EDNS 512", {"edns": 512}), ("DO", {"edns": 1232, "do": True})]
TCP_TYPES = ["A", "TXT"]
TCP_VARIANTS = VARIANTS[:2]


def qname_of(name):
    if name == "@":
        return "example.test."
    if name.endswith("."):
        return name
    return name + ".example.test."


def section(rrs):
    return sorted((rr.name, rr.type, rr.rclass, rr.ttl, rr.text) for rr in rrs)


def shape(m):
    """What must agree in every reply: rcode, flags, question, OPT."""
    opt = None if m.opt is None else (m.opt["version"], m.opt["do"])
    return {"rcode": m.rcode_name, "aa": m.aa, "tc": m.tc, "ra": m.ra,
            "question": m.question, "opt": opt}


def compare(ours, theirs, qtype):
    """None when the replies agree, else a description of the difference."""
    if ours is None or theirs is None:
        return "no reply from %s" % ("arcdnsd" if ours is None else "knot")
    a, b = shape(ours), shape(theirs)
    if qtype == "ANY":
        a["tc"] = b["tc"] = None
    if a != b:
        return "arcdnsd %s, knot %s" % (a, b)
    if ours.tc or theirs.tc:
        return None
    if qtype == "ANY":
        sets = {(rr.name.lower(), rr.type) for rr in ours.answer}
        if len(sets) > 1 or bool(sets) != bool(theirs.answer):
            return "ANY: arcdnsd %s, knot %s" % (section(ours.answer),
                                                 section(theirs.answer))
        return None
    for sect in ("answer", "authority", "additional"):
        x = section(getattr(ours, sect))
        y = section(getattr(theirs, sect))
        if x != y:
            return "%s: arcdnsd %s, knot %s" % (sect, x, y)
    return None


def ask_both(d, k, qname, qtype, kw, tcp=False):
    """(difference or None, whether knot's reply carries data)."""
    ours = query_at(d.port, qname, qtype, tcp=tcp, timeout=2.0, qid=0x5151, **kw)
    theirs = query_at(k.port, qname, qtype, tcp=tcp, timeout=2.0, qid=0x5151, **kw)
    data = theirs is not None and theirs.rcode == 0 and bool(theirs.answer)
    return compare(ours, theirs, qtype), data


def main(t):
    if not KnotAuth.available():
        t.skip("arcdnsd and knot give the same answers", "knotd not installed")
        return
    d = Daemon(t, "answers.yaml.in")
    d.start()
    k = KnotAuth(t, ZONES).start()
    asked = with_data = 0
    grid = [(qname_of(n), TYPES) for n in NAMES] + \
        [(n, [ty] + TYPES) for n, ty in RICH] + \
        [("tricky.test." if n == "@" else n + ".tricky.test.", TYPES) for n in TRICKY]
    for qname, types in grid:
        diffs = []
        for qtype in types:
            for label, kw in VARIANTS:
                asked += 1
                why, data = ask_both(d, k, qname, qtype, kw)
                with_data += data
                if why:
                    diffs.append("%s %s %s (udp): %s" % (qname, qtype, label, why))
        for qtype in TCP_TYPES:
            for label, kw in TCP_VARIANTS:
                asked += 1
                why, data = ask_both(d, k, qname, qtype, kw, tcp=True)
                with_data += data
                if why:
                    diffs.append("%s %s %s (tcp): %s" % (qname, qtype, label, why))
        t.ok(not diffs, "%s: %d types x %d variants (udp) and %d x %d (tcp) answered as "
             "knot does" % (qname, len(types), len(VARIANTS), len(TCP_TYPES),
                            len(TCP_VARIANTS)),
             "\n".join(diffs[:6]) + ("\n... %d more" % (len(diffs) - 6)
                                     if len(diffs) > 6 else ""))
    # Not a vacuous agreement: had either side failed to load the zones,
    # both would agree on REFUSED everywhere.
    t.ok(with_data >= asked // 8, "the grid compares answers, not only "
         "errors: %d of %d replies carry data" % (with_data, asked))
    t.ok(d.alive(), "arcdnsd still running")
    k.stop()
    d.stop()


if __name__ == "__main__":
    run(main, timeout=240)
