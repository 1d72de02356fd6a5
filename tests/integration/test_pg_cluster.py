#!/usr/bin/python3
"""The failover test's cluster helper (tests/integration/pg_cluster.py) on its
own, so that the failover test stands on something checked: the
pg_auto_failover cluster comes up with a primary and a secondary, corridor's
role reaches its database through the multi-host conninfo (SCRAM, the
password only in the passfile), a write on the primary is on the standby, a
commit waits for the standby (synchronous_standby_names set, and a commit
seen waiting in SyncRep while the standby's WAL receiver is stopped),
killing the primary promotes the standby, which has every committed row and
takes writes through the same conninfo, and nothing is left behind after
stop() or after the test process is killed outright."""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pg_cluster  # noqa: E402

GONE_TIMEOUT_S = 90
PROMOTE_TIMEOUT_S = 120


def psql_conninfo(conninfo, sql, **kw):
    """psql as corridor's role through a conninfo (the daemons' way in)."""
    return subprocess.run([os.path.join(pg_cluster.PG_BIN, 'psql'), '-X', '-w', '-At',
                           '-v', 'ON_ERROR_STOP=1', '-c', sql, conninfo],
                          capture_output=True, text=True, timeout=60, **kw)


def wait_gone(top):
    """True once no process of the cluster runs and its directory is gone."""
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while time.monotonic() < deadline:
        if not pg_cluster.processes_of(top) and not os.path.exists(top):
            return True
        time.sleep(0.2)
    return False


def walreceivers(node):
    """Pids of the standby's WAL receiver process."""
    out = []
    for pid in pg_cluster.processes_of(node.dir):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if f.read().startswith(b'postgres: walreceiver'):
                    out.append(pid)
        except OSError:
            pass
    return out


class PgClusterTest(unittest.TestCase):

    def test_replicate_wait_promote_clean(self):
        pg = pg_cluster.PgCluster()
        self.addCleanup(pg.stop)
        t0 = time.monotonic()
        pg.start()
        print('cluster up in %.1f s: %s' % (time.monotonic() - t0, pg.conninfo),
              file=sys.stderr)
        top = pg.top
        states = sorted(s['current_group_state'] for s in pg.state())
        self.assertEqual(states, ['primary', 'secondary'], pg.describe())
        primary, standby = pg.primary, pg.standby
        self.assertIsNot(primary, standby)
        self.assertIn('pgautofailover_standby_', pg.synchronous_standby_names())
        self.assertEqual(pg.psql('SHOW synchronous_commit'), 'on')
        self.assertIn('target_session_attrs=read-write', pg.uri())

        # corridor's role: its database, not a superuser, over loopback
        r = psql_conninfo(pg.conninfo, "SELECT current_user || ' ' || current_database() || ' ' "
                          "|| inet_server_port() || ' ' || (SELECT rolsuper FROM pg_roles "
                          "WHERE rolname = current_user)")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), 'corridor corridor %d false' % primary.port)
        # without the passfile the port is closed to it
        bare = pg.conninfo.replace('passfile=%s' % pg.passfile, 'passfile=%s' % os.devnull)
        r = psql_conninfo(bare, 'SELECT 1', env=dict(os.environ, PGPASSFILE=os.devnull))
        self.assertNotEqual(r.returncode, 0)

        # a write on the primary is on the standby
        r = psql_conninfo(pg.conninfo, 'CREATE TABLE t (n int PRIMARY KEY); '
                          'INSERT INTO t SELECT generate_series(1, 1000)')
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + 30
        while pg.psql('SELECT count(*) FROM t', standby, db='corridor') != '1000':
            self.assertLess(time.monotonic(), deadline, 'the rows never reached the standby')
            time.sleep(0.1)
        self.assertEqual(pg.psql('SELECT pg_is_in_recovery()', standby), 't')

        # a commit waits for the standby: with its WAL receiver stopped the
        # commit hangs in SyncRep, and completes once it runs again
        pids = walreceivers(standby)
        self.assertTrue(pids, 'no WAL receiver on the standby')
        for p in pids:
            os.kill(p, signal.SIGSTOP)
        try:
            waiting = subprocess.Popen([os.path.join(pg_cluster.PG_BIN, 'psql'), '-X', '-w',
                                        '-At', '-c', 'INSERT INTO t VALUES (1001)',
                                        pg.conninfo], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            seen = ''
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and seen != 'SyncRep':
                seen = pg.psql("SELECT coalesce(max(wait_event), '') FROM pg_stat_activity "
                               "WHERE query LIKE 'INSERT INTO t VALUES (1001)%'")
                time.sleep(0.1)
            self.assertEqual(seen, 'SyncRep', 'the commit did not wait for the standby')
            self.assertIsNone(waiting.poll(), 'the commit returned without the standby')
        finally:
            for p in pids:
                os.kill(p, signal.SIGCONT)
        out, err = waiting.communicate(timeout=30)
        self.assertEqual(waiting.returncode, 0, err)

        # the primary's machine is lost: the standby becomes primary with
        # every committed row, and the same conninfo writes there
        killed = pg.kill_primary()
        self.assertIs(killed, primary)
        self.assertEqual(pg_cluster.processes_of(primary.dir), set())
        t0 = time.monotonic()
        new = pg.wait_promoted(PROMOTE_TIMEOUT_S)
        print('promoted %s %.1f s after the kill' % (new.name, time.monotonic() - t0),
              file=sys.stderr)
        self.assertIs(new, standby)
        self.assertEqual(pg.psql('SELECT count(*) FROM t', new, db='corridor'), '1001')
        r = psql_conninfo(pg.conninfo, 'INSERT INTO t VALUES (1002) RETURNING inet_server_port()')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[0], str(new.port))

        self.assertTrue(pg.stop())
        self.assertTrue(wait_gone(top), 'processes or directory left after stop(): %s' %
                        pg_cluster.processes_of(top))

    def test_holder_dies(self):
        # the test process killed outright: the guardian still cleans up
        code = ('import sys; sys.path.insert(0, %r); import pg_cluster, os, signal\n'
                'pg = pg_cluster.PgCluster().start()\n'
                'print(pg.top, flush=True)\n'
                'os.kill(os.getpid(), signal.SIGKILL)\n' % pg_cluster.HERE)
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                           timeout=pg_cluster.START_TIMEOUT_S + 60)
        if r.returncode == 1 and 'SkipTest' in r.stderr:
            raise unittest.SkipTest(r.stderr.strip().splitlines()[-1])
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr[-3000:])
        top = r.stdout.strip()
        self.assertTrue(os.path.basename(top).startswith('corridor-pgaf-'), r.stdout)
        self.assertTrue(wait_gone(top), 'processes or directory left after the holder died')


if __name__ == '__main__':
    harness.main()
