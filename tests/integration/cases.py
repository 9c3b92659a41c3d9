"""cases.py -- the answers of tests/data/example.test.zone, as checks.

t_basic.py runs them over UDP and t_tcp.py over TCP (`dig +tcp`): "the same
answers over TCP". Each case is one dig query and several assertions.
Names in expectations are compared case-insensitively here; the case-echo
checks compare exactly (see mixed_case()).
"""

from harness import fqdn

ZONE = "example.test."
SOA_TEXT = ("ns1.example.test. hostmaster.example.test. "
            "2024010101 3600 900 604800 300")
NEG_TTL = 300          # min(SOA TTL 3600, SOA minimum 300)
WWW_A = ["192.0.2.10", "192.0.2.11"]


def rr_key(rr):
    return (rr.name.lower(), rr.type, rr.rdata)


def exp_key(name, rtype, rdata):
    return (fqdn(name).lower(), rtype, rdata)


def check_reply(t, r, label, status="NOERROR", aa=True, answer=None,
                answer_ttl=None, ordered=None, soa=None, empty_authority=False,
                tc=False):
    """Assertions on a DigReply.

    answer: list of (name, type, rdata), compared as a multiset.
    ordered: list of (name, type) that must open the answer in this order.
    answer_ttl: {type: ttl} for answer RRs.
    soa: (owner, ttl) -- authority must hold exactly one SOA RR like that,
         with SOA_TEXT when the owner is example.test.
    """
    if r is None:
        t.skip(label, "dig not installed")
        return False
    if not t.is_(r.status, status, "%s: status %s" % (label, status), repr(r)):
        return False
    t.ok("qr" in r.flags, "%s: QR set" % label, repr(r))
    t.ok("ra" not in r.flags, "%s: RA clear" % label, repr(r))
    if aa is not None:
        t.is_("aa" in r.flags, aa, "%s: AA %s" % (label, "set" if aa else "clear"), repr(r))
    if tc is not None:
        t.is_("tc" in r.flags, tc, "%s: TC %s" % (label, "set" if tc else "clear"), repr(r))
    if answer is not None:
        got = sorted(rr_key(rr) for rr in r.answer)
        exp = sorted(exp_key(*a) for a in answer)
        t.is_(got, exp, "%s: answer section" % label, repr(r))
    if ordered is not None:
        got = [(rr.name.lower(), rr.type) for rr in r.answer[:len(ordered)]]
        exp = [(fqdn(n).lower(), ty) for n, ty in ordered]
        t.is_(got, exp, "%s: answer order" % label, repr(r))
    if answer_ttl is not None:
        for ty, ttl in answer_ttl.items():
            ttls = sorted(set(rr.ttl for rr in r.answer if rr.type == ty))
            t.is_(ttls, [ttl], "%s: %s TTL %d" % (label, ty, ttl), repr(r))
    if soa is not None:
        owner, ttl = soa
        soas = [rr for rr in r.authority if rr.type == "SOA"]
        t.is_(len(soas), 1, "%s: one SOA in authority" % label, repr(r))
        if soas:
            t.is_(soas[0].name.lower(), fqdn(owner).lower(),
                  "%s: SOA owner %s" % (label, owner), repr(r))
            t.is_(soas[0].ttl, ttl, "%s: negative TTL %d" % (label, ttl), repr(r))
            if fqdn(owner).lower() == ZONE:
                # names may be compressed against the question: any case
                t.is_(soas[0].rdata.lower(), SOA_TEXT, "%s: SOA rdata" % label, repr(r))
        t.is_([rr for rr in r.authority if rr.type != "SOA"], [],
              "%s: nothing but the SOA in authority" % label, repr(r))
    if empty_authority:
        t.is_(r.authority, [], "%s: empty authority" % label, repr(r))
    return True


