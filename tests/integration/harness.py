"""harness.py -- integration test support for arcdnsd (standard library only).

Every t_*.py file is one TAP stream read by automake's tap-driver.sh.  It
imports this module, starts one or more real arcdnsd processes on loopback
and asserts on their answers:

    from harness import Tap, Daemon, run

    def main(t):
        d = Daemon(t, "basic.yaml.in").start()
        m = d.query("www.example.test", "A")
        t.is_(m.rcode_name, "NOERROR", "www A answers")

    run(main)

What lives here:
  Tap       plan-at-end TAP producer: ok/is_/like/skip/diag/bail.
  wire      build_query(), parse_message(): a small DNS codec for crafted
            packets and exact checks (TTLs, flags, rdata bytes).
  net       udp_exchange(), tcp_* helpers, all with timeouts.
  Daemon    config from a template in tests/data, free loopback ports (free_port),
            "$ARCDNSD -f -c conf", wait for "ready:", TERM then KILL by PID,
            log dumped as TAP diagnostics when a check failed.
  dig/kdig/drill wrappers that parse the tools' text output (DigReply).

Environment (exported by `make check`; defaults are the in-tree paths):
  ARCDNSD       the daemon binary        (default $TOP_BUILDDIR/src/arcdnsd)
  TOP_SRCDIR    source tree              (default: two levels above here)
  TOP_BUILDDIR  build tree               (default: TOP_SRCDIR)
  TEST_RUNNER   command prefix for the daemon, e.g. "valgrind -q"; every
                time bound is multiplied by 10 when it is set
  ARCDNS_TEST_KEEP=1  keep the temporary directories

Every loop here is bounded in count and time; every process is stopped by
PID (try/finally in run() plus atexit), even when a test raises.
"""

import atexit
import http.client
import ipaddress
import os
import random
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

# ---------------------------------------------------------------------------
# paths and environment

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR") or TOP_SRCDIR
ARCDNSD = os.environ.get("ARCDNSD") or os.path.join(TOP_BUILDDIR, "src", "arcdnsd")
DATA_DIR = os.path.join(TOP_SRCDIR, "tests", "data")
TEST_RUNNER = shlex.split(os.environ.get("TEST_RUNNER", ""))
# Time bounds grow under valgrind and friends.
SCALE = 10.0 if TEST_RUNNER else 1.0
KEEP = os.environ.get("ARCDNS_TEST_KEEP", "") not in ("", "0")

DIG = shutil.which("dig")
KDIG = shutil.which("kdig")
DRILL = shutil.which("drill")


def bound(seconds):
    """A time bound in seconds, scaled for slow runners."""
    return seconds * SCALE


# ---------------------------------------------------------------------------
# TAP


