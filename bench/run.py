#!/usr/bin/python3
"""arcdns benchmark: arcdnsd against NSD, Knot DNS and gdnsd under dnsperf.

    bench/run.py [--quick] [options]        (see --help and bench/README.md)

Every server serves the same zone (bench/gen.py) on its own loopback port
with one worker pinned to CPU 0; dnsperf runs pinned to CPU 1.  For each
of N interleaved rounds (A B C D, D C B A, ...) and each server:

  1. warm-up   short unthrottled dnsperf run, not recorded
  2. max QPS   unthrottled dnsperf run: QPS, latency, rcodes (skipped
               with --cpu-only)
  3. fixed     dnsperf -Q RATE: the server's CPU time (run time of every
               thread of its process tree, /proc/PID/task/TID/schedstat)
               before and after, CPU-us per query = delta / queries
               completed; per-query latencies (dnsperf -v) give p50/p99
               at that load.

The report gives medians, and per peer the median of the per-round
ratios arcdnsd/peer with a distribution-free 95 % interval.

Then memory: each server is started once more on the bench zone and once
on a big zone (the bench zone plus --memory-names hosts), and its PSS (all
its processes) is read after the first answer: MB, bytes per added record,
load time, and the ratios arcdnsd/peer.

Before measuring, every distinct query of the mix is sent once to every
server and checked (rcode, AA, answer/SOA presence) and the answers are
compared across servers.

Only the Python standard library is used.  Timed figures are printed, never
asserted: this is not part of `make check`.
"""

import argparse
import atexit
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
ORIGIN = "bench.example."
CLK_TCK = os.sysconf("SC_CLK_TCK")
PEERS = ["nsd", "knot", "gdnsd"]
ALL_SERVERS = ["arcdnsd"] + PEERS

# --------------------------------------------------------------------------
# process bookkeeping: everything we start is stopped by PID on exit

STARTED = []        # list of subprocess.Popen
WORKDIR = None
KEEP = False


def descendants(pid):
    """PIDs of pid and all its descendants (from /proc)."""
    children = {}
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(ent))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def stop_proc(p, timeout=5.0):
    if p.poll() is not None:
        return
    tree = descendants(p.pid)
    try:
        p.send_signal(signal.SIGTERM)
    except OSError:
        pass
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    for pid in tree:                 # anything left of ours: SIGKILL by PID
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        p.wait(2)
    except subprocess.TimeoutExpired:
        pass


def cleanup():
    while STARTED:
        stop_proc(STARTED.pop())
    if WORKDIR and not KEEP and os.path.isdir(WORKDIR):
        shutil.rmtree(WORKDIR, ignore_errors=True)


def on_signal(signum, frame):
    cleanup()
    sys.exit(128 + signum)


# --------------------------------------------------------------------------
# small DNS client (UDP), enough to check answers

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "OPT": 41}
TYPENAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def make_query(qid, name, qtype, edns):
    hdr = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1 if edns else 0)
    q = hdr + encode_name(name) + struct.pack("!HH", TYPES[qtype], 1)
    if edns:
        q += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return q


def read_name(msg, off):
    labels, jumped, end, hops = [], False, off, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumped = True
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n
    if not jumped:
        end = off
    return ".".join(labels) + ".", end


def parse_rr(msg, off):
    owner, off = read_name(msg, off)
    rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
    off += 10
    rd = msg[off:off + rdlen]
    tname = TYPENAMES.get(rtype, str(rtype))
    if rtype in (2, 5):
        rdata = read_name(msg, off)[0]
    elif rtype == 15:
        rdata = "%d %s" % (struct.unpack("!H", rd[:2])[0],
                           read_name(msg, off + 2)[0])
    elif rtype == 6:
        mname, o = read_name(msg, off)
        rname, o = read_name(msg, o)
        rdata = "%s %s %s" % (mname, rname,
                              " ".join(str(x) for x in
                                       struct.unpack("!IIIII", msg[o:o + 20])))
    elif rtype == 1 and rdlen == 4:
        rdata = socket.inet_ntop(socket.AF_INET, rd)
    elif rtype == 28 and rdlen == 16:
        rdata = socket.inet_ntop(socket.AF_INET6, rd)
    else:
        rdata = rd.hex()
    return (owner, tname, ttl, rdata), off + rdlen


