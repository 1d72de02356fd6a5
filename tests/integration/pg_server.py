"""A PostgreSQL 15 of a test's own, for the Python integration tests of the
PostgreSQL store (issue 13): tests/pg/with_postgres.sh does the work (a
fresh cluster in a temporary directory, a Unix socket there and optionally
a loopback port, a role and a database, all gone at the end, run as an
unprivileged user when we are root); this module keeps it running for as
long as the test wants it.

    with PgServer(tcp=True) as pg:
        pg.conninfo        # libpq conninfo over the socket
        pg.tcp_conninfo    # over 127.0.0.1 (password in a passfile)
        pg.env             # every CORRIDOR_PG_* the script exports

The server is held by a child of the script that waits on its stdin: when
this process closes it (stop(), or by dying), the script stops the server
and removes the directory. A missing server raises unittest.SkipTest (the
script's 77). Python standard library only."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('CORRIDOR_SOURCE_DIR') or os.path.dirname(os.path.dirname(HERE))
WITH_POSTGRES = os.path.join(SOURCE_DIR, 'tests', 'pg', 'with_postgres.sh')

START_TIMEOUT_S = 120   # initdb and a start on a loaded 2-core machine
STOP_TIMEOUT_S = 60
SKIP = 77

# prints the script's environment for us, then holds the server until EOF
_HOLD = ('import json, os, sys\n'
         'print(json.dumps({k: v for k, v in os.environ.items()'
         ' if k.startswith("CORRIDOR_PG_")}), flush=True)\n'
         'sys.stdin.read()\n')


class PgServer:
    def __init__(self, tcp=False):
        self.tcp = tcp
        self.proc = None
        self.env = {}

    def start(self):
        args = [WITH_POSTGRES] + (['--tcp'] if self.tcp else []) + [sys.executable, '-c', _HOLD]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait(timeout=START_TIMEOUT_S)
            self.proc = None
            if rc == SKIP:
                raise unittest.SkipTest('no PostgreSQL server binaries (tools/deps.sh)')
            raise RuntimeError('with_postgres.sh failed (exit %d)' % rc)
        self.env = json.loads(line)
        return self

    @property
    def conninfo(self):
        return self.env['CORRIDOR_PG_CONNINFO']

    @property
    def tcp_conninfo(self):
        return self.env.get('CORRIDOR_PG_TCP_CONNINFO')

    def psql(self, sql):
        """The text psql -At prints for sql on the test's database."""
        return subprocess.run([os.path.join(self.env['CORRIDOR_PG_BIN'], 'psql'), '-X', '-w',
                               '-At', '-c', sql, self.conninfo], capture_output=True,
                              text=True, timeout=60, check=True).stdout.strip()

    def pg_ctl(self, *args):
        """Runs the server's pg_ctl on its data directory (as its owner)."""
        run = self.env.get('CORRIDOR_PG_RUN', '').split()
        data = self.env['CORRIDOR_PG_DATA']
        subprocess.run(run + [os.path.join(self.env['CORRIDOR_PG_BIN'], 'pg_ctl'), '-D', data,
                              '-t', str(START_TIMEOUT_S)] + list(args),
                       check=True, stdout=subprocess.DEVNULL, timeout=START_TIMEOUT_S + 30)

    def stop_server(self, mode='fast'):
        """The database goes away (an outage); start_server() brings it back."""
        self.pg_ctl('stop', '-m', mode, '-w')

    def start_server(self):
        self.pg_ctl('start', '-w', '-l',
                    os.path.join(os.path.dirname(self.env['CORRIDOR_PG_DATA']), 'server.log'))

    def stop(self):
        if self.proc is None:
            return
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self.proc.stdout.close()
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