class Tap:
    """TAP producer with the plan at the end (tap-driver.sh accepts that)."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.n = 0
        self.failed = 0
        self.skipped = 0
        self.finished = False

    def _emit(self, line):
        self.out.write(line + "\n")
        self.out.flush()

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            self._emit("# " + line)

    def ok(self, cond, name, diag=None):
        self.n += 1
        name = name.replace("#", "\\#")
        if cond:
            self._emit("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            self._emit("not ok %d - %s" % (self.n, name))
            if diag:
                self.diag(diag)
        return bool(cond)

    def is_(self, got, expected, name, diag=None):
        msg = "     got: %r\nexpected: %r" % (got, expected)
        if diag:
            msg += "\n" + str(diag)
        return self.ok(got == expected, name, msg)

    def like(self, got, pattern, name, diag=None):
        cond = got is not None and re.search(pattern, got) is not None
        msg = "     got: %r\n    like: %r" % (got, pattern)
        if diag:
            msg += "\n" + str(diag)
        return self.ok(cond, name, msg)

    def skip(self, name, reason):
        self.n += 1
        self.skipped += 1
        self._emit("ok %d - %s # SKIP %s" % (self.n, name, reason))

    def bail(self, reason):
        self._emit("Bail out! " + reason)
        self.finished = True
        stop_all()
        sys.exit(1)

    def done(self):
        if self.finished:
            return
        self.finished = True
        if self.n == 0:
            self._emit("1..0 # SKIP no checks ran")
        else:
            self._emit("1..%d" % self.n)
        self.diag("%d passed, %d failed, %d skipped" % (
            self.n - self.failed - self.skipped, self.failed, self.skipped))


class FileTimeout(Exception):
    pass


def _alarm_cb(signum, frame):
    raise FileTimeout("test file exceeded its time bound")


def _term_cb(signum, frame):
    raise SystemExit("killed by signal %d" % signum)


def run(main, timeout=120):
    """Run main(t) as one TAP stream with a watchdog and full cleanup."""
    t = Tap()
    signal.signal(signal.SIGALRM, _alarm_cb)
    signal.signal(signal.SIGTERM, _term_cb)
    signal.signal(signal.SIGINT, _term_cb)
    signal.alarm(int(bound(timeout)))
    try:
        if not os.access(ARCDNSD, os.X_OK):
            if os.environ.get("ARCDNSD"):
                t.bail("ARCDNSD=%s is not executable" % ARCDNSD)
            t._emit("1..0 # SKIP %s not built (set ARCDNSD)" % ARCDNSD)
            t.finished = True
            return
        main(t)
    except FileTimeout as e:
        t.ok(False, str(e), "".join(traceback.format_exc()))
    except SystemExit as e:
        if not t.finished:
            t.ok(False, "interrupted: %s" % e)
    except BaseException:
        t.ok(False, "unexpected exception", traceback.format_exc())
    finally:
        signal.alarm(0)
        stop_all(t)
        t.done()
    sys.exit(1 if t.failed else 0)


# ---------------------------------------------------------------------------
# DNS wire format: just enough for crafted packets and exact checks

TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15,
    "TXT": 16, "AAAA": 28, "SRV": 33, "DS": 43, "OPT": 41, "AXFR": 252,
    "IXFR": 251, "ANY": 255, "CAA": 257,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
CLASS_NAMES = {v: k for k, v in CLASSES.items()}
RCODES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
    5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
    10: "NOTZONE", 16: "BADVERS",
}
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}


def type_code(t):
    if isinstance(t, int):
        return t
    t = t.upper()
    if t in TYPES:
        return TYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    raise ValueError("unknown type %s" % t)


def type_name(code):
    return TYPE_NAMES.get(code, "TYPE%d" % code)


def class_code(c):
    if isinstance(c, int):
        return c
    return CLASSES[c.upper()]


def rcode_name(code):
    return RCODES.get(code, "RCODE%d" % code)


def encode_name(name):
    """'www.Example.test' -> wire labels (case kept); '.' is the root."""
    if name in ("", "."):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError("bad label %r" % label)
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def opt_rr(payload=1232, version=0, do=False, ext_rcode=0, options=b""):
    """An OPT pseudo-RR (RFC 6891) as bytes; options is raw option data."""
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, payload, ttl, len(options)) + options


def build_query(qname, qtype="A", qclass="IN", qid=None, rd=True, opcode=0,
                qr=False, aa=False, tc=False, cd=False, edns=None,
                edns_version=0, do=False, edns_options=b"", question=None,
                qdcount=None, ancount=0, nscount=0, arcount=None, extra=b""):
    """A query as bytes.

    edns: None for no OPT, else the advertised UDP payload size.
    question: raw question bytes replacing the encoded (qname, qtype, qclass).
    qdcount/arcount: override the counts (for malformed packets).
    extra: raw bytes appended after the OPT record.
    """
    if qid is None:
        qid = random.randrange(0, 65536)
    flags = (0x8000 if qr else 0) | ((opcode & 0xF) << 11) | \
        (0x0400 if aa else 0) | (0x0200 if tc else 0) | \
        (0x0100 if rd else 0) | (0x0010 if cd else 0)
    if question is None:
        question = encode_name(qname) + struct.pack(
            "!HH", type_code(qtype), class_code(qclass))
    additional = b""
    nar = 0
    if edns is not None:
        additional += opt_rr(edns, edns_version, do, 0, edns_options)
        nar += 1
    if qdcount is None:
        qdcount = 1
    if arcount is None:
        arcount = nar
    header = struct.pack("!HHHHHH", qid, flags, qdcount, ancount, nscount, arcount)
    return header + question + additional + extra


def decode_name(msg, off, max_jumps=64):
    """Read a possibly compressed name at off. Returns (name, next_off)."""
    labels = []
    jumped = False
    end = None
    jumps = 0
    total = 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated pointer")
            if not jumped:
                end = off + 2
            jumped = True
            jumps += 1
            if jumps > max_jumps:
                raise ValueError("compression loop")
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n & 0xC0:
            raise ValueError("bad label type 0x%02x" % n)
        off += 1
        if n == 0:
            break
        label = msg[off:off + n]
        if len(label) != n:
            raise ValueError("truncated label")
        total += n + 1
        if total > 255:
            raise ValueError("name too long")
        labels.append(label)
        off += n
    name = ".".join(_escape_label(lb) for lb in labels) + "."
    return name, (end if jumped else off)


def _escape_label(lb):
    out = []
    for c in lb:
        ch = chr(c)
        if ch in ".\\\"();@$":
            out.append("\\" + ch)
        elif 0x21 <= c <= 0x7E:
            out.append(ch)
        else:
            out.append("\\%03d" % c)
    return "".join(out)


def _char_strings(rdata):
    strs = []
    i = 0
    while i < len(rdata):
        n = rdata[i]
        strs.append(rdata[i + 1:i + 1 + n])
        if len(strs[-1]) != n:
            raise ValueError("truncated character-string")
        i += 1 + n
    return strs


def quote_txt(s):
    """dig's presentation of one character-string (bytes)."""
    out = []
    for c in s:
        ch = chr(c)
        if ch in "\"\\":
            out.append("\\" + ch)
        elif 0x20 <= c <= 0x7E:
            out.append(ch)
        else:
            out.append("\\%03d" % c)
    return '"' + "".join(out) + '"'


