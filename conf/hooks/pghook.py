"""pghook.py -- the shared part of arcdns's PostgreSQL hooks.

fence-postgres, promote-postgres and check-writable (next to this file)
import it. Everything goes through psql (Debian's postgresql-client); no
Python driver is needed. See README in this folder for the usage.

Exit status: 0 success, 1 the action failed (or the server is
unreachable), 2 usage error. On failure one line goes to stderr:
"<hook>: <target> (<host:port/db>): <reason>". Progress goes to stdout.
arcdnsd logs both.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

PSQL_DEFAULT = "/usr/bin/psql"


class HookError(Exception):
    """The action failed; the message is the one stderr line."""


class Db:
    """One server, reached through psql with a libpq connection string."""

    def __init__(self, prog, conninfo, label, psql, deadline, app):
        self.prog = prog
        self.conninfo = conninfo
        self.label = label
        self.psql = psql
        self.deadline = deadline
        self.app = app

    def where(self):
        return "%s (%s)" % (self.label, describe(self.conninfo))

    def run(self, *sql, timeout=None):
        """psql -c each statement (each its own transaction unless it holds
        several statements). Returns (rc, stdout, stderr)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise HookError("timed out")
        if timeout is not None:
            left = min(left, timeout)
        argv = [self.psql, "-X", "-w", "-q", "-A", "-t", "-v",
                "ON_ERROR_STOP=1", "-d",
                self.conninfo + " application_name=" + quote(self.app)]
        for s in sql:
            argv += ["-c", s]
        env = dict(os.environ)
        env.setdefault("PGCONNECT_TIMEOUT", "5")
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, timeout=max(left, 0.1))
        except subprocess.TimeoutExpired:
            raise HookError("psql did not finish within %.1fs" % left)
        except OSError as e:
            raise HookError("cannot run %s: %s" % (self.psql, e.strerror))
        return (p.returncode, p.stdout.decode("utf-8", "replace").strip(),
                p.stderr.decode("utf-8", "replace").strip())

    def value(self, *sql, what="query", timeout=None):
        """The output of the statements, or HookError with psql's reason."""
        rc, out, err = self.run(*sql, timeout=timeout)
        if rc != 0:
            reason = first_error(err)
            if rc == 2 or "connection to server" in err:
                raise HookError("unreachable: " + reason)
            raise HookError("%s failed: %s" % (what, reason))
        return out