def positive(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    check_reply(t, q("www.example.test", "A"), "%s www A" % tag,
                answer=[("www.example.test", "A", a) for a in WWW_A],
                answer_ttl={"A": 300})
    check_reply(t, q("www.example.test", "AAAA"), "%s www AAAA" % tag,
                answer=[("www.example.test", "AAAA", "2001:db8::10")],
                answer_ttl={"AAAA": 300})
    check_reply(t, q("example.test", "MX"), "%s apex MX" % tag,
                answer=[("example.test", "MX", "10 mail.example.test."),
                        ("example.test", "MX", "20 mail2.example.net.")],
                answer_ttl={"MX": 900})
    check_reply(t, q("txt.example.test", "TXT"), "%s txt TXT" % tag,
                answer=[("txt.example.test", "TXT", '"hello world" "second string"'),
                        ("txt.example.test", "TXT", '"v=spf1 -all"'),
                        ("txt.example.test", "TXT",
                         '"semi;colon" "quote\\"inside" "back\\\\slash"')],
                answer_ttl={"TXT": 120})
    check_reply(t, q("example.test", "SOA"), "%s apex SOA" % tag,
                answer=[("example.test", "SOA", SOA_TEXT)], answer_ttl={"SOA": 3600})
    check_reply(t, q("example.test", "NS"), "%s apex NS" % tag,
                answer=[("example.test", "NS", "ns1.example.test."),
                        ("example.test", "NS", "ns2.example.test.")],
                answer_ttl={"NS": 3600})
    check_reply(t, q("mail.example.test", "A"), "%s mail A" % tag,
                answer=[("mail.example.test", "A", "192.0.2.25")], answer_ttl={"A": 600})
    check_reply(t, q("nottl.example.test", "A"), "%s record without TTL gets $TTL" % tag,
                answer=[("nottl.example.test", "A", "192.0.2.70")], answer_ttl={"A": 3600})
    check_reply(t, q("long.example.test", "TXT"), "%s TXT of 255 characters" % tag,
                answer=[("long.example.test", "TXT", '"%s"' % ("x" * 255))])
    check_reply(t, q("big.example.test", "A", "+bufsize=4096"), "%s big A (40 RRs)" % tag,
                answer=[("big.example.test", "A", "198.51.100.%d" % i) for i in range(1, 41)],
                answer_ttl={"A": 60})


def negative(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    check_reply(t, q("nope.example.test", "A"), "%s NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("www.example.test", "MX"), "%s NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("www.example.test", "TYPE65280"), "%s NODATA unknown type" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("a.b.c.nope.example.test", "A"), "%s NXDOMAIN deep" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))
    # SOA TTL 60 < minimum 600: the other branch of the min()
    check_reply(t, q("nope.other.test", "A"), "%s other.test NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=("other.test", 60))
    check_reply(t, q("www.other.test", "MX"), "%s other.test NODATA" % tag,
                answer=[], soa=("other.test", 60))
    # the deepest configured zone answers
    check_reply(t, q("www.deep.example.test", "A"), "%s deep zone www" % tag,
                answer=[("www.deep.example.test", "A", "192.0.2.200")],
                answer_ttl={"A": 600})
    check_reply(t, q("deep.example.test", "NS"), "%s deep zone apex NS" % tag,
                answer=[("deep.example.test", "NS", "ns1.example.test.")],
                answer_ttl={"NS": 600})
    # a delegated child that we serve too: the child answers, except DS
    check_reply(t, q("www.served.example.test", "A"), "%s served child: www from the child"
                % tag, answer=[("www.served.example.test", "A", "192.0.2.210")])
    check_reply(t, q("served.example.test", "NS"), "%s served child: apex NS from the child"
                % tag, answer=[("served.example.test", "NS", "ns1.example.test.")],
                answer_ttl={"NS": 600})
    check_reply(t, q("nope.served.example.test", "A"), "%s served child: NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=("served.example.test", 60))
    check_reply(t, q("served.example.test", "DS"), "%s served child: DS NODATA from the parent"
                % tag, answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("nope.deep.example.test", "A"), "%s deep zone NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=("deep.example.test", 120))


def refused(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    for name, ty in (("www.example.org", "A"), ("test", "SOA"), (".", "NS"),
                     ("notexample.test", "A"), ("www.example.test.evil", "A")):
        check_reply(t, q(name, ty), "%s REFUSED %s %s" % (tag, name, ty),
                    status="REFUSED", aa=False, answer=[])


def cnames(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    chain = [("alias1.example.test", "CNAME", "alias2.example.test."),
             ("alias2.example.test", "CNAME", "alias3.example.test."),
             ("alias3.example.test", "CNAME", "www.example.test.")]
    check_reply(t, q("alias1.example.test", "A"), "%s CNAME chain to A" % tag,
                answer=chain + [("www.example.test", "A", a) for a in WWW_A],
                ordered=[(n, ty) for n, ty, _ in chain],
                answer_ttl={"CNAME": 200, "A": 300})
    check_reply(t, q("alias1.example.test", "CNAME"), "%s CNAME query" % tag,
                answer=chain[:1])
    check_reply(t, q("alias1.example.test", "MX"), "%s CNAME chain to NODATA" % tag,
                answer=chain, ordered=[(n, ty) for n, ty, _ in chain],
                soa=(ZONE, NEG_TTL))
    dangling = [("dangling2.example.test", "CNAME", "dangling.example.test."),
                ("dangling.example.test", "CNAME", "missing.example.test.")]
    check_reply(t, q("dangling2.example.test", "A"), "%s CNAME chain to NXDOMAIN" % tag,
                status="NXDOMAIN", answer=dangling,
                ordered=[(n, ty) for n, ty, _ in dangling], soa=(ZONE, NEG_TTL))
    check_reply(t, q("outside.example.test", "A"), "%s CNAME out of zone" % tag,
                answer=[("outside.example.test", "CNAME", "www.example.net.")])
    check_reply(t, q("towild.example.test", "A"), "%s CNAME into wildcard" % tag,
                answer=[("towild.example.test", "CNAME", "via.wild.example.test."),
                        ("via.wild.example.test", "A", "192.0.2.50")],
                ordered=[("towild.example.test", "CNAME")])
    r = q("loop1.example.test", "A")
    if t.ok(r is not None and r.status in ("NOERROR", "SERVFAIL"),
            "%s CNAME loop: answered, NOERROR or SERVFAIL" % tag, repr(r)):
        t.ok(("loop1.example.test.", "CNAME", "loop2.example.test.") in
             [rr_key(rr) for rr in r.answer],
             "%s CNAME loop: first CNAME in answer" % tag, repr(r))
        t.ok(len(r.answer) <= 16, "%s CNAME loop: bounded answer" % tag, repr(r))


def wildcards(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    check_reply(t, q("foo.wild.example.test", "A"), "%s wildcard A" % tag,
                answer=[("foo.wild.example.test", "A", "192.0.2.50")],
                answer_ttl={"A": 400})
    check_reply(t, q("foo.wild.example.test", "TXT"), "%s wildcard TXT" % tag,
                answer=[("foo.wild.example.test", "TXT", '"wildcard"')])
    check_reply(t, q("a.b.wild.example.test", "A"), "%s wildcard two labels" % tag,
                answer=[("a.b.wild.example.test", "A", "192.0.2.50")])
    check_reply(t, q("foo.wild.example.test", "MX"), "%s wildcard NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("host.wild.example.test", "A"), "%s existing name beats wildcard" % tag,
                answer=[("host.wild.example.test", "A", "192.0.2.51")])
    check_reply(t, q("host.wild.example.test", "TXT"),
                "%s existing name: NODATA, no wildcard" % tag, answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("sub.host.wild.example.test", "A"),
                "%s closest encloser without *: NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))
    # RFC 4592 2.2.1: an empty non-terminal as closest encloser blocks the
    # wildcard of an ancestor
    check_reply(t, q("z.y.wild.example.test", "A"),
                "%s closest encloser is an ENT without *: NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("y.wild.example.test", "A"), "%s ENT under the wildcard's parent: NODATA"
                % tag, answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("x.y.wild.example.test", "A"), "%s name below that ENT" % tag,
                answer=[("x.y.wild.example.test", "A", "192.0.2.52")])
    check_reply(t, q("wild.example.test", "A"), "%s wildcard parent is ENT: NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("*.wild.example.test", "A"), "%s literal * name" % tag,
                answer=[("*.wild.example.test", "A", "192.0.2.50")])
    check_reply(t, q("x.cw.example.test", "A"), "%s wildcard CNAME" % tag,
                answer=[("x.cw.example.test", "CNAME", "www.example.test.")] +
                [("www.example.test", "A", a) for a in WWW_A],
                ordered=[("x.cw.example.test", "CNAME")])
    # empty non-terminals
    check_reply(t, q("ent.example.test", "A"), "%s ENT: NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("sub.ent.example.test", "A"), "%s ENT two labels: NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("nope.sub.ent.example.test", "A"), "%s below ENT: NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))
    check_reply(t, q("host.sub.ent.example.test", "A"), "%s name below ENT" % tag,
                answer=[("host.sub.ent.example.test", "A", "192.0.2.60")])


CHILD_NS = [("child.example.test", "NS", "ns1.child.example.test."),
            ("child.example.test", "NS", "ns2.child.example.test."),
            ("child.example.test", "NS", "ns.example.net.")]
CHILD_GLUE = [("ns1.child.example.test", "A", "192.0.2.53"),
              ("ns2.child.example.test", "AAAA", "2001:db8::53")]


def referral_checks(t, r, label):
    if not check_reply(t, r, label, aa=False, answer=[]):
        return
    got = sorted(rr_key(rr) for rr in r.authority)
    t.is_(got, sorted(exp_key(*a) for a in CHILD_NS), "%s: NS in authority" % label, repr(r))
    t.is_(sorted(set(rr.ttl for rr in r.authority)), [3600],
          "%s: NS TTL 3600" % label, repr(r))
    got = sorted(rr_key(rr) for rr in r.additional)
    t.is_(got, sorted(exp_key(*a) for a in CHILD_GLUE),
          "%s: glue in additional" % label, repr(r))


def referrals(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    referral_checks(t, q("www.child.example.test", "A"), "%s referral below cut" % tag)
    referral_checks(t, q("child.example.test", "NS"), "%s referral NS at cut" % tag)
    referral_checks(t, q("child.example.test", "A"), "%s referral A at cut" % tag)
    referral_checks(t, q("a.b.c.child.example.test", "TXT"), "%s referral deep" % tag)
    referral_checks(t, q("ns1.child.example.test", "A"), "%s referral for glue name" % tag)
    # DS lives on the parent side of the cut: NODATA from us, not a referral
    check_reply(t, q("child.example.test", "DS"), "%s DS at the cut: parent NODATA" % tag,
                answer=[], soa=(ZONE, NEG_TTL))


def mixed_case(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    for name, ty, exp_owner in (("WwW.ExAmPlE.TeSt.", "A", "WwW.ExAmPlE.TeSt."),
                                ("FoO.WiLd.ExAmPlE.tEsT.", "A", "FoO.WiLd.ExAmPlE.tEsT."),
                                ("ALIAS1.example.TEST.", "A", "ALIAS1.example.TEST.")):
        r = q(name, ty)
        if not check_reply(t, r, "%s case %s" % (tag, name)):
            continue
        t.is_([qq[0] for qq in r.question], [name],
              "%s case %s: question echoed" % (tag, name), repr(r))
        t.is_(r.answer[0].name if r.answer else None, exp_owner,
              "%s case %s: answer owner echoed" % (tag, name), repr(r))
    r = q("NoPe.ExAmPlE.TeSt.", "A")
    if check_reply(t, r, "%s case NXDOMAIN" % tag, status="NXDOMAIN", answer=[],
                   soa=(ZONE, NEG_TTL)):
        t.is_([qq[0] for qq in r.question], ["NoPe.ExAmPlE.TeSt."],
              "%s case NXDOMAIN: question echoed" % tag, repr(r))


WWW_RRS = [("www.example.test", "A", a) for a in WWW_A] + [
    ("www.example.test", "AAAA", "2001:db8::10"),
    ("www.example.test", "TXT", '"web server"')]


def any_query(t, d, via, tag):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    r = q("www.example.test", "ANY")
    if not check_reply(t, r, "%s ANY" % tag):
        return
    keys = [rr_key(rr) for rr in r.answer]
    hinfo = [k for k in keys if k[1] == "HINFO"]
    if hinfo:
        t.is_(keys, [("www.example.test.", "HINFO", '"RFC8482" ""')],
              "%s ANY: RFC 8482 HINFO only" % tag, repr(r))
    else:
        allowed = set(exp_key(*a) for a in WWW_RRS)
        t.ok(keys and set(keys) <= allowed,
             "%s ANY: a non-empty subset of www's RRsets" % tag, repr(r))
    check_reply(t, q("nope.example.test", "ANY"), "%s ANY NXDOMAIN" % tag,
                status="NXDOMAIN", answer=[], soa=(ZONE, NEG_TTL))


def chaos(t, d, via, tag, identity, version):
    q = lambda *a: d.dig(*(list(a) + via))   # noqa: E731
    for name, text in (("id.server", identity), ("hostname.bind", identity),
                       ("ID.SERVER", identity), ("version.bind", version),
                       ("version.server", version)):
        r = q("-c", "CH", "-t", "TXT", name)
        if not check_reply(t, r, "%s CH TXT %s" % (tag, name), aa=None):
            continue
        t.is_([(rr.rclass, rr.type, rr.rdata) for rr in r.answer],
              [("CH", "TXT", '"%s"' % text)], "%s CH TXT %s: text" % (tag, name), repr(r))
        t.is_([rr.name.lower() for rr in r.answer], [fqdn(name).lower()],
              "%s CH TXT %s: owner" % (tag, name), repr(r))


def run_all(t, d, via, tag, identity, version):
    positive(t, d, via, tag)
    negative(t, d, via, tag)
    refused(t, d, via, tag)
    cnames(t, d, via, tag)
    wildcards(t, d, via, tag)
    referrals(t, d, via, tag)
    mixed_case(t, d, via, tag)
    any_query(t, d, via, tag)
    chaos(t, d, via, tag, identity, version)