class RR:
    """One resource record. name keeps the case found on the wire."""

    def __init__(self, name, rtype, rclass, ttl, rdata, text, fields=None):
        self.name = name
        self.type = rtype
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata
        self.text = text
        self.fields = fields

    @property
    def tname(self):
        return type_name(self.type)

    def __repr__(self):
        return "%s %d %s %s %s" % (self.name, self.ttl,
                                   CLASS_NAMES.get(self.rclass, self.rclass),
                                   self.tname, self.text)


def _rdata_text(msg, rtype, off, rdlen):
    rdata = msg[off:off + rdlen]
    if rtype == 1 and rdlen == 4:
        return str(ipaddress.IPv4Address(rdata)), None
    if rtype == 28 and rdlen == 16:
        return str(ipaddress.IPv6Address(rdata)), None
    if rtype in (2, 5, 12):
        name, _ = decode_name(msg, off)
        return name, name
    if rtype == 15:
        pref = struct.unpack("!H", rdata[:2])[0]
        name, _ = decode_name(msg, off + 2)
        return "%d %s" % (pref, name), (pref, name)
    if rtype == 6:
        mname, o = decode_name(msg, off)
        rname, o = decode_name(msg, o)
        nums = struct.unpack("!IIIII", msg[o:o + 20])
        return "%s %s %s" % (mname, rname, " ".join(map(str, nums))), \
            (mname, rname) + nums
    if rtype in (13, 16):
        strs = _char_strings(rdata)
        return " ".join(quote_txt(s) for s in strs), strs
    return "\\# %d %s" % (rdlen, rdata.hex()), None


def _opt_codes(data):
    """Option codes in OPT rdata, in order."""
    codes = []
    i = 0
    while i + 4 <= len(data):
        code, n = struct.unpack("!HH", data[i:i + 4])
        codes.append(code)
        i += 4 + n
    return codes


