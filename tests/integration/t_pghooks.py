#!/usr/bin/python3
"""t_pghooks.py -- the shipped PostgreSQL hooks against two real servers.

pgharness starts "east" (a primary) and "west" (its streaming hot
standby). The hooks in conf/hooks run as arcdnsd runs them: argv only, a
clean environment (PATH and the ARCDNS_* variables), the target chosen by
ARCDNS_CONTROL (or ARCDNS_TARGET) through --target NAME=CONNINFO, or by
--host-from-target.

  - check-writable passes on east, fails on west (in recovery);
  - rows committed on east right up to the fence; a session holding an
    open write transaction;
  - fence-postgres east: exit 0; the open transaction cannot commit; a new
    INSERT is refused; run again, and twice at once: still exit 0;
    check-writable now fails on east;
  - promote-postgres west (old primary found from west's primary_conninfo):
    exit 0 after waiting for replay; west leaves recovery and holds every
    row committed on east; check-writable passes on west; run again: a
    no-op;
  - an unreachable server: exit 1 and one line on stderr; a bad argv:
    exit 2.

SKIPs when the PostgreSQL server binaries are not installed.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TOP_SRCDIR, bound, free_port, run  # noqa: E402
import pgharness  # noqa: E402

HOOKS = os.path.join(TOP_SRCDIR, "conf", "hooks")


def hook(name, pair, target, *args, timeout=60):
    """Run a hook as arcdnsd does: (rc, stdout, stderr, elapsed ms)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
           "ARCDNS_ACTION": {"fence-postgres": "fence",
                             "promote-postgres": "promote"}.get(name, "check"),
           "ARCDNS_FENCE": "primary-db",
           "ARCDNS_CONTROL": target,
           "ARCDNS_TARGET": target + "-writer.db.example.",
           "ARCDNS_REGION": {"east": "us-east-1", "west": "us-west-2"}.get(
               target, "nowhere")}
    argv = [os.path.join(HOOKS, name),
            "--target", "east=" + pair.east.conninfo(),
            "--target", "west=" + pair.west.conninfo()] + list(args)
    t0 = time.monotonic()
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=bound(timeout))
    ms = (time.monotonic() - t0) * 1000
    return (p.returncode, p.stdout.decode().strip(), p.stderr.decode().strip(),
            ms)


def out(res):
    return "rc=%d\nstdout: %s\nstderr: %s" % (res[0], res[1], res[2])


def one_line(t, res, name):
    lines = res[2].splitlines()
    t.ok(len(lines) == 1 and lines[0].startswith(name.split()[0]),
         "%s: exactly one line on stderr" % name, out(res))


def main(t):
    if pgharness.pg_bindir() is None:
        t.skip("PostgreSQL hooks", "postgresql server binaries not installed")
        return
    t0 = time.monotonic()
    pair = pgharness.PgPair(t).start()
    east, west = pair.east, pair.west
    t.diag("east :%d (primary), west :%d (standby) ready in %.0f ms" % (
        east.port, west.port, (time.monotonic() - t0) * 1000))
    try:
        checks(t, pair)
    finally:
        if t.failed:
            pair.diag_logs()
        pair.stop()


