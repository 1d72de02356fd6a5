"""The test helper for the PostgreSQL store (tests/pg/with_postgres.sh through
pg_server.py), which the store's tests stand on: a server of its own over
the socket and the loopback port, not reachable on the port without the
password, and nothing left behind, whether the test stops it or dies."""
import os
import signal
import subprocess
import sys
import time
import unittest

from harness import main
import pg_server

GONE_TIMEOUT_S = 60


def psql(pg, conninfo, sql, **kw):
    return subprocess.run([os.path.join(pg.env['CORRIDOR_PG_BIN'], 'psql'), '-X', '-w', '-At',
                           '-c', sql, conninfo], capture_output=True, text=True,
                          timeout=30, **kw)


def server_running(data):
    """Whether a postgres process serves data (the data directory)."""
    out = subprocess.run(['ps', '-eo', 'args'], capture_output=True, text=True).stdout
    return any('postgres -D %s' % data in line for line in out.splitlines())


def wait_gone(data):
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while time.monotonic() < deadline:
        if not server_running(data) and not os.path.exists(os.path.dirname(data)):
            return True
        time.sleep(0.2)
    return False


class PgServerTest(unittest.TestCase):
    def test_socket_and_port(self):
        with pg_server.PgServer(tcp=True) as pg:
            data = pg.env['CORRIDOR_PG_DATA']
            r = psql(pg, pg.conninfo, 'SELECT current_user || \' \' || current_database()'
                     ' || \' \' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), 'corridor corridor false')
            r = psql(pg, pg.tcp_conninfo, 'SELECT inet_server_addr()')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), '127.0.0.1')
            # the port wants the password, which only the passfile has
            bare = pg.tcp_conninfo.split(' passfile=')[0]
            r = psql(pg, bare, 'SELECT 1', env=dict(os.environ, PGPASSFILE=os.devnull))
            self.assertNotEqual(r.returncode, 0)
            self.assertTrue(server_running(data))
        self.assertTrue(wait_gone(data), 'server or directory left after stop()')

    def test_holder_dies(self):
        # a test process killed outright: the script still cleans up
        code = ('import sys; sys.path.insert(0, %r); import pg_server, os, signal\n'
                'pg = pg_server.PgServer().start()\n'
                'print(pg.env["CORRIDOR_PG_DATA"], flush=True)\n'
                'os.kill(os.getpid(), signal.SIGKILL)\n' % pg_server.HERE)
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                           timeout=pg_server.START_TIMEOUT_S)
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
        data = r.stdout.strip()
        self.assertTrue(data.endswith('/data'), r.stdout)
        self.assertTrue(wait_gone(data), 'server or directory left after the holder died')


if __name__ == '__main__':
    main()