class Message:
    """A parsed DNS message. rcode includes the EDNS extended bits."""

    def __init__(self, data):
        if len(data) < 12:
            raise ValueError("message shorter than a header (%d)" % len(data))
        self.raw = data
        self.size = len(data)
        (self.id, flags, qd, an, ns, ar) = struct.unpack("!HHHHHH", data[:12])
        self.flags_word = flags
        self.qr = bool(flags & 0x8000)
        self.opcode = (flags >> 11) & 0xF
        self.aa = bool(flags & 0x0400)
        self.tc = bool(flags & 0x0200)
        self.rd = bool(flags & 0x0100)
        self.ra = bool(flags & 0x0080)
        self.z = bool(flags & 0x0040)
        self.ad = bool(flags & 0x0020)
        self.cd = bool(flags & 0x0010)
        self.header_rcode = flags & 0xF
        self.counts = (qd, an, ns, ar)
        off = 12
        self.question = []
        for _ in range(qd):
            name, off = decode_name(data, off)
            if off + 4 > len(data):
                raise ValueError("truncated question")
            qt, qc = struct.unpack("!HH", data[off:off + 4])
            off += 4
            self.question.append((name, qt, qc))
        self.answer, off = self._rrs(data, off, an)
        self.authority, off = self._rrs(data, off, ns)
        additional, off = self._rrs(data, off, ar)
        self.trailing = len(data) - off
        self.opt = None
        self.nopt = 0
        self.additional = []
        for rr in additional:
            if rr.type == 41:
                self.nopt += 1
                self.opt = {
                    "owner": rr.name,
                    "payload": rr.rclass,
                    "ext_rcode": (rr.ttl >> 24) & 0xFF,
                    "version": (rr.ttl >> 16) & 0xFF,
                    "do": bool(rr.ttl & 0x8000),
                    "flags": rr.ttl & 0xFFFF,
                    "options": rr.rdata,
                    "codes": _opt_codes(rr.rdata),
                }
            else:
                self.additional.append(rr)
        self.rcode = self.header_rcode
        if self.opt is not None:
            self.rcode |= self.opt["ext_rcode"] << 4

    @staticmethod
    def _rrs(data, off, count):
        rrs = []
        for _ in range(count):
            name, off = decode_name(data, off)
            if off + 10 > len(data):
                raise ValueError("truncated RR header")
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
            off += 10
            if off + rdlen > len(data):
                raise ValueError("truncated rdata")
            text, fields = _rdata_text(data, rtype, off, rdlen)
            rrs.append(RR(name, rtype, rclass, ttl, data[off:off + rdlen], text, fields))
            off += rdlen
        return rrs, off

    @property
    def rcode_name(self):
        return rcode_name(self.rcode)

    def rrs(self, section="answer", rtype=None, name=None):
        out = getattr(self, section)
        if rtype is not None:
            out = [rr for rr in out if rr.type == type_code(rtype)]
        if name is not None:
            out = [rr for rr in out if rr.name.lower() == fqdn(name).lower()]
        return out

    def texts(self, section="answer", rtype=None, name=None):
        """Sorted rdata texts of the matching RRs."""
        return sorted(rr.text for rr in self.rrs(section, rtype, name))

    def summary(self):
        lines = ["id %d opcode %s rcode %s flags%s size %d" % (
            self.id, OPCODES.get(self.opcode, self.opcode), self.rcode_name,
            "".join(" " + f for f in ("qr", "aa", "tc", "rd", "ra", "ad", "cd")
                    if getattr(self, f)), self.size)]
        for q in self.question:
            lines.append(";%s %s %s" % (q[0], CLASS_NAMES.get(q[2], q[2]), type_name(q[1])))
        for sec in ("answer", "authority", "additional"):
            for rr in getattr(self, sec):
                lines.append("%s: %r" % (sec, rr))
        if self.opt is not None:
            lines.append("opt: %r" % self.opt)
        return "\n".join(lines)

    def __repr__(self):
        return self.summary()


def parse_message(data):
    return Message(data)


def fqdn(name):
    return name if name.endswith(".") else name + "."


# ---------------------------------------------------------------------------
# sockets

def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_exchange(payload, host, port, timeout=2.0, src=None):
    """Send one datagram, return the first reply's bytes or None on timeout.

    Replies whose ID differs from the query's are skipped (bounded)."""
    fam = family_of(host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        if src:
            s.bind((src, 0))
        s.settimeout(bound(timeout))
        s.sendto(payload, (host, port))
        deadline = time.monotonic() + bound(timeout)
        for _ in range(16):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return None
            if len(payload) < 2 or len(data) < 2 or data[:2] == payload[:2]:
                return data
        return None
    finally:
        s.close()


def tcp_connect(host, port, timeout=2.0, src=None):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(bound(timeout))
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def frame(msg):
    """RFC 1035 4.2.2 length prefix."""
    return struct.pack("!H", len(msg)) + msg


def recv_exact(s, n, deadline):
    """n bytes, or fewer if the peer closed or the deadline passed."""
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_read_msgs(s, count, timeout=3.0):
    """Read up to count length-prefixed messages. Returns a list of bytes."""
    deadline = time.monotonic() + bound(timeout)
    out = []
    for _ in range(count):
        hdr = recv_exact(s, 2, deadline)
        if len(hdr) < 2:
            break
        n = struct.unpack("!H", hdr)[0]
        body = recv_exact(s, n, deadline)
        if len(body) < n:
            break
        out.append(body)
    return out


def http_request(port, path, method="GET", headers=None, body=None, timeout=3,
                 host="127.0.0.1"):
    """One HTTP/1.1 request: (status, headers dict lower-case, body bytes),
    or (None, {}, why) when the connection or the response fails."""
    conn = http.client.HTTPConnection(host, port, timeout=bound(timeout))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException) as e:
        return None, {}, str(e).encode()
    finally:
        conn.close()