def parse_response(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    secs = []
    for count in (an, ns):
        rrs = []
        for _ in range(count):
            rr, off = parse_rr(msg, off)
            rrs.append(rr)
        secs.append(rrs)
    return {"id": qid, "rcode": RCODES.get(flags & 15, str(flags & 15)),
            "aa": bool(flags & 0x0400), "tc": bool(flags & 0x0200),
            "answer": sorted(secs[0]),
            "authority": sorted(rr for rr in secs[1] if rr[1] == "SOA")}


def query(port, name, qtype, edns, timeout=1.0, tries=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        for i in range(tries):
            qid = (os.getpid() + i * 7919 + hash(name)) & 0xFFFF
            s.sendto(make_query(qid, name, qtype, edns), ("127.0.0.1", port))
            try:
                while True:
                    data = s.recv(65535)
                    if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                        return parse_response(data)
            except socket.timeout:
                continue
    finally:
        s.close()
    return None


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


# --------------------------------------------------------------------------
# servers

def run_out(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        return r.stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)


class Server:
    name = "?"
    binary = None

    def __init__(self, workdir, zonefile):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir)
        self.zonefile = zonefile
        self.port = None
        self.proc = None
        self.log = os.path.join(self.dir, "server.log")

    def available(self):
        return self.binary and os.access(self.binary, os.X_OK)

    def version(self):
        return "?"

    def setup(self, port):
        """Write config into self.dir; return argv."""
        raise NotImplementedError

    def start(self, cpu, timeout):
        self.port = free_port()
        argv = self.setup(self.port)
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=logf,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        STARTED.append(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            r = query(self.port, ORIGIN, "SOA", False, timeout=0.2, tries=1)
            if r is not None and r["rcode"] == "NOERROR" and r["answer"]:
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not answer SOA on port %d within %ds:\n%s"
                           % (self.name, self.port, timeout, self.log_tail()))

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc)
            if self.proc in STARTED:
                STARTED.remove(self.proc)

    def log_tail(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def cpu_seconds(self):
        """utime+stime (+ reaped children) of the process tree, seconds."""
        return sum(self.cpu_split())

    def cpu_split(self):
        """(user, system) seconds of the process tree."""
        user = system = 0
        for pid in descendants(self.proc.pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            # fields[0] is field 3 (state); utime=14 stime=15 cutime=16 cstime=17
            user += int(fields[11]) + int(fields[13])
            system += int(fields[12]) + int(fields[14])
        return (user / CLK_TCK, system / CLK_TCK)


    def cpu_ns(self):
        """CPU time of every thread of the process tree in ns, from
        /proc/PID/task/TID/schedstat (the run time utime+stime are scaled
        to, without the 1/CLK_TCK rounding; IRQ time is left out of both
        when the kernel accounts it separately).  None when unavailable."""
        total, seen = 0, False
        for pid in descendants(self.proc.pid):
            try:
                tids = os.listdir("/proc/%d/task" % pid)
            except OSError:
                continue
            for tid in tids:
                try:
                    with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                        total += int(f.read().split()[0])
                        seen = True
                except (OSError, ValueError, IndexError):
                    continue
        return total if seen else None


class Arcdnsd(Server):
    name = "arcdnsd"

    def __init__(self, workdir, zonefile, binary):
        self.binary = binary
        super().__init__(workdir, zonefile)

    def version(self):
        return run_out([self.binary, "-V"]).strip().splitlines()[0] \
            if self.available() else "not built"

    def setup(self, port):
        shutil.copy(self.zonefile, os.path.join(self.dir, "bench.zone"))
        conf = os.path.join(self.dir, "arcdns.yaml")
        with open(conf, "w") as f:
            f.write("server:\n"
                    "  listen: [\"127.0.0.1:%d\"]\n"
                    "  workers: 1\n"
                    "  log: {level: warn}\n"
                    "zones:\n"
                    "  - id: bench\n"
                    "    origin: %s\n"
                    "    file: bench.zone\n" % (port, ORIGIN))
        return [self.binary, "-c", conf, "-f"]


class Nsd(Server):
    name = "nsd"
    binary = shutil.which("nsd") or "/usr/sbin/nsd"

    def version(self):
        m = re.search(r"NSD version (\S+)", run_out([self.binary, "-v"]))
        return "NSD " + (m.group(1) if m else "?")

    def setup(self, port):
        d = self.dir
        shutil.copy(self.zonefile, os.path.join(d, "bench.zone"))
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    server-count: 1
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    zonelistfile: "{d}/zone.list"
    database: ""
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    verbosity: 0
    # Debian's NSD rate-limits (RRL) by default: off for a benchmark
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    # like Knot, gdnsd and arcdnsd: no NS/glue added to positive answers
    minimal-responses: yes
remote-control:
    control-enable: no
zone:
    name: {origin}
    zonefile: bench.zone
""".format(port=port, d=d, origin=ORIGIN))
        return [self.binary, "-d", "-c", conf]


class Knot(Server):
    name = "knot"
    binary = shutil.which("knotd") or "/usr/sbin/knotd"

    def version(self):
        m = re.search(r"version (\S+)", run_out([self.binary, "-V"]))
        return "Knot DNS " + (m.group(1) if m else "?")

    def setup(self, port):
        d = self.dir
        shutil.copy(self.zonefile, os.path.join(d, "bench.zone"))
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        conf = os.path.join(d, "knot.conf")
        with open(conf, "w") as f:
            f.write("""server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "{d}/db"
# no mod-rrl configured: Knot does no rate limiting
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: {origin}
    file: "{d}/bench.zone"
""".format(port=port, d=d, origin=ORIGIN))
        return [self.binary, "-c", conf]


class Gdnsd(Server):
    name = "gdnsd"
    binary = shutil.which("gdnsd") or "/usr/sbin/gdnsd"

    def version(self):
        m = re.search(r"gdnsd version (\S+)", run_out([self.binary, "-h"]))
        return "gdnsd " + (m.group(1) if m else "?")

    def setup(self, port):
        d = self.dir
        for sub in ("etc/zones", "run", "state"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        shutil.copy(self.zonefile, os.path.join(d, "etc/zones", ORIGIN[:-1]))
        with open(os.path.join(d, "etc/config"), "w") as f:
            f.write("""# gdnsd has no response rate limiting
options => {{
    listen => [ 127.0.0.1:{port} ]
    udp_threads => 1
    tcp_threads => 1
    run_dir => {d}/run
    state_dir => {d}/state
}}
""".format(port=port, d=d))
        return [self.binary, "-c", os.path.join(d, "etc"), "start"]


# --------------------------------------------------------------------------
# checking answers

def load_expect(path):
    out = []
    with open(path) as f:
        for line in f:
            rcode, kind, name, qtype = line.split()
            out.append((rcode, kind, name, qtype))
    return out


def check_server(srv, uniq, edns):
    """Query every distinct (name, type); return (answers, problems)."""
    answers, problems = {}, []
    for (rcode, kind, name, qtype) in uniq:
        r = query(srv.port, name, qtype, edns)
        answers[(name, qtype)] = r
        if r is None:
            problems.append("%s %s: no response" % (name, qtype))
            continue
        why = []
        if r["rcode"] != rcode:
            why.append("rcode %s, expected %s" % (r["rcode"], rcode))
        if not r["aa"]:
            why.append("AA not set")
        if kind in ("answer", "cname", "wildcard"):
            if not r["answer"]:
                why.append("empty answer")
            elif kind == "cname" and not any(rr[1] == "CNAME" for rr in r["answer"]):
                why.append("no CNAME in answer")
            elif kind != "cname" and not any(rr[1] == qtype for rr in r["answer"]):
                why.append("no %s in answer" % qtype)
        else:
            if r["answer"]:
                why.append("non-empty answer")
            if not r["authority"]:
                why.append("no SOA in authority")
        if why:
            problems.append("%s %s (%s): %s" % (name, qtype, kind, "; ".join(why)))
    return answers, problems


def show_canon(c):
    if c is None:
        return "(no response / no majority)"
    rcode, answer, auth = c
    rrs = ["%s %s %d %s" % (rr[0], rr[1], rr[2], rr[3]) for rr in answer]
    rrs += ["auth %s %s %d" % (rr[0], rr[1], rr[2]) for rr in auth]
    return "%s [%s]" % (rcode, "; ".join(rrs))


def compare_answers(all_answers, uniq):
    """For each server, the queries where it disagrees with the majority."""
    diffs = {s: [] for s in all_answers}
    names = list(all_answers)
    for (rcode, kind, name, qtype) in uniq:
        key = (name, qtype)
        canon = {}
        for s in names:
            r = all_answers[s].get(key)
            canon[s] = None if r is None else (r["rcode"], tuple(r["answer"]),
                                               tuple(r["authority"]))
        counts = {}
        for s in names:
            counts[canon[s]] = counts.get(canon[s], 0) + 1
        best = max(counts.values())
        if best == len(names):
            continue
        majority = [c for c, n in counts.items() if n == best]
        for s in names:
            if canon[s] not in majority or len(majority) > 1:
                diffs[s].append((key, canon[s],
                                 majority[0] if len(majority) == 1 else None))
    return diffs


# --------------------------------------------------------------------------
# dnsperf

def dnsperf(port, datafile, seconds, opts, rate=None, verbose_to=None, cpu=1):
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", datafile,
            "-l", "%g" % seconds] + opts
    if rate:
        argv += ["-Q", str(rate)]
    if verbose_to:
        argv += ["-v"]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    out_f = open(verbose_to, "w") if verbose_to else subprocess.PIPE
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(argv, stdout=out_f, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    STARTED.append(p)
    try:
        out, err = p.communicate(timeout=seconds + 60)
    finally:
        if p in STARTED:
            STARTED.remove(p)
        if verbose_to:
            out_f.close()
    if verbose_to:
        if not os.path.exists(verbose_to):
            raise RuntimeError("dnsperf output %s vanished (status %s): %s" % (
                verbose_to, p.returncode, err.decode(errors="replace")[-1500:]))
        with open(verbose_to, errors="replace") as f:
            f.seek(max(0, os.path.getsize(verbose_to) - 4096))
            text = f.read()
    else:
        text = out.decode(errors="replace")
    res = parse_dnsperf(text)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res["client_cpu_s"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if p.returncode != 0 or "qps" not in res:
        raise RuntimeError("dnsperf failed (%s):\n%s%s" % (
            p.returncode, text[-1500:], err.decode(errors="replace")[-1500:]))
    return res


def parse_dnsperf(text):
    res = {}
    pats = {
        "sent": r"Queries sent:\s+(\d+)",
        "completed": r"Queries completed:\s+(\d+)",
        "lost": r"Queries lost:\s+(\d+)",
        "runtime": r"Run time \(s\):\s+([\d.]+)",
        "qps": r"Queries per second:\s+([\d.]+)",
        "lat_avg": r"Average Latency \(s\):\s+([\d.]+)",
        "lat_min": r"Average Latency \(s\):\s+[\d.]+ \(min ([\d.]+)",
        "lat_max": r"Average Latency \(s\):.*max ([\d.]+)\)",
        "lat_sd": r"Latency StdDev \(s\):\s+([\d.]+)",
    }
    for k, pat in pats.items():
        m = re.search(pat, text)
        if m:
            res[k] = float(m.group(1))
    m = re.search(r"Response codes:\s+(.*)", text)
    res["rcodes"] = {}
    if m:
        for code, n in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
            res["rcodes"][code] = int(n)
    return res


def parse_verbose(path, expect_map):
    """Latency percentiles and rcode mismatches from dnsperf -v output."""
    lats, wrong, examples = [], 0, []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("> "):
                continue
            parts = line.split()
            if len(parts) < 5:
                continue
            rcode, name, qtype, lat = parts[1], parts[2], parts[3], parts[4]
            try:
                lats.append(float(lat))
            except ValueError:
                continue
            exp = expect_map.get((name.lower(), qtype))
            if exp is not None and exp != rcode:
                wrong += 1
                if len(examples) < 3:
                    examples.append("%s %s: %s (expected %s)" % (name, qtype, rcode, exp))
    out = {"wrong_rcode": wrong, "wrong_examples": examples, "samples": len(lats)}
    if lats:
        lats.sort()
        n = len(lats)
        for p in (50, 99, 99.9):
            out["p%g" % p] = lats[min(n - 1, int(n * p / 100.0))]
    return out


def irq_time_accounting():
    """True when the kernel accounts IRQ and softirq time apart from the
    task that was running (CONFIG_IRQ_TIME_ACCOUNTING), False when that
    time is counted in the task's utime+stime, None when unknown."""
    import gzip
    for path, opener in (("/proc/config.gz", gzip.open),
                         ("/boot/config-" + platform.release(), open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_IRQ_TIME_ACCOUNTING=y"):
                        return True
            return False
        except OSError:
            continue
    return None


def cpu_ticks(cpu):
    """(task time, irq+softirq, steal) jiffies of one CPU from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                v = [int(x) for x in line.split()[1:]] + [0] * 10
                return (v[0] + v[1] + v[2], v[5] + v[6], v[7])
    return (0, 0, 0)


def wait_quiet(args):
    """Wait (up to args.quiet_wait s) until the machine has been nearly idle
    for a second: other users' builds and tests skew every figure."""
    if args.quiet_wait <= 0:
        return True
    deadline = time.monotonic() + args.quiet_wait
    told = False
    while True:
        a = [cpu_ticks(c) for c in range(os.cpu_count() or 1)]
        time.sleep(1.0)
        b = [cpu_ticks(c) for c in range(os.cpu_count() or 1)]
        busy = max(100.0 * ((y[0] + y[1]) - (x[0] + x[1])) / CLK_TCK
                   for x, y in zip(a, b))
        if busy <= args.max_noise:
            return True
        if time.monotonic() > deadline:
            print("bench:   machine still busy (%.0f%% of a CPU); measuring anyway"
                  % busy, flush=True)
            return False
        if not told:
            print("bench:   waiting for other load to stop (%.0f%% of a CPU busy)"
                  % busy, flush=True)
            told = True


def measure(srv, qfile, args, rate, scpu, ccpu, expect_map):
    """One dnsperf run (unthrottled if rate is None) with the server's CPU
    time and the per-CPU breakdown; retried while other load disturbs it."""
    best = None
    for attempt in range(1 + args.retries):
        wait_quiet(args)
        vfile = os.path.join(WORKDIR, "dnsperf-v.out") if rate else None
        s0, c0 = cpu_ticks(int(scpu or 0)), cpu_ticks(int(ccpu or 1))
        t0, u0, n0 = time.monotonic(), srv.cpu_split(), srv.cpu_ns()
        r = dnsperf(srv.port, qfile, args.duration, args.dnsperf_opts,
                    rate=rate, verbose_to=vfile, cpu=ccpu)
        n1, u1, t1 = srv.cpu_ns(), srv.cpu_split(), time.monotonic()
        k0, k1 = sum(u0), sum(u1)
        if n0 is not None and n1 is not None:
            k0, k1 = n0 / 1e9, n1 / 1e9     # same figure, ns resolution
        s1, c1 = cpu_ticks(int(scpu or 0)), cpu_ticks(int(ccpu or 1))
        if vfile:
            r.update(parse_verbose(vfile, expect_map))
            os.unlink(vfile)
        wall = t1 - t0
        n = r.get("completed") or 0
        r["attempt"] = attempt + 1
        r["cpu_s"] = k1 - k0
        r["cpu_us"] = 1e6 * (k1 - k0) / n if n else None
        r["usr_us"] = 1e6 * (u1[0] - u0[0]) / n if n else None
        r["cpu_util"] = 100.0 * (k1 - k0) / wall
        # softirq/irq time on the server's CPU (mostly loopback delivery of
        # the responses, done when the server sends): part of the task's
        # utime+stime unless the kernel accounts IRQ time apart
        r["sirq_us"] = 1e6 * (s1[1] - s0[1]) / CLK_TCK / n if n else None
        r["cpu0_other"] = max(0.0, 100.0 * ((s1[0] - s0[0]) / CLK_TCK
                                            - (k1 - k0)) / wall)
        r["cpu1_other"] = max(0.0, 100.0 * ((c1[0] - c0[0]) / CLK_TCK
                                            - r["client_cpu_s"]) / wall)
        r["steal"] = 100.0 * ((s1[2] - s0[2]) + (c1[2] - c0[2])) / CLK_TCK / wall
        noise = max(r["cpu0_other"], r["cpu1_other"])
        r["noise"] = noise
        if best is None or noise < best["noise"]:
            best = r
        if noise <= args.max_noise:
            break
        if attempt == args.retries:
            break
        print("bench:   %s %s run disturbed (other load %.0f%% on cpu0, %.0f%% "
              "on cpu1), retrying" % (srv.name, "fixed-rate" if rate else "max",
                                      r["cpu0_other"], r["cpu1_other"]),
              flush=True)
        time.sleep(args.retry_pause)
    return best


# --------------------------------------------------------------------------
# memory: what a server holds for a zone

def count_records(path):
    """Resource records in a zone file written one per line (gen.py's)."""
    n = 0
    with open(path) as f:
        for line in f:
            t = line.strip()
            if t and t[0] not in ";$":
                n += 1
    return n


def write_big_zone(base, path, names):
    """The bench zone plus `names` hosts h0000000..: an A each, an AAAA for
    six in ten and a TXT for one in ten (deterministic). Returns the
    number of records."""
    with open(base) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text)
        for i in range(names):
            f.write("h%07d 300 IN A 10.%d.%d.%d\n"
                    % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))
            if i % 10 < 6:
                f.write("h%07d 300 IN AAAA fd00::%x:%x\n" % (i, i >> 16, i & 0xffff))
            if i % 10 == 0:
                f.write('h%07d 300 IN TXT "id=%d"\n' % (i, i))
    return count_records(path)


def memory_of(srv):
    """(PSS, RSS, peak RSS) in KiB, summed over the server's processes.
    PSS charges pages shared between them (NSD's forked servers) once."""
    pss = rss = hwm = 0
    for pid in descendants(srv.proc.pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return pss, rss, hwm


def fresh(srv, workdir, zonefile):
    """A new, unstarted server of the same kind as srv."""
    if isinstance(srv, Arcdnsd):
        return Arcdnsd(workdir, zonefile, srv.binary)
    return type(srv)(workdir, zonefile)


def measure_memory(servers, small, big, scpu, settle=1.0, timeout=300):
    """Start each server on the small and on the big zone in turn: seconds
    from start to the first answer, then its memory once settled."""
    out = {}
    for srv in servers:
        row = {}
        for label, zf in (("small", small), ("big", big)):
            s = fresh(srv, os.path.join(WORKDIR, "mem-" + label), zf)
            t0 = time.monotonic()
            try:
                s.start(scpu, timeout)
            except RuntimeError as e:
                print("bench: memory: %s on the %s zone: %s" % (srv.name, label, e))
                s.stop()
                continue
            row[label + "_load_s"] = time.monotonic() - t0
            time.sleep(settle)
            pss, rss, hwm = memory_of(s)
            row[label + "_pss_kb"], row[label + "_rss_kb"] = pss, rss
            row[label + "_hwm_kb"] = hwm
            s.stop()
        out[srv.name] = row
        print("bench: memory %-8s bench zone PSS %s MB; big zone PSS %s MB, "
              "loaded in %s s" % (srv.name, fmt(row.get("small_pss_kb", 0) / 1024, ".1f"),
                                  fmt(row.get("big_pss_kb", 0) / 1024, ".1f"),
                                  fmt(row.get("big_load_s"), ".2f")), flush=True)
    return out


def print_memory(mem, meta):
    if not mem:
        return
    recs_small, recs_big = meta["mem_records"]
    print()
    print("memory: the bench zone (%s records) and a big zone (%s records, "
          "%s more names)" % (format(recs_small, ","), format(recs_big, ","),
                              format(meta["mem_names"], ",")))
    print("  PSS summed over the server's processes, after the first answer "
          "and %g s to settle;" % meta["mem_settle"])
    print("  load = start to the first answer; peak = VmHWM; B/rec = "
          "(big - bench PSS) / added records")
    cols = "%-8s %9s | %9s %9s %9s %8s %7s"
    print()
    print(cols % ("", "bench", "big", "big", "big", "load", ""))
    print(cols % ("server", "PSS MB", "PSS MB", "RSS MB", "peak MB", "s", "B/rec"))
    print("-" * 66)
    mb = lambda kb: None if kb is None else kb / 1024.0
    for name, r in mem.items():
        per = None
        if "big_pss_kb" in r and "small_pss_kb" in r and recs_big > recs_small:
            per = 1024.0 * (r["big_pss_kb"] - r["small_pss_kb"]) / (recs_big - recs_small)
        print(cols % (name, fmt(mb(r.get("small_pss_kb")), ".1f"),
                      fmt(mb(r.get("big_pss_kb")), ".1f"),
                      fmt(mb(r.get("big_rss_kb")), ".1f"),
                      fmt(mb(r.get("big_hwm_kb")), ".1f"),
                      fmt(r.get("big_load_s"), ".2f"), fmt(per, ".0f")))
    a = mem.get("arcdnsd", {})
    peers = [n for n in mem if n != "arcdnsd" and mem[n].get("big_pss_kb")]
    if a.get("big_pss_kb") and peers:
        print()
        print("arcdnsd / peer, big zone:  PSS  peak RSS  load time (lower is better)")
        for n in peers:
            r = mem[n]
            print("  arcdnsd/%-8s        %5s  %8s  %9s" % (
                n, fmt(ratio(a["big_pss_kb"], r["big_pss_kb"]), ".2f"),
                fmt(ratio(a.get("big_hwm_kb"), r.get("big_hwm_kb")), ".2f"),
                fmt(ratio(a.get("big_load_s"), r.get("big_load_s")), ".2f")))
        best = min(peers, key=lambda n: mem[n]["big_pss_kb"])
        print("  vs best peer (%s): PSS %s" % (
            best, fmt(ratio(a["big_pss_kb"], mem[best]["big_pss_kb"]), ".2f")))


# --------------------------------------------------------------------------
# profile: where a server's CPU time goes

PROFILE_CATEGORIES = [
    # (name, frames that put a sample there), checked in this order
    ("softirq", {"handle_softirqs", "__do_softirq", "do_softirq",
                 "net_rx_action"}),
    ("block", {"schedule", "__schedule", "schedule_timeout",
               "schedule_hrtimeout_range", "schedule_hrtimeout_range_clock"}),
    ("send", {"__x64_sys_sendmmsg", "__x64_sys_sendmsg", "__x64_sys_sendto"}),
    ("recv", {"__x64_sys_recvmmsg", "__x64_sys_recvmsg",
              "__x64_sys_recvfrom"}),
    ("poll", {"__x64_sys_epoll_wait", "__x64_sys_epoll_pwait",
              "__x64_sys_epoll_pwait2", "__x64_sys_ppoll", "__x64_sys_poll",
              "__x64_sys_select", "__x64_sys_pselect6"}),
]
PROFILE_SYSCALLS = ["recvmmsg", "sendmmsg", "recvmsg", "sendmsg", "recvfrom",
                    "sendto", "epoll_wait", "epoll_pwait", "ppoll"]


def classify_stacks(text):
    """Sample counts by category from `perf script` output (stacks)."""
    counts = {name: 0 for name, _ in PROFILE_CATEGORIES}
    counts.update({"kernel other": 0, "user": 0})
    frames, dsos = [], []

    def flush():
        if not frames:
            return
        for name, syms in PROFILE_CATEGORIES:
            if any(f in syms for f in frames):
                counts[name] += 1
                break
        else:
            top = dsos[0]
            counts["kernel other" if "kernel" in top else "user"] += 1

    for line in text.splitlines():
        if not line.strip():
            flush()
            frames, dsos = [], []
        elif line[0] in " \t":
            f = line.split()
            if len(f) >= 2:
                frames.append(f[1].split("+")[0])
                dsos.append(f[-1])
        else:
            flush()
            frames, dsos = [], []
    flush()
    return counts


def profile_server(srv, qfile, args, ccpu):
    """A fixed-rate run under `perf stat` (system calls and context
    switches per 1000 queries), then one under `perf record -g` (samples
    of every thread by where they fall)."""
    secs = max(3.0, args.duration)
    work = os.path.join(WORKDIR, "perf-%s" % srv.name)
    out = {}
    events = ["syscalls:sys_enter_%s" % c for c in PROFILE_SYSCALLS] + \
        ["context-switches"]
    for kind in ("stat", "record"):
        if kind == "stat":
            argv = ["perf", "stat", "-x", ",", "-o", work + ".stat", "-D",
                    "1000", "-e", ",".join(events)]
        else:
            argv = ["perf", "record", "-q", "-g", "-o", work + ".data", "-D",
                    "1000"]
        # every process of the server: NSD answers in a forked child
        argv += ["-p", ",".join(str(x) for x in descendants(srv.proc.pid)),
                 "--", "sleep", "%g" % (secs - 1)]
        perf = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        STARTED.append(perf)
        try:
            r = dnsperf(srv.port, qfile, secs, args.dnsperf_opts,
                        rate=args.rate, cpu=ccpu)
            err = perf.communicate(timeout=60)[1]
        finally:
            if perf in STARTED:
                STARTED.remove(perf)
        if perf.returncode != 0:
            raise RuntimeError("perf %s failed: %s" % (
                kind, err.decode(errors="replace")[-500:]))
        queries = r["qps"] * (secs - 2)
        if kind == "stat":
            with open(work + ".stat") as f:
                for line in f:
                    v = line.split(",")
                    if len(v) < 3 or not v[0].strip().isdigit():
                        continue
                    name = v[2].split(":")[-1].replace("sys_enter_", "")
                    out[name] = 1000.0 * int(v[0]) / queries
        else:
            text = subprocess.run(["perf", "script", "-i", work + ".data"],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL,
                                  timeout=300).stdout.decode(errors="replace")
            out["samples"] = classify_stacks(text)
    return out


def print_profile(profiles):
    print()
    print("where the CPU time goes at %s (perf; per 1000 queries: system "
          "calls and context switches)" % "the fixed rate")
    names = [n for n, _ in PROFILE_CATEGORIES] + ["kernel other", "user"]
    for srv, p in profiles.items():
        tot = sum(p["samples"].values()) or 1
        print("  %-8s %s" % (srv, "  ".join(
            "%s %.0f%%" % (n, 100.0 * p["samples"][n] / tot) for n in names)))
        print("  %-8s %s" % ("", "  ".join(
            "%s %.0f" % (c, p[c]) for c in PROFILE_SYSCALLS + ["context-switches"]
            if p.get(c))))
    print("  (softirq: network work run in the server's context, on loopback "
          "mostly delivering")
    print("  its responses into dnsperf's sockets; block: going to sleep and "
          "waking up in a")
    print("  system call; send/recv/poll: the rest of those system calls)")


# --------------------------------------------------------------------------
# report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def ratio(a, b):
    return None if (a is None or not b) else a / b


def median_ci(xs, level=0.95):
    """Median of xs and a distribution-free confidence interval for it:
    the order statistics x(k) and x(n+1-k) for the largest k with
    P(Binomial(n, 1/2) < k) <= (1 - level) / 2.  Returns (median, low,
    high, achieved level); low and high are None below 6 values, where no
    such interval exists at 95 %."""
    xs = sorted(x for x in xs if x is not None)
    n = len(xs)
    if not n:
        return None, None, None, None
    m = statistics.median(xs)
    cdf, k, tail = 0.0, 0, (1.0 - level) / 2
    for i in range(n + 1):
        p = _binom(n, i) / 2.0 ** n
        if cdf + p > tail:
            break
        cdf += p
        k = i + 1
    if k < 1:
        return m, None, None, None
    return m, xs[k - 1], xs[n - k], 1.0 - 2 * cdf


def _binom(n, k):
    r = 1
    for i in range(1, k + 1):
        r = r * (n - k + i) // i
    return r


def paired_ratios(results, a, b, max_noise):
    """Per-round CPU-us/q ratios a/b of the rounds where both ran, leaving
    out rounds where either run was disturbed when undisturbed ones
    exist.  Within a round the two runs are minutes apart at most, so the
    machine's slow drifts cancel in the ratio."""
    ra = {r["round"]: r["fixed"] for r in results.get(a, [])}
    rb = {r["round"]: r["fixed"] for r in results.get(b, [])}
    pairs = [(ra[k], rb[k]) for k in sorted(ra) if k in rb]
    clean = [(x, y) for x, y in pairs
             if x.get("noise", 0) <= max_noise and y.get("noise", 0) <= max_noise]
    return [ratio(x.get("cpu_us"), y.get("cpu_us")) for x, y in clean or pairs]


def summarise(results, servers, max_noise):
    """Medians over the rounds, leaving out disturbed runs (other load above
    max_noise) when at least one undisturbed run of that kind exists."""
    s = {}
    for name in servers:
        runs = results.get(name, [])
        if not runs:
            continue
        clean = {}
        for ph in ("max", "fixed"):
            ok = [r[ph] for r in runs if r[ph].get("noise", 0) <= max_noise]
            clean[ph] = ok or [r[ph] for r in runs]
        get = lambda k, ph: [r.get(k) for r in clean[ph]]
        every = lambda k, ph: [r[ph].get(k) for r in runs]
        s[name] = {
            "qps": med(get("qps", "max")),
            "qps_all": every("qps", "max"),
            "noise_max": every("noise", "max"),
            "noise_fixed": every("noise", "fixed"),
            "used": "%d/%d" % (len(clean["max"]), len(clean["fixed"])),
            "lat_avg_max": med(get("lat_avg", "max")),
            "rate_qps": med(get("qps", "fixed")),
            "lat_avg": med(get("lat_avg", "fixed")),
            "p50": med(get("p50", "fixed")),
            "p99": med(get("p99", "fixed")),
            "lat_max": med(get("lat_max", "fixed")),
            "cpu_us": med(get("cpu_us", "fixed")),
            "cpu_us_all": every("cpu_us", "fixed"),
            "cpu_util": med(get("cpu_util", "fixed")),
            "sirq_us": med(get("sirq_us", "fixed")),
            "usr_us": med(get("usr_us", "fixed")),
            "cpu0_other": med(get("cpu0_other", "fixed")),
            "cpu1_other": med(get("cpu1_other", "fixed")),
            "cpu_util_max": med(get("cpu_util", "max")),
            "lost": sum(r["max"].get("lost", 0) + r["fixed"].get("lost", 0)
                        for r in runs),
            "rcodes": runs[-1]["max"].get("rcodes") or
                      runs[-1]["fixed"].get("rcodes", {}),
            "wrong_rcode": sum(r["fixed"].get("wrong_rcode", 0) for r in runs),
        }
    return s


def print_report(summary, args, meta, results):
    noise = args.max_noise
    print()
    print("=" * 78)
    print("arcdns bench: %s" % meta["date"])
    print("  host: %s, %d CPUs, %s" % (meta["cpu"], meta["ncpu"], meta["kernel"]))
    print("  %s" % "; ".join("%s: %s" % kv for kv in meta["versions"].items()))
    print("  tree: %s" % meta.get("git", "?"))
    print("  mix: %s (%d queries), zone %s; EDNS %s" % (
        meta["queries"], meta["nqueries"], ORIGIN, "on" if args.edns else "off"))
    print("  %d rounds (order A B.., ..B A alternately); %s, fixed-rate "
          "runs %gs at %d qps; dnsperf %s" % (
              args.rounds, "no max-QPS runs" if getattr(args, "cpu_only", False)
              else "max-QPS runs %gs" % args.duration, args.duration,
              args.rate, " ".join(args.dnsperf_opts)))
    print("  server on CPU %s, dnsperf on CPU %s; figures are medians of the "
          "undisturbed rounds" % (meta["server_cpu"], meta["client_cpu"]))
    print()
    cols = ("%-8s %9s %5s %7s | %8s %7s %6s %7s %8s %6s %6s %5s | %5s %5s")
    hdr = cols % ("", "max QPS", "CPU%", "avg lat", "at rate", "avg lat",
                  "p50", "p99", "CPU-us/q", "(usr)", "+sirq", "CPU%",
                  "noise", "noise")
    print(hdr)
    print(cols % ("server", "", "", "(us)", "(qps)", "(us)", "(us)", "(us)",
                  "", "", "us/q", "", "cpu0%", "cpu1%"))
    print("-" * len(hdr))
    us = lambda x: None if x is None else x * 1e6
    for name, v in summary.items():
        print(cols % (
            name, fmt(v["qps"], ",.0f"), fmt(v["cpu_util_max"], ".0f"),
            fmt(us(v["lat_avg_max"]), ".0f"),
            fmt(v["rate_qps"], ",.0f"), fmt(us(v["lat_avg"]), ".0f"),
            fmt(us(v["p50"]), ".0f"), fmt(us(v["p99"]), ".0f"),
            fmt(v["cpu_us"], ".3f"), fmt(v["usr_us"], ".3f"),
            fmt(v["sirq_us"], ".3f"),
            fmt(v["cpu_util"], ".0f"),
            fmt(v["cpu0_other"], ".1f"), fmt(v["cpu1_other"], ".1f")))
    print()
    print("per round:  max QPS  /  CPU-us per query")
    for name, v in summary.items():
        print("  %-8s %s  /  %s" % (
            name, "  ".join(fmt(x, ",.0f") + ("*" if (n or 0) > noise else " ")
                            for x, n in zip(v["qps_all"], v["noise_max"])),
            "  ".join(fmt(x, ".3f") + ("*" if n > noise else " ")
                      for x, n in zip(v["cpu_us_all"], v["noise_fixed"]))))
    print("  (* = other load above --max-noise during that run; left out of the")
    print("  medians unless every run of that kind was disturbed)")
    print()
    print("response codes (last run) and lost queries (all runs):")
    for name, v in summary.items():
        total = sum(v["rcodes"].values()) or 1
        rc = ", ".join("%s %d (%.2f%%)" % (k, n, 100.0 * n / total)
                       for k, n in sorted(v["rcodes"].items()))
        print("  %-8s %s; lost %d; wrong rcode vs expected (fixed runs) %d"
              % (name, rc, v["lost"], v["wrong_rcode"]))

    a = summary.get("arcdnsd")
    peers = [p for p in PEERS if p in summary]
    if a and peers:
        print()
        print("arcdnsd / peer      QPS (higher is better)   CPU-us/query (lower is better)")
        for p in peers:
            print("  arcdnsd/%-8s   %8s                 %8s" % (
                p, fmt(ratio(a["qps"], summary[p]["qps"]), ".3f"),
                fmt(ratio(a["cpu_us"], summary[p]["cpu_us"]), ".3f")))
        bq = max(peers, key=lambda p: summary[p]["qps"] or 0)
        bc = min(peers, key=lambda p: summary[p]["cpu_us"] or float("inf"))
        rq = ratio(a["qps"], summary[bq]["qps"])
        rc = ratio(a["cpu_us"], summary[bc]["cpu_us"])
        print("  vs best peer       %8s (%s)%s %8s (%s)" % (
            fmt(rq, ".3f"), bq, " " * max(1, 16 - len(bq)), fmt(rc, ".3f"), bc))
        print()
        print("CPU-us/query arcdnsd/peer, paired by round (median of the "
              "per-round ratios, %s):" % "distribution-free 95% interval")
        verdict = None
        for p in peers:
            rs = paired_ratios(results, "arcdnsd", p, noise)
            m, lo, hi, lvl = median_ci(rs)
            print("  arcdnsd/%-8s %s over %d rounds%s" % (
                p, fmt(m, ".3f"), len(rs),
                ", %.1f%% interval %.3f-%.3f" % (100 * lvl, lo, hi)
                if lo is not None else " (too few rounds for an interval)"))
            if p == bc:
                verdict = (m, lo, hi)
        if verdict and verdict[0] is not None:
            m, lo, hi = verdict
            if hi is not None and hi <= 1.0:
                word = "met: the whole interval is at or below 1.0"
            elif lo is not None and lo > 1.0:
                word = "NOT met: the whole interval is above 1.0"
            elif lo is None:
                word = ("met" if m <= 1.0 else "NOT met") + \
                    " on the median (more rounds needed for an interval)"
            else:
                word = "not shown: the interval contains 1.0 (parity)"
            print()
            print("CPU per query vs best peer (%s): median ratio %.3f; engine "
                  "target <= 1.0 %s; product goal <= 0.7 %s" % (
                      bc, m, word, "met" if hi is not None and hi <= 0.7
                      else "not met"))
    print()
    print("Left: unthrottled dnsperf; CPU% is the server's (near 100: the server")
    print("is the limit; lower: dnsperf is).  Right: dnsperf -Q; CPU-us/q = server")
    print("run time (utime+stime, at ns resolution) / queries answered (the")
    print("figure the ratios use); +sirq = softirq time on the server's CPU per")
    print("query (mostly loopback delivery of its responses), %s;" % {
        True: "NOT in CPU-us/q: this kernel accounts IRQ time apart",
        False: "already part of CPU-us/q:\nthis kernel has no "
               "CONFIG_IRQ_TIME_ACCOUNTING",
        None: "in CPU-us/q unless the\nkernel has CONFIG_IRQ_TIME_ACCOUNTING "
              "(unknown here)"}[meta.get("irq_time_accounting")])
    print("noise = CPU time used by other processes on the server's CPU (cpu0)")
    print("and dnsperf's CPU (cpu1) during those runs.")


# --------------------------------------------------------------------------

def find_arcdnsd(args):
    if args.arcdnsd:
        return os.path.abspath(args.arcdnsd)
    if os.environ.get("ARCDNSD"):
        return os.environ["ARCDNSD"]
    if args.build:
        return build_arcdnsd(args.build_dir)
    for cand in (os.path.join(REPO_DIR, "src", "arcdnsd"),
                 os.path.join(REPO_DIR, "build", "src", "arcdnsd"),
                 os.path.join(args.build_dir, "src", "arcdnsd")):
        if os.access(cand, os.X_OK):
            return cand
    return None


def build_arcdnsd(build_dir):
    """Optimised build (no sanitizers, no developer flags) out of tree."""
    print("bench: building arcdnsd in %s" % build_dir, flush=True)
    os.makedirs(build_dir, exist_ok=True)
    if not os.path.exists(os.path.join(REPO_DIR, "configure")):
        subprocess.check_call(["autoreconf", "-fi"], cwd=REPO_DIR)
    if not os.path.exists(os.path.join(build_dir, "Makefile")):
        subprocess.check_call([os.path.join(REPO_DIR, "configure"),
                               "CFLAGS=-O2 -g"], cwd=build_dir,
                              stdout=subprocess.DEVNULL)
    subprocess.check_call(["make", "-j%d" % (os.cpu_count() or 1),
                           "src/arcdnsd"], cwd=build_dir,
                          stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "src", "arcdnsd")


def ensure_deps(args):
    need = [b for b in ("dnsperf", "taskset", "nsd", "knotd", "gdnsd")
            if not (shutil.which(b) or os.path.exists("/usr/sbin/" + b))]
    if not need:
        return
    if args.no_install:
        sys.exit("bench: missing %s; run bench/install-deps.sh" % " ".join(need))
    print("bench: missing %s; running bench/install-deps.sh" % " ".join(need),
          flush=True)
    subprocess.check_call(["bash", os.path.join(BENCH_DIR, "install-deps.sh")])


def main():
    global WORKDIR, KEEP
    ap = argparse.ArgumentParser(
        description="dnsperf arcdnsd against NSD, Knot DNS and gdnsd",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 round, 2 s runs, lower rate")
    ap.add_argument("--duration", type=float, default=10.0,
                    help="seconds per measurement")
    ap.add_argument("--warmup", type=float, default=2.0,
                    help="seconds of unrecorded load before each server's runs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-only", action="store_true",
                    help="fixed-rate runs only (no max-QPS runs): more rounds "
                    "of the CPU-per-query comparison in the same time")
    ap.add_argument("--profile", action="store_true",
                    help="after the rounds, one fixed-rate run per server "
                    "under perf stat and one under perf record -g: where the "
                    "CPU time goes (needs perf: linux-perf)")
    ap.add_argument("--memory-names", type=int, default=200000,
                    help="memory phase: names added to the bench zone for the "
                    "big zone each server loads once (0: no memory phase)")
    ap.add_argument("--rate", type=int, default=100000,
                    help="dnsperf -Q for the CPU-per-query runs")
    ap.add_argument("--servers", default=",".join(ALL_SERVERS),
                    help="comma-separated subset of " + ",".join(ALL_SERVERS))
    ap.add_argument("--arcdnsd", help="arcdnsd binary (default: $ARCDNSD, "
                    "src/arcdnsd of an in-tree build, or BUILD_DIR/src/arcdnsd)")
    ap.add_argument("--build", action="store_true",
                    help="build an optimised arcdnsd in BUILD_DIR first")
    ap.add_argument("--build-dir", default="/tmp/dnsbench-arcdnsd-build")
    ap.add_argument("--no-edns", dest="edns", action="store_false",
                    help="send queries without EDNS (default: dnsperf -e)")
    ap.add_argument("--dnsperf-opts", default="-T 2 -c 2 -q 200",
                    help="extra dnsperf options (threads, clients, outstanding)")
    ap.add_argument("--max-noise", type=float, default=5.0,
                    help="retry a run when other processes used more than this "
                    "percent of either CPU during it")
    ap.add_argument("--retries", type=int, default=2,
                    help="retries of a disturbed run (the least disturbed is kept)")
    ap.add_argument("--quiet-wait", type=float, default=120.0,
                    help="before each run, wait up to this many seconds for "
                    "the machine to be idle (0: do not wait)")
    ap.add_argument("--retry-pause", type=float, default=3.0,
                    help="seconds to wait before retrying a disturbed run")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--no-pin", action="store_true", help="do not use taskset")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of running install-deps.sh")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dir (configs, logs)")
    ap.add_argument("--json", help="write all raw results to this file")
    ap.add_argument("--report", metavar="JSON",
                    help="print the report of a saved --json run and exit")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        sargs = argparse.Namespace(**saved["args"])
        if not hasattr(sargs, "max_noise"):
            sargs.max_noise = args.max_noise
        names = [n for n in ALL_SERVERS if n in saved["results"]]
        if names and saved["results"][names[0]]:
            print_report(summarise(saved["results"], names, sargs.max_noise),
                         sargs, saved["meta"], saved["results"])
        print_memory(saved.get("memory") or {}, saved["meta"])
        return 0
    if args.quick:
        args.rounds = 1 if args.rounds == 3 else args.rounds
        args.duration = 2.0 if args.duration == 10.0 else args.duration
        args.warmup = 0.5 if args.warmup == 2.0 else args.warmup
        args.quiet_wait = 10.0 if args.quiet_wait == 120.0 else args.quiet_wait
        args.retries = 1 if args.retries == 2 else args.retries
        args.memory_names = 20000 if args.memory_names == 200000 else args.memory_names
    args.dnsperf_opts = args.dnsperf_opts.split()
    if args.edns:
        args.dnsperf_opts.append("-e")
    KEEP = args.keep
    wanted = [s for s in args.servers.split(",") if s]
    for s in wanted:
        if s not in ALL_SERVERS:
            sys.exit("bench: unknown server %r" % s)

    ensure_deps(args)
    if args.profile and not shutil.which("perf"):
        sys.exit("bench: --profile needs perf (apt-get install linux-perf)")
    ncpu = os.cpu_count() or 1
    scpu, ccpu = (None, None) if args.no_pin or ncpu < 2 else \
        (args.server_cpu, args.client_cpu)
    if scpu is None:
        print("bench: WARNING: not pinning (%d CPU(s)); figures are rough" % ncpu)

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # not "arcdns-*": other tools on a shared machine clean those up
    WORKDIR = tempfile.mkdtemp(prefix="dnsbench.")
    subprocess.check_call([sys.executable, os.path.join(BENCH_DIR, "gen.py"),
                           WORKDIR], stdout=subprocess.DEVNULL)
    zonefile = os.path.join(WORKDIR, "bench.zone")
    for fname in ("bench.zone", "queries.txt", "queries.expect"):
        with open(os.path.join(WORKDIR, fname), "rb") as f1:
            try:
                with open(os.path.join(BENCH_DIR, fname), "rb") as f2:
                    same = f1.read() == f2.read()
            except OSError:
                same = False
        if not same:
            print("bench: note: bench/%s differs from what bench/gen.py writes "
                  "(run bench/gen.py to refresh it); using the generated one" % fname)
    qfile = os.path.join(WORKDIR, "queries.txt")
    expect = load_expect(os.path.join(WORKDIR, "queries.expect"))
    expect_map = {(n.lower(), t): rc for rc, k, n, t in expect}
    seen, uniq = set(), []
    for e in expect:
        if (e[2], e[3]) not in seen:
            seen.add((e[2], e[3]))
            uniq.append(e)

    servers = []
    for name in wanted:
        if name == "arcdnsd":
            binary = find_arcdnsd(args)
            if not binary or not os.access(binary, os.X_OK):
                print("bench: arcdnsd not found (use --arcdnsd PATH or --build);"
                      " measuring the peers only")
                continue
            print("bench: arcdnsd binary %s (modified %s)" % (binary, time.strftime(
                "%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(binary)))))
            if "libasan" in run_out(["ldd", binary]):
                print("bench: WARNING: %s is built with sanitizers" % binary)
            srv = Arcdnsd(WORKDIR, zonefile, binary)
        else:
            srv = {"nsd": Nsd, "knot": Knot, "gdnsd": Gdnsd}[name](WORKDIR, zonefile)
            if not srv.available():
                print("bench: %s not installed; skipping" % name)
                continue
        servers.append(srv)
    if not servers:
        sys.exit("bench: no server to measure")

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kernel": platform.release(), "ncpu": ncpu,
        "cpu": cpu_model(), "server_cpu": scpu, "client_cpu": ccpu,
        "queries": "bench/queries.txt", "nqueries": len(expect),
        "versions": {s.name: s.version() for s in servers},
        "irq_time_accounting": irq_time_accounting(),
    }
    head = run_out(["git", "-C", REPO_DIR, "log", "-1", "--format=%h %s"]).strip()
    meta["git"] = head.splitlines()[0] if head else "?"
    meta["versions"]["dnsperf"] = (re.search(r"Version (\S+)", run_out(
        ["dnsperf", "-h"])) or re.search("(.*)", "?")).group(1)
    print("bench: work dir %s" % WORKDIR)
    print("bench: %s" % ", ".join("%s=%s" % kv for kv in meta["versions"].items()))

    # start and check every server
    all_answers, bad = {}, []
    for srv in servers:
        srv.start(scpu, 30)
        print("bench: %-8s pid %d, 127.0.0.1:%d" % (srv.name, srv.proc.pid, srv.port),
              flush=True)
    for srv in servers:
        answers, problems = check_server(srv, uniq, args.edns)
        all_answers[srv.name] = answers
        print("bench: %-8s answer check: %d distinct queries, %d problem(s)"
              % (srv.name, len(uniq), len(problems)))
        for p in problems[:8]:
            print("           %s" % p)
        if problems:
            bad.append(srv.name)
    if len(servers) > 1:
        diffs = compare_answers(all_answers, uniq)
        for name, lst in diffs.items():
            if not lst:
                continue
            print("bench: %-8s differs from the majority on %d queries, e.g.:"
                  % (name, len(lst)))
            for key, mine, maj in lst[:4]:
                print("           %s %s: %s" % (key[0], key[1], show_canon(mine)))
                print("             others: %s" % show_canon(maj))
    meta["check_problems"] = bad

    # rounds
    results = {s.name: [] for s in servers}
    for rnd in range(1, args.rounds + 1):
        # A B C D, D C B A, ...: no server always runs first or after the
        # same neighbour, so slow drifts of the machine fall on all of them
        for srv in (servers if rnd % 2 else servers[::-1]):
            if srv.proc.poll() is not None:
                print("bench: %s died (status %s):\n%s" % (
                    srv.name, srv.proc.returncode, srv.log_tail()))
                continue
            if args.warmup > 0:
                dnsperf(srv.port, qfile, args.warmup, args.dnsperf_opts, cpu=ccpu)
            mx = None if args.cpu_only else \
                measure(srv, qfile, args, None, scpu, ccpu, expect_map)
            fx = measure(srv, qfile, args, args.rate, scpu, ccpu, expect_map)
            # max QPS near the rate, or (without a max run) the rate not
            # reached: the server or dnsperf is the limit, and CPU per
            # query is not comparable
            fx["saturated"] = (mx["qps"] < 1.05 * args.rate if mx else
                               fx["qps"] < 0.99 * args.rate)
            results[srv.name].append({"round": rnd, "max": mx or {},
                                      "fixed": fx})
            print("bench: round %d %-8s max %7s qps (server CPU %3s%%) | "
                  "%6.0f qps: %.3f CPU-us/q (+%.3f softirq), p99 %s us, "
                  "noise %.0f/%.0f%%, lost %d%s" % (
                      rnd, srv.name, fmt(mx and mx["qps"], ".0f"),
                      fmt(mx and mx["cpu_util"], ".0f"), fx["qps"],
                      fx["cpu_us"] or 0, fx["sirq_us"] or 0,
                      fmt(fx.get("p99", 0) * 1e6, ".0f"),
                      fx["cpu0_other"], fx["cpu1_other"],
                      (mx or {}).get("lost", 0) + fx.get("lost", 0),
                      " (SATURATED at this rate)" if fx["saturated"] else ""),
                  flush=True)
            if fx["wrong_rcode"]:
                print("bench:   %d responses with an unexpected rcode, e.g. %s"
                      % (fx["wrong_rcode"], "; ".join(fx["wrong_examples"])))

    profiles = {}
    if args.profile:
        for srv in servers:
            if srv.proc.poll() is None:
                wait_quiet(args)
                profiles[srv.name] = profile_server(srv, qfile, args, ccpu)
    for srv in servers:
        srv.stop()
    memory = {}
    if args.memory_names > 0:
        big = os.path.join(WORKDIR, "big.zone")
        meta["mem_names"] = args.memory_names
        meta["mem_settle"] = 1.0
        meta["mem_records"] = (count_records(zonefile),
                               write_big_zone(zonefile, big, args.memory_names))
        memory = measure_memory(servers, zonefile, big, scpu,
                                settle=meta["mem_settle"])
        os.unlink(big)
    summary = summarise(results, [s.name for s in servers], args.max_noise)
    if args.rounds > 0:
        print_report(summary, args, meta, results)
    if profiles:
        print_profile(profiles)
    print_memory(memory, meta)
    if bad:
        print("\nWARNING: answer check problems for: %s (see above)" % ", ".join(bad))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "args": vars(args), "results": results,
                       "summary": summary, "profiles": profiles,
                       "memory": memory}, f,
                      indent=1, default=str)
    return 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    sys.exit(main())