def quote(v):
    """A libpq connection-string value."""
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def describe(conninfo):
    """host:port/dbname of a connection string, never its password."""
    kv = dict(re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", conninfo))
    kv = {k: v.strip("'") for k, v in kv.items()}
    host = kv.get("host") or kv.get("hostaddr") or os.environ.get("PGHOST", "")
    port = kv.get("port") or os.environ.get("PGPORT", "5432")
    db = kv.get("dbname") or os.environ.get("PGDATABASE", "")
    return "%s:%s/%s" % (host or "local", port, db)


def first_error(stderr):
    for line in stderr.splitlines():
        line = line.strip()
        if line:
            return re.sub(r"^psql: (error: )?", "", line)
    return "no message"


def common_args(prog, description):
    ap = argparse.ArgumentParser(prog=prog, description=description,
                                 add_help=False)
    ap.add_argument("--host", "-h", dest="host")
    ap.add_argument("--port", "-p", dest="port")
    ap.add_argument("--user", "-U", dest="user")
    ap.add_argument("--dbname", "-d", dest="dbname")
    ap.add_argument("--conninfo", help="a libpq connection string")
    ap.add_argument("--target", action="append", default=[],
                    metavar="NAME=CONNINFO",
                    help="connection string for the target whose "
                    "ARCDNS_CONTROL, ARCDNS_TARGET or ARCDNS_REGION is NAME "
                    "(checked in that order); repeatable")
    ap.add_argument("--host-from-target", action="store_true",
                    help="connect to the host named by ARCDNS_TARGET (its "
                    "first value, trailing dot removed)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="overall bound in seconds (default 60)")
    ap.add_argument("--psql", default=None, help="psql program")
    ap.add_argument("--help", action="help")
    return ap


def make_db(prog, args, app):
    """The server this run is about, from argv, then the environment."""
    parts = []
    env_keys = [os.environ.get(k) for k in ("ARCDNS_CONTROL", "ARCDNS_TARGET",
                                            "ARCDNS_REGION")]
    label = next((k for k in env_keys if k), "target")
    if args.target:
        table = {}
        for item in args.target:
            name, sep, ci = item.partition("=")
            if not sep or not name:
                usage(prog, "--target wants NAME=CONNINFO, not %r" % item)
            table[name] = ci
        hit = next((k for k in env_keys if k and k in table), None)
        if hit is None:
            usage(prog, "no --target for ARCDNS_CONTROL=%r ARCDNS_TARGET=%r "
                  "ARCDNS_REGION=%r" % tuple(env_keys))
        label = hit
        parts.append(table[hit])
    if args.host_from_target:
        host = first_target_value()
        if not host:
            usage(prog, "--host-from-target: ARCDNS_TARGET is not set")
        parts.append("host=" + quote(host))
    if args.conninfo:
        parts.append(args.conninfo)
    for key, val in (("host", args.host), ("port", args.port),
                     ("user", args.user), ("dbname", args.dbname)):
        if val:
            parts.append("%s=%s" % (key, quote(val)))
    # No host anywhere: the target's own value (a writer record's address
    # or host name) is the database to act on.
    if (not re.search(r"\b(host|hostaddr)\s*=", " ".join(parts))
            and not os.environ.get("PGHOST")):
        host = first_target_value()
        if host:
            parts.append("host=" + quote(host))
    psql = args.psql or shutil.which("psql") or PSQL_DEFAULT
    deadline = time.monotonic() + args.timeout
    return Db(prog, " ".join(parts), label, psql, deadline, app)


def first_target_value():
    """ARCDNS_TARGET's first value (comma or space separated), without a
    final dot, or None."""
    v = re.split(r"[\s,]+", os.environ.get("ARCDNS_TARGET", "").strip())[0]
    return v.rstrip(".") or None


def usage(prog, msg):
    sys.stderr.write("%s: %s\n" % (prog, msg))
    sys.exit(2)


def fail(db, msg):
    sys.stderr.write("%s: %s: %s\n" % (db.prog, db.where(), msg))
    return 1


def say(db, msg):
    sys.stdout.write("%s: %s: %s\n" % (db.prog, db.where(), msg))
    sys.stdout.flush()


def poll(db, check, limit, step=0.05):
    """Call check() until it returns true or limit seconds pass."""
    end = min(time.monotonic() + limit, db.deadline)
    while True:
        if check():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)
        step = min(step * 1.5, 0.5)


def main(prog, body, description, extra=None):
    ap = common_args(prog, description)
    if extra:
        extra(ap)
    args = ap.parse_args(sys.argv[1:])
    db = make_db(prog, args, "arcdns-" + prog)
    try:
        return body(db, args)
    except HookError as e:
        return fail(db, str(e))
    except KeyboardInterrupt:
        return fail(db, "interrupted")


# --------------------------------------------------------------------------
# fence-postgres

# Client sessions other than our own and other arcdns hooks'.
OTHERS = ("backend_type = 'client backend' AND pid <> pg_backend_pid() "
          "AND coalesce(application_name, '') NOT LIKE 'arcdns-%'")


def fence(db, args):
    db.value("SELECT 1", what="connect")
    # ALTER SYSTEM cannot run in a transaction block: its own -c.
    db.value("ALTER SYSTEM SET default_transaction_read_only = on",
             "SELECT pg_reload_conf()", what="ALTER SYSTEM")

    def new_sessions_read_only():
        return db.value("SHOW default_transaction_read_only") == "on"

    if not poll(db, new_sessions_read_only, 20):
        raise HookError("new sessions still default to read-write after "
                        "pg_reload_conf()")
    # Sessions started before the reload may have opened a read-write
    # transaction (or SET the default back): end every one of them, and
    # wait until they are gone, so that none can commit after we exit 0.
    ver = int(db.value("SHOW server_version_num"))
    wait = ", 5000" if ver >= 140000 else ""
    out = db.value("SELECT count(*) || ' ' || coalesce(string_agg(pid::text, "
                   "','), '-') || ' ' || coalesce(string_agg(pid::text, ',') "
                   "FILTER (WHERE NOT ok), '-') FROM (SELECT pid, "
                   "pg_terminate_backend(pid%s) AS ok FROM pg_stat_activity "
                   "WHERE %s) t" % (wait, OTHERS), what="pg_terminate_backend")
    total, every, unconfirmed = out.split()
    total = int(total)
    # The ones not confirmed gone (before 14: every one; or one that had
    # just left by itself) must be gone from pg_stat_activity, looked at
    # in a new transaction (its snapshot is per transaction).
    pending = every if ver < 140000 else unconfirmed
    pending = "" if pending == "-" else pending
    if pending and not poll(db, lambda: db.value(
            "SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s)" %
            pending) == "0", 10):
        raise HookError("sessions %s did not end after pg_terminate_backend"
                        % pending)
    # Proof: a new session's transaction is read-only and a write fails.
    rc, out, err = db.run("SELECT current_setting('transaction_read_only')",
                          "CREATE TEMP TABLE arcdns_fence_probe (x int)")
    if rc == 2 or "connection to server" in err:
        raise HookError("unreachable: " + first_error(err))
    if out.splitlines()[:1] != ["on"] or "read-only transaction" not in err:
        raise HookError("a new transaction is not read-only (%s)" %
                        (first_error(err) if rc else "write accepted"))
    say(db, "writes refused (%d other sessions terminated)" % total)
    return 0


# --------------------------------------------------------------------------
# promote-postgres

def lsn_reached(db, lsn):
    return db.value("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn" %
                    sql_str(lsn)) == "t"


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def old_primary_lsn(db, args):
    """The old primary's current WAL position, or None when it is gone
    (or is not a primary any more)."""
    ci = args.old_primary
    if ci is None:
        rc, out, err = db.run("SHOW primary_conninfo")
        if rc != 0:
            say(db, "cannot read primary_conninfo (%s): not waiting for "
                "the old primary" % first_error(err))
            return None
        ci = out
    if not ci:
        return None
    old = Db(db.prog, ci + " dbname=postgres connect_timeout=%d" %
             args.old_primary_connect_timeout,
             "old primary", db.psql, db.deadline, db.app)
    rc, out, err = old.run("SELECT pg_is_in_recovery(), pg_current_wal_lsn()",
                           timeout=args.old_primary_connect_timeout + 5)
    if rc != 0:
        # SQL fails on a standby (pg_current_wal_lsn() in recovery).
        say(db, "old primary %s not usable (%s): promoting with what was "
            "replayed" % (describe(ci), first_error(err)))
        return None
    state, _, lsn = out.partition("|")
    if state != "f":
        say(db, "old primary %s is in recovery: not waiting for it" %
            describe(ci))
        return None
    return lsn


def promote(db, args):
    if db.value("SELECT pg_is_in_recovery()", what="connect") == "f":
        say(db, "already a primary: nothing to do")
        return 0
    if not args.no_wait_old_primary:
        lsn = old_primary_lsn(db, args)
        if lsn is not None:
            t0 = time.monotonic()
            if not poll(db, lambda: lsn_reached(db, lsn),
                        args.catchup_timeout):
                at = db.value("SELECT pg_last_wal_replay_lsn()")
                raise HookError("replay at %s did not reach the old "
                                "primary's %s within %gs: not promoting" %
                                (at, lsn, args.catchup_timeout))
            say(db, "replayed the old primary's WAL up to %s (%.0f ms)" %
                (lsn, (time.monotonic() - t0) * 1000))
    # A standby cloned from a fenced primary carries its read-only
    # default: the new writer must not. Done before pg_promote() so that
    # a retry after a partial run still finds us in recovery.
    db.value("ALTER SYSTEM RESET default_transaction_read_only",
             "SELECT pg_reload_conf()", what="ALTER SYSTEM RESET")
    t0 = time.monotonic()
    rc, out, err = db.run("SELECT pg_promote(true, %d)" % args.promote_wait)
    if rc != 0 and "recovery is not in progress" not in err:
        if rc == 2 or "connection to server" in err:
            raise HookError("unreachable: " + first_error(err))
        raise HookError("pg_promote failed: " + first_error(err))
    if not poll(db, lambda: db.value("SELECT pg_is_in_recovery()") == "f",
                args.promote_wait):
        raise HookError("still in recovery %ds after pg_promote()" %
                        args.promote_wait)
    say(db, "promoted (%.0f ms)" % ((time.monotonic() - t0) * 1000))
    return 0


def promote_args(ap):
    ap.add_argument("--old-primary", metavar="CONNINFO",
                    help="the old primary (default: this standby's "
                    "primary_conninfo)")
    ap.add_argument("--no-wait-old-primary", action="store_true",
                    help="promote without waiting for the old primary's WAL")
    ap.add_argument("--catchup-timeout", type=float, default=30.0)
    ap.add_argument("--old-primary-connect-timeout", type=int, default=3)
    ap.add_argument("--promote-wait", type=int, default=60)


# --------------------------------------------------------------------------
# check-writable

def check(db, args):
    if db.value("SELECT pg_is_in_recovery()", what="connect") != "f":
        raise HookError("in recovery (a standby): not writable")
    if args.table:
        t = args.table
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?",
                            t):
            usage(db.prog, "--table wants a plain [schema.]name")
        sql = ("CREATE TABLE IF NOT EXISTS %s (at timestamptz, target text);"
               "INSERT INTO %s VALUES (now(), %s);"
               "DELETE FROM %s WHERE at < now() - interval '1 day'" %
               (t, t, sql_str(db.label), t))
    else:
        sql = ("CREATE TEMP TABLE arcdns_check (at timestamptz, target text);"
               "INSERT INTO arcdns_check VALUES (now(), %s)" %
               sql_str(db.label))
    # The default transaction mode, as clients get it: a fenced primary
    # (default_transaction_read_only) fails here.
    db.value(sql, what="write")
    say(db, "writable")
    return 0


def check_args(ap):
    ap.add_argument("--table", help="write to this table (created if "
                    "missing) instead of a temporary one")


def fence_args(ap):
    ap.add_argument("--mode", choices=["read-only"], default="read-only")