def tcp_exchange(payload, host, port, timeout=3.0, src=None):
    """One query over a new TCP connection; the reply's bytes or None."""
    try:
        s = tcp_connect(host, port, timeout, src)
    except OSError:
        return None
    try:
        s.sendall(frame(payload))
        msgs = tcp_read_msgs(s, 1, timeout)
        return msgs[0] if msgs else None
    except OSError:
        return None
    finally:
        s.close()


def wait_closed(s, timeout):
    """Wait until the peer closes s (EOF or reset). Returns (closed, data, secs).

    data is whatever arrived before the close."""
    start = time.monotonic()
    deadline = start + bound(timeout)
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, data, time.monotonic() - start
        s.settimeout(left)
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            return False, data, time.monotonic() - start
        except (ConnectionResetError, BrokenPipeError):
            return True, data, time.monotonic() - start
        if not chunk:
            return True, data, time.monotonic() - start
        data += chunk
        if len(data) > 1 << 20:
            return False, data, time.monotonic() - start


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port(hosts=("127.0.0.1",), attempts=200, taken=()):
    """A loopback port free for UDP and TCP on every host (then released),
    outside the kernel's ephemeral range. The kernel never hands such a
    port to an outgoing socket: not between this choice and the bind, not
    across a restart on the same port, and never to a client of the same
    user that sets SO_REUSEPORT, as dig does; such a client can otherwise
    be bound to the very port it queries and read its own query back. A
    race with another test remains possible: Daemon retries the start
    when the daemon reports EADDRINUSE."""
    lo, hi = _ephemeral_range()
    first, last = (10000, lo - 1) if lo > 11000 else (hi + 1, 65535)
    for _ in range(attempts):
        port = random.randint(first, last)
        if port in taken:
            continue
        held = []
        try:
            for host in hosts:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(family_of(host), kind)
                    held.append(s)
                    s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no free port in %d..%d" % (first, last))


# ---------------------------------------------------------------------------
# dig / kdig / drill output

class DigReply:
    """What dig (or kdig, drill) printed, parsed.

    status, id, opcode: from the HEADER line; flags: set of flag words;
    counts: dict QUERY/ANSWER/AUTHORITY/ADDITIONAL; question: list of
    (name, class, type); answer/authority/additional: list of DigRR;
    edns: None or dict(version, udp, flags); text: the raw output."""

    def __init__(self, text, returncode, argv):
        self.text = text
        self.returncode = returncode
        self.argv = argv
        self.status = None
        self.id = None
        self.opcode = None
        self.flags = set()
        self.counts = {}
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.edns = None
        self._parse(text)

    def _parse(self, text):
        section = None
        for line in text.splitlines():
            s = line.strip()
            if not s:
                continue
            m = re.search(r"->>HEADER<<-\s+opcode:\s*(\w+)[,;]\s*(?:status|rcode):\s*(\w+)[,;]\s*id:\s*(\d+)", s)
            if m:
                if self.status is not None:
                    # A second message (dig retrying over TCP): keep the last.
                    self.__init_sections()
                self.opcode, self.status, self.id = m.group(1), m.group(2), int(m.group(3))
                continue
            m = re.match(r";;\s*[Ff]lags:\s*([a-z ]*?)\s*;\s*QUERY:\s*(\d+)[,;]\s*ANSWER:\s*(\d+)[,;]\s*AUTHORITY:\s*(\d+)[,;]\s*ADDITIONAL:\s*(\d+)", s)
            if m:
                self.flags = set(m.group(1).split())
                self.counts = {"QUERY": int(m.group(2)), "ANSWER": int(m.group(3)),
                               "AUTHORITY": int(m.group(4)), "ADDITIONAL": int(m.group(5))}
                continue
            m = re.match(r";\s*EDNS:\s*version:\s*(\d+),\s*flags:\s*([^;]*);\s*udp:\s*(\d+)", s)
            if m:   # dig
                self.edns = {"version": int(m.group(1)), "flags": m.group(2).split(),
                             "udp": int(m.group(3))}
                continue
            m = re.match(r";;\s*Version:\s*(\d+);\s*flags:\s*([^;]*);\s*UDP size:\s*(\d+)", s)
            if m:   # kdig
                self.edns = {"version": int(m.group(1)), "flags": m.group(2).split(),
                             "udp": int(m.group(3))}
                continue
            m = re.match(r";;\s*(QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", s)
            if m:
                section = m.group(1).lower()
                continue
            if section == "question":
                q = s.lstrip(";").split()
                if len(q) >= 3:
                    self.question.append((q[0], q[-2], q[-1]))
                continue
            if s.startswith(";"):
                continue
            if section in ("answer", "authority", "additional"):
                rr = DigRR.parse(s)
                if rr is not None:
                    getattr(self, section).append(rr)

    def __init_sections(self):
        self.flags = set()
        self.counts = {}
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.edns = None

    @property
    def answered(self):
        return self.status is not None

    def rrs(self, section="answer", rtype=None, name=None):
        out = getattr(self, section)
        if rtype is not None:
            out = [rr for rr in out if rr.type == rtype.upper()]
        if name is not None:
            out = [rr for rr in out if rr.name.lower() == fqdn(name).lower()]
        return out

    def texts(self, section="answer", rtype=None, name=None):
        return sorted(rr.rdata for rr in self.rrs(section, rtype, name))

    def __repr__(self):
        return "$ %s\n%s" % (" ".join(self.argv), self.text)