def checks(t, pair):
    east, west = pair.east, pair.west

    res = hook("check-writable", pair, "east")
    t.is_(res[0], 0, "check-writable passes on the primary east", out(res))
    res = hook("check-writable", pair, "west")
    t.is_(res[0], 1, "check-writable fails on the standby west", out(res))
    t.like(res[2], r"west .*in recovery", "... because it is in recovery")
    one_line(t, res, "check-writable")

    # Rows committed on east up to the fence, many transactions.
    east.value("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    total = 0
    for batch in range(20):
        east.value("INSERT INTO orders SELECT g, 'row ' || g FROM "
                   "generate_series(%d, %d) g" % (batch * 100 + 1,
                                                  batch * 100 + 100))
        total += 100
    # A session with an open write transaction, started before the fence.
    psql = subprocess.Popen(
        [east.bin("psql"), "-X", "-q", "-d", east.conninfo()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    psql.stdin.write(b"BEGIN;\nINSERT INTO orders VALUES (999999, 'open');\n")
    psql.stdin.flush()
    deadline = time.monotonic() + bound(10)
    while time.monotonic() < deadline:
        if east.value("SELECT count(*) FROM pg_stat_activity WHERE state = "
                      "'idle in transaction' AND backend_xid IS NOT NULL") \
                != "0":
            break
        time.sleep(0.02)
    else:
        t.ok(False, "the open write transaction shows in pg_stat_activity")
    # The last rows right before the fence: replication may still be
    # behind when promote-postgres starts.
    east.value("INSERT INTO orders SELECT g, 'late' FROM "
               "generate_series(100001, 102000) g")
    total += 2000
    committed = int(east.value("SELECT count(*) FROM orders"))
    t.is_(committed, total, "%d rows committed on east" % total)

    res = hook("fence-postgres", pair, "east")
    fence_ms = res[3]
    t.is_(res[0], 0, "fence-postgres east: exit 0", out(res))
    t.like(res[1], r"writes refused \(\d+ other sessions terminated\)",
           "... says writes are refused")
    t.diag("fence-postgres took %.0f ms" % fence_ms)
    try:
        o, e = psql.communicate(b"COMMIT;\n", timeout=bound(10))
    except subprocess.TimeoutExpired:
        psql.kill()
        o, e = psql.communicate()
    t.ok(psql.returncode != 0 or b"terminat" in e,
         "the open write transaction was ended by the fence",
         "rc=%s stderr=%s" % (psql.returncode, e.decode(errors="replace")))
    rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'after fence')")
    t.ok(rc != 0 and "read-only transaction" in err,
         "east refuses an INSERT after the fence", err)
    t.is_(east.value("SELECT count(*) FROM orders WHERE id IN (0, 999999)"),
          "0", "neither the open nor the refused row is on east")

    res = hook("fence-postgres", pair, "east")
    t.is_(res[0], 0, "fence-postgres east again: exit 0 (idempotent)",
          out(res))
    # Several arcdns instances fencing at once.
    env = {"PATH": "/usr/bin:/bin", "ARCDNS_TARGET": "east",
           "ARCDNS_ACTION": "fence"}
    procs = [subprocess.Popen(
        [os.path.join(HOOKS, "fence-postgres"), "--target",
         "east=" + east.conninfo()], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    rcs = []
    for p in procs:
        try:
            p.communicate(timeout=bound(60))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        rcs.append(p.returncode)
    t.is_(rcs, [0, 0, 0], "three fence-postgres at once: all exit 0")
    rc, _, err = east.sql("INSERT INTO orders VALUES (0, 'after fence')")
    t.ok(rc != 0 and "read-only" in err, "east still refuses an INSERT", err)

    res = hook("check-writable", pair, "east")
    t.is_(res[0], 1, "check-writable fails on fenced east", out(res))
    t.like(res[2], r"read-only transaction", "... because of read-only")
    one_line(t, res, "check-writable")

    res = hook("promote-postgres", pair, "west")
    t.is_(res[0], 0, "promote-postgres west: exit 0", out(res))
    t.like(res[1], r"replayed the old primary's WAL up to [0-9A-F]+/[0-9A-F]+",
           "... after waiting for the old primary's WAL position")
    t.like(res[1], r"promoted \(\d+ ms\)", "... and says it promoted")
    t.diag("promote-postgres took %.0f ms in all" % res[3])
    t.diag("hook output: %s" % res[1].replace("\n", " | "))
    t.is_(west.value("SELECT pg_is_in_recovery()"), "f",
          "west left recovery")
    t.is_(int(west.value("SELECT count(*) FROM orders")), committed,
          "west holds every row committed on east before the fence")
    t.is_(west.value("SELECT count(*) FROM orders WHERE id IN (0, 999999)"),
          "0", "... and not the rows east refused or never committed")
    res = hook("check-writable", pair, "west")
    t.is_(res[0], 0, "check-writable passes on promoted west", out(res))
    p = subprocess.run([os.path.join(HOOKS, "check-writable"),
                        "--host-from-target", "--port", str(west.port),
                        "--user", "postgres", "--dbname", "postgres"],
                       env={"PATH": "/usr/bin:/bin",
                            "ARCDNS_TARGET": "127.0.0.1."},
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=bound(30))
    t.is_(p.returncode, 0, "check-writable --host-from-target "
          "(ARCDNS_TARGET=127.0.0.1.) on west: exit 0",
          p.stderr.decode(errors="replace"))
    rc, _, err = west.sql("INSERT INTO orders VALUES (0, 'on west')")
    t.is_(rc, 0, "an INSERT on west succeeds", err)
    res = hook("promote-postgres", pair, "west")
    t.is_(res[0], 0, "promote-postgres west again: exit 0", out(res))
    t.like(res[1], r"already a primary", "... a no-op on a primary")
    res = hook("promote-postgres", pair, "east")
    t.is_(res[0], 0, "promote-postgres on fenced east: exit 0 (a primary)",
          out(res))
    res = hook("check-writable", pair, "east")
    t.is_(res[0], 1, "... and east stays fenced (check-writable fails)",
          out(res))

    # Failures.
    dead = free_port()
    for name in ("fence-postgres", "promote-postgres", "check-writable"):
        env = {"PATH": "/usr/bin:/bin", "ARCDNS_TARGET": "east"}
        p = subprocess.run([os.path.join(HOOKS, name), "--host", "127.0.0.1",
                            "--port", str(dead), "--user", "postgres",
                            "--dbname", "postgres"], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=bound(30))
        res = (p.returncode, p.stdout.decode().strip(),
               p.stderr.decode().strip(), 0)
        t.is_(res[0], 1, "%s on an unreachable server: exit 1" % name,
              out(res))
        t.like(res[2], r"^%s: east \(127\.0\.0\.1:%d/postgres\): unreachable"
               % (name, dead), "... and says so", out(res))
        one_line(t, res, name)
    res = hook("fence-postgres", pair, "nowhere")
    t.is_(res[0], 2, "fence-postgres for a target without --target: exit 2",
          out(res))
    res = hook("fence-postgres", pair, "east", "--bogus")
    t.is_(res[0], 2, "fence-postgres with an unknown option: exit 2",
          out(res))


run(main, timeout=300)
