"""pgharness.py -- two real PostgreSQL servers for the fence tests.

PgPair(t) starts, in one temporary folder, on loopback ports below the ephemeral range (harness.free_port):

  east  a primary: initdb, wal_level=replica, a role "replicator" with
        REPLICATION, trust authentication for 127.0.0.1 and the two
        servers' addresses only (pg_hba.conf is written here, nothing else
        is accepted);
  west  a streaming hot standby of east: pg_basebackup -R -X stream, then
        its own port; PgPair waits until east's pg_stat_replication shows
        it streaming.

PostgreSQL refuses to run as root, so when the tests run as root every
server-side program (initdb, pg_basebackup, postgres, pg_ctl) runs as the
`postgres` system user (created by Debian's package) through
`setpriv --reuid --regid --init-groups`, which execs in place: the PID we
hold is the postmaster's. The folder is chowned to that user. As another
user, the programs run directly. Clients (psql) connect over TCP to
the server's address as the database superuser "postgres" (trust).
PgPair(t, east_host="127.0.0.11", west_host="127.0.0.12", same_port=True)
puts each server on its own loopback address with one port number, so
that a record's value (the address) is all a hook needs (PGPORT in env).

Each server runs in the foreground (`postgres -D dir`, its own session,
stderr to dir/../NAME.log), readiness is polled with pg_isready (bounded,
never a blind sleep), and it is stopped by PID: `pg_ctl stop -m
immediate` (bounded), then SIGKILL to its process group. PgNode registers
with harness.stop_all(), so a failing or timed-out test still cleans up.

  pg_bindir()            the newest /usr/lib/postgresql/N/bin, or None
  PgNode.sql(q)          run SQL through psql: (rc, stdout, stderr)
  PgNode.value(q)        one value or raises
  PgNode.conninfo()      "host=127.0.0.1 port=P user=postgres dbname=postgres"
  PgNode.hook_args()     ["--host", "127.0.0.1", "--port", P, ...]
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import KEEP, bound
from harness import free_port

PG_USER = "postgres"
REPL_USER = "replicator"


def pg_bindir():
    """The newest installed PostgreSQL server bin folder, or None."""
    best = None
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if not os.access(os.path.join(d, "postgres"), os.X_OK):
            continue
        try:
            v = int(os.path.basename(os.path.dirname(d)))
        except ValueError:
            continue
        if best is None or v > best[0]:
            best = (v, d)
    if best is None or not os.access(os.path.join(best[1], "psql"), os.X_OK):
        return None
    return best[1]


def _as_pg(argv):
    """argv run as the postgres system user when we are root."""
    if os.geteuid() != 0:
        return list(argv)
    return ["setpriv", "--reuid=" + PG_USER, "--regid=" + PG_USER,
            "--init-groups", "--"] + list(argv)


def _check(argv, timeout, what, cwd=None):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            what, p.returncode, p.stdout.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


class PgNode:
    """One PostgreSQL server in the foreground, stopped by PID."""

    def __init__(self, t, bindir, root, name, host="127.0.0.1"):
        self.t = t
        self.host = host
        self.bindir = bindir
        self.root = root
        self.name = name
        self.datadir = os.path.join(root, name)
        self.logpath = os.path.join(root, name + ".log")
        self.port = None
        self.proc = None
        self.pid = None

    def bin(self, prog):
        return os.path.join(self.bindir, prog)

    def conninfo(self, user=PG_USER, dbname="postgres"):
        return "host=%s port=%d user=%s dbname=%s" % (
            self.host, self.port, user, dbname)

    def hook_args(self):
        return ["--host", self.host, "--port", str(self.port),
                "--user", PG_USER, "--dbname", "postgres"]

    def configure(self, extra=""):
        """Our settings, appended (the last occurrence wins)."""
        # A socket folder per server: the same port number may serve both,
        # and a lock file in the data folder would travel with
        # pg_basebackup.
        self.sockdir = os.path.join(self.root, self.name + ".sock")
        os.makedirs(self.sockdir, mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\n# pgharness\n"
                    "listen_addresses = '%s'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "wal_level = replica\n"
                    "max_wal_senders = 8\n"
                    "wal_keep_size = '64MB'\n"
                    "hot_standby = on\n"
                    "shared_buffers = '16MB'\n"
                    "max_connections = 40\n"
                    "fsync = off\n"            # throwaway test data
                    "full_page_writes = on\n"
                    "logging_collector = off\n"
                    "log_min_messages = warning\n"
                    "%s" % (self.host, self.port, self.sockdir, extra))

    def start(self):
        self.proc = subprocess.Popen(
            _as_pg([self.bin("postgres"), "-D", self.datadir]),
            stdin=subprocess.DEVNULL, stdout=open(self.logpath, "ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        harness._DAEMONS.append(self)
        self.wait_ready()
        return self

    def wait_ready(self, limit=30):
        deadline = time.monotonic() + bound(limit)
        delay = 0.02
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited (%s) during start:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            p = subprocess.run([self.bin("pg_isready"), "-q", "-h",
                                self.host, "-p", str(self.port), "-U", PG_USER,
                                "-d", "postgres", "-t", "2"],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10)
            if p.returncode == 0:
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        raise RuntimeError("%s not ready after %ds:\n%s" % (
            self.name, limit, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                subprocess.run(_as_pg([self.bin("pg_ctl"), "-D", self.datadir,
                                       "stop", "-m", "immediate", "-w", "-t",
                                       "10"]),
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                self.proc.wait(timeout=bound(5))
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=bound(5))
            except subprocess.TimeoutExpired:
                pass
        # Backends that outlived the postmaster (a kill -9) go too.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc = None
        if self in harness._DAEMONS:
            harness._DAEMONS.remove(self)

    def log_tail(self, n=30):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def sql(self, query, timeout=20, dbname="postgres", user=PG_USER):
        """psql -c query: (rc, stdout stripped, stderr stripped)."""
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"):
            env.pop(k, None)
        p = subprocess.run([self.bin("psql"), "-X", "-w", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-d",
                            self.conninfo(user, dbname), "-c", query],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
        return (p.returncode, p.stdout.decode("utf-8", "replace").strip(),
                p.stderr.decode("utf-8", "replace").strip())

    def value(self, query, **kw):
        rc, out, err = self.sql(query, **kw)
        if rc != 0:
            raise RuntimeError("%s: %s: %s" % (self.name, query, err))
        return out


class PgPair:
    """east (primary) and west (its streaming hot standby)."""

    def __init__(self, t, east_host="127.0.0.1", west_host="127.0.0.1",
                 same_port=False):
        """east_host, west_host: loopback addresses to listen on; with
        same_port both servers listen on one port number (then the hosts
        must differ)."""
        self.t = t
        self.same_port = same_port
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries not installed")
        self.root = tempfile.mkdtemp(prefix="arcdns-pg-")
        os.chmod(self.root, 0o700)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.east = PgNode(t, self.bindir, self.root, "east", east_host)
        self.west = PgNode(t, self.bindir, self.root, "west", west_host)
        harness._DAEMONS.append(self)   # stop() removes the folder last

    def start(self):
        east, west = self.east, self.west
        east.port = free_port()
        _check(_as_pg([east.bin("initdb"), "-D", east.datadir, "-U", PG_USER,
                       "-A", "trust", "-E", "UTF8", "--locale=C", "-N"]),
               bound(120), "initdb", cwd=self.root)
        east.configure()
        hosts = sorted({"127.0.0.1", east.host, west.host})
        with open(os.path.join(east.datadir, "pg_hba.conf"), "w") as f:
            f.write("# pgharness: trust on our loopback addresses only\n"
                    "local all all trust\n")
            for h in hosts:
                f.write("host all all %s/32 trust\n" % h)
            for h in hosts:
                f.write("host replication %s %s/32 trust\n" % (REPL_USER, h))
        east.start()
        east.value("CREATE ROLE %s WITH REPLICATION LOGIN" % REPL_USER)
        west.port = east.port if self.same_port else free_port(
            taken=(east.port,))
        _check(_as_pg([west.bin("pg_basebackup"), "-h", east.host, "-p",
                       str(east.port), "-U", REPL_USER, "-D", west.datadir,
                       "-R", "-X", "stream", "-c", "fast", "-w",
                       "--no-sync"]),
               bound(120), "pg_basebackup", cwd=self.root)
        west.configure()
        west.start()
        self.wait_streaming()
        return self

    def wait_streaming(self, limit=30):
        deadline = time.monotonic() + bound(limit)
        delay = 0.02
        while time.monotonic() < deadline:
            n = self.east.value("SELECT count(*) FROM pg_stat_replication "
                                "WHERE state = 'streaming'")
            if n not in ("", "0"):
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        raise RuntimeError("west not streaming after %ds:\n%s" % (
            limit, self.west.log_tail()))

    def stop(self):
        for n in (self.west, self.east):
            try:
                n.stop()
            except Exception:  # cleanup goes on
                pass
        if self in harness._DAEMONS:
            harness._DAEMONS.remove(self)
        if KEEP:
            if self.t is not None:
                self.t.diag("kept %s" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def diag_logs(self):
        for n in (self.east, self.west):
            self.t.diag("--- %s.log (tail)\n%s" % (n.name, n.log_tail()))