class DigRR:
    def __init__(self, name, ttl, rclass, rtype, rdata):
        self.name = name
        self.ttl = ttl
        self.rclass = rclass
        self.type = rtype
        self.rdata = rdata

    @classmethod
    def parse(cls, line):
        parts = line.split(None, 4)
        if len(parts) < 4:
            return None
        try:
            ttl = int(parts[1])
        except ValueError:
            return None
        rdata = parts[4].strip() if len(parts) > 4 else ""
        # kdig and drill separate with tabs and pad names; normalise spaces
        # outside quotes so that rdata compares across tools.
        rdata = _squeeze(rdata)
        return cls(parts[0], ttl, parts[2], parts[3], rdata)

    def __repr__(self):
        return "%s %d %s %s %s" % (self.name, self.ttl, self.rclass, self.type, self.rdata)


def _squeeze(s):
    out = []
    inq = False
    esc = False
    prev_space = False
    for ch in s:
        if inq:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                inq = False
            continue
        if ch == '"':
            inq = True
            out.append(ch)
            prev_space = False
        elif ch.isspace():
            if not prev_space:
                out.append(" ")
            prev_space = True
        else:
            out.append(ch)
            prev_space = False
    return "".join(out).strip()


def _run_tool(argv, timeout):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.stdout.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return out + "\n(harness: %s timed out)" % argv[0], -1


# ---------------------------------------------------------------------------
# the daemon

_DAEMONS = []


def stop_all(t=None):
    for d in list(_DAEMONS):
        try:
            d.stop()
        except Exception:  # cleanup must go on
            pass


atexit.register(stop_all)


class StartError(Exception):
    pass


class Process:
    """What Daemon and simharness.ArcSim share: a child process with a log
    file (self.proc, self.log, self.t, self.exit_code; LABEL names it in
    diagnostics)."""

    LABEL = "process"
    DUMP_LINES = 200

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dump_log(self, limit=None):
        lines = self.log_text().splitlines()
        self.t.diag("---- %s log (%s, %d lines) ----" % (self.LABEL, self.log, len(lines)))
        for line in lines[-(limit or self.DUMP_LINES):]:
            self.t.diag(line)
        self.t.diag("---- end of log ----")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout):
        """Wait for the process to exit; its status or None after timeout."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=bound(timeout))
        except subprocess.TimeoutExpired:
            return None

    def _reap(self):
        """TERM, then KILL after 5 s; the exit status in self.exit_code."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.exit_code = self.proc.wait(timeout=bound(5))
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.exit_code = self.proc.wait(timeout=bound(5))
        else:
            self.exit_code = self.proc.returncode


class Daemon(Process):
    """One arcdnsd on loopback, configured from tests/data/<template>.

    Template placeholders (replaced before writing <tmp>/arcdns.yaml):
      @LISTEN@   YAML flow list of listen addresses (127.0.0.1 and, with
                 ipv6=True, [::1], on one free_port())
      @PORT@     the port number
      @DIR@      the temporary directory
      @SERVER@   extra `server:` keys from server={key: value}, 2-space indent
      @NAME@     any key of vars={...}
    Zone files named by `file:` lines are copied from tests/data.
    """

    LABEL = "arcdnsd"

    def __init__(self, t, template, server=None, vars=None, ipv6=False,
                 files=(), name=None, ready_timeout=10.0):
        self.t = t
        self.template = template
        self.server = dict(server or {})
        self.vars = dict(vars or {})
        self.ipv6 = ipv6
        self.files = list(files)
        self.name = name or template.split(".")[0]
        self.ready_timeout = ready_timeout
        self.dir = None
        self.conf = None
        self.log = None
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.exit_code = None
        self.fail_mark = t.failed
        self.ready_line = None

    # -- configuration --------------------------------------------------
    def render(self, template_text=None):
        text = template_text
        if text is None:
            with open(os.path.join(DATA_DIR, self.template)) as f:
                text = f.read()
        listen = ['"127.0.0.1:%d"' % self.port]
        if self.ipv6:
            listen.append('"[::1]:%d"' % self.port)
        subst = {
            "LISTEN": "[" + ", ".join(listen) + "]",
            "PORT": str(self.port),
            "DIR": self.dir,
            "SERVER": "".join("  %s: %s\n" % (k, str(v).replace("@DIR@", self.dir))
                              for k, v in self.server.items()),
        }
        subst.update({k: str(v) for k, v in self.vars.items()})

        def rep(m):
            key = m.group(1)
            if key not in subst:
                raise KeyError("template %s: no value for @%s@" % (self.template, key))
            return subst[key]
        return re.sub(r"@([A-Z0-9_]+)@", rep, text)

    def copy_data(self, name, dest=None):
        shutil.copy(os.path.join(DATA_DIR, name), os.path.join(self.dir, dest or name))

    def write(self, name, text):
        """Write a file in the daemon's directory (atomically)."""
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, path)
        return path

    def read_data(self, name):
        with open(os.path.join(DATA_DIR, name)) as f:
            return f.read()

    def _prepare(self):
        self.dir = tempfile.mkdtemp(prefix="arcdns-%s-" % self.name)
        self.conf = os.path.join(self.dir, "arcdns.yaml")
        self.log = os.path.join(self.dir, "arcdnsd.log")

    def _write_conf(self):
        text = self.render()
        with open(self.conf, "w") as f:
            f.write(text)
        for fname in re.findall(r"^\s*-?\s*file:\s*\"?([^\s\"#]+)", text, re.M):
            src = os.path.join(DATA_DIR, fname)
            if os.path.exists(src) and not os.path.exists(os.path.join(self.dir, fname)):
                shutil.copy(src, os.path.join(self.dir, fname))
        for fname in self.files:
            self.copy_data(fname)

    # -- process --------------------------------------------------------
    def start(self, attempts=4):
        """Start and wait for `ready:`. Raises StartError on failure."""
        if self.dir is None:
            self._prepare()
        hosts = ("127.0.0.1", "::1") if self.ipv6 else ("127.0.0.1",)
        last = ""
        for _ in range(attempts):
            self.port = free_port(hosts)
            self._write_conf()
            mark = len(self.log_text())
            ok, why = self._spawn_and_wait(mark)
            if ok:
                return self
            last = why
            self._reap()
            if "in use" not in self.log_text()[mark:].lower():
                break   # not a port race: do not retry
        self.t.diag("arcdnsd failed to start: %s" % last)
        self.dump_log()
        raise StartError("arcdnsd did not become ready: %s" % last)

    def _spawn_and_wait(self, mark=0):
        cmd = TEST_RUNNER + [ARCDNSD, "-f", "-c", self.conf]
        with open(self.log, "ab") as logf:
            logf.write(("harness: $ %s\n" % " ".join(cmd)).encode())
            logf.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, cwd=self.dir, close_fds=True)
        self.exit_code = None
        if self not in _DAEMONS:
            _DAEMONS.append(self)
        self.fail_mark = self.t.failed
        line = self.wait_log(r"ready:", self.ready_timeout, start_at=mark)
        if line is not None:
            self.ready_line = line
            return True, ""
        if self.proc.poll() is not None:
            return False, "exited with status %s before ready" % self.proc.returncode
        return False, "no `ready:` line within %.0f s" % bound(self.ready_timeout)

    def wait_log(self, pattern, timeout, start_at=0):
        """Poll the log for a line matching pattern (regex), from byte
        offset start_at. Returns the line or None after the bound or when
        the process has exited and the line is not there."""
        deadline = time.monotonic() + bound(timeout)
        rx = re.compile(pattern)
        while True:
            text = self.log_text()[start_at:]
            for line in text.splitlines():
                if rx.search(line):
                    return line
            if self.proc is None or self.proc.poll() is not None:
                # one last read: the process may have written before exiting
                text = self.log_text()[start_at:]
                for line in text.splitlines():
                    if rx.search(line):
                        return line
                return None
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def stop(self):
        """TERM, then KILL by PID; dump the log when a check failed while
        this daemon ran; remove the directory unless ARCDNS_TEST_KEEP."""
        if self in _DAEMONS:
            _DAEMONS.remove(self)
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

    # -- queries --------------------------------------------------------
    def query(self, qname, qtype="A", qclass="IN", host=None, src=None, tcp=False,
              timeout=2.0, **kw):
        """One query built by build_query(); a Message, or None without a
        reply. Raises ValueError if the reply does not parse."""
        payload = build_query(qname, qtype, qclass, **kw)
        return self.send(payload, host=host, src=src, tcp=tcp, timeout=timeout)

    def send(self, payload, host=None, src=None, tcp=False, timeout=2.0):
        host = host or self.host
        if tcp:
            data = tcp_exchange(payload, host, self.port, timeout, src)
        else:
            data = udp_exchange(payload, host, self.port, timeout, src)
        if data is None:
            return None
        return Message(data)

    def send_raw(self, payload, host=None, src=None, timeout=1.0):
        """UDP; the reply bytes or None."""
        return udp_exchange(payload, host or self.host, self.port, timeout, src)

    def dig(self, *args, host=None, timeout=2):
        """dig with sections and comments; args are names, types, options."""
        if DIG is None:
            return None
        argv = [DIG, "@" + (host or self.host), "-p", str(self.port),
                "+noall", "+comments", "+question", "+answer", "+authority",
                "+additional", "+time=%d" % max(1, int(bound(timeout))), "+tries=1"]
        argv += list(args)
        text, rc = _run_tool(argv, bound(timeout) * 3 + 5)
        return DigReply(text, rc, argv)

    def kdig(self, *args, host=None, timeout=2):
        if KDIG is None:
            return None
        argv = [KDIG, "@" + (host or self.host), "-p", str(self.port),
                "+timeout=%d" % max(1, int(bound(timeout))), "+retry=0"]
        argv += list(args)
        text, rc = _run_tool(argv, bound(timeout) * 3 + 5)
        return DigReply(text, rc, argv)

    def drill(self, *args, host=None, timeout=2):
        if DRILL is None:
            return None
        argv = [DRILL, "-p", str(self.port)] + list(args) + ["@" + (host or self.host)]
        text, rc = _run_tool(argv, bound(timeout) * 3 + 5)
        return DigReply(text, rc, argv)

    def check_alive(self, what, name="www.example.test", expect="192.0.2.10"):
        """Assert the process runs and a normal UDP query still answers."""
        t = self.t
        m = None
        try:
            m = self.query(name, "A", edns=1232)
        except ValueError as e:
            return t.ok(False, "still answering after %s" % what, "unparsable reply: %s" % e)
        good = (self.alive() and m is not None and m.rcode == 0 and
                expect in m.texts("answer", "A"))
        return t.ok(good, "still answering after %s" % what,
                    "alive=%s reply=%r" % (self.alive(), m))


def arcdnsd_version():
    """The version from `arcdnsd -V` ("arcdnsd 0.1.0" -> "0.1.0"), or None."""
    try:
        p = subprocess.run([ARCDNSD, "-V"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"arcdnsd (\S+)", p.stdout.decode("utf-8", "replace"))
    return m.group(1) if m else None


def run_check(conf, timeout=20):
    """`arcdnsd -t -c conf`: (status, stdout, stderr)."""
    p = subprocess.run([ARCDNSD, "-t", "-c", conf], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=bound(timeout))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
