#!/usr/bin/python3
"""Moving a SQLite state into PostgreSQL (tools/sqlite-to-postgresql.sh,
docs/scale-out.md): a daemon on SQLite takes two simulated corridor days and
is stopped; the tool copies its state directory into a new database; a
daemon on PostgreSQL with the same configuration then answers every query
command exactly as the SQLite one did (QUALITY's lags too: the record times
came along), each carrier resumes from the mark it had, and a resend is
recognised as one. Standard library only."""
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import independent_carrier as ic  # noqa: E402
import pg_server  # noqa: E402
import test_pg_same_answers as same  # noqa: E402

TOOL = os.path.join(harness.SOURCE_DIR, 'tools', 'sqlite-to-postgresql.sh')
# the answers that depend on the moment of the question (over_typical: units
# inside longer than the typical time by now)
NOW_COLUMNS = ('hours', 'oldest_h', 'over_typical')


class Migrate(unittest.TestCase):

    def setUp(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        self.pg = pg_server.PgServer().start()
        self.addCleanup(self.pg.stop)
        self.tmp = tempfile.mkdtemp(prefix='corridor-migrate-test-')
        self.addCleanup(subprocess.run, ['rm', '-rf', self.tmp])

    def lines(self, d):
        with d.query() as q:
            legs = [r[0] for r in q.ok('LEGS').rows]
        out = ['LEGS', 'STATS *', 'STATS * - - W', 'ONTIME *', 'VOLUMES * week', 'HOLDS *',
               'DELAYS *', 'QUALITY', 'QUALITY KTZE', 'INTRANSIT', 'JOURNEYS ALK POT']
        for leg in legs:
            out += ['STATS %s' % leg, 'HISTOGRAM %s' % leg, 'VOLUMES %s day' % leg,
                    'INTRANSIT %s' % leg]
        return out

    def answers(self, d, lines):
        out = {}
        with d.query() as q:
            for line in lines:
                a = q.request(line)
                drop = [i for i, c in enumerate(a.columns) if c in NOW_COLUMNS]
                out[line] = (a.ok, a.code, a.columns,
                             [[v for i, v in enumerate(r) if i not in drop] for r in a.rows])
        return out

    def test_sqlite_state_moves_to_postgresql(self):
        old = harness.new_daemon(self)
        old.start()
        end = (int(time.time()) // 3600) * 3600 * 1000
        files = os.path.join(self.tmp, 'day.jsonl')
        same.ctl('simulate', '--days', '2', '--seed', '11', '--end', str(end), '--out', files)
        names = sorted(f for f in os.listdir(self.tmp) if f.endswith('.jsonl'))
        for f in names:
            same.push(old.carrier_port, f.split('.')[-2], os.path.join(self.tmp, f))
        lines = self.lines(old)
        before = self.answers(old, lines)
        marks = {}
        for f in names:
            code = f.split('.')[-2]
            with ic.Carrier(old.carrier_port, code) as c:
                marks[code] = c.hello().acked_seq
        self.assertTrue(all(marks.values()), marks)
        self.assertEqual(old.stop(), 0)

        conf = old.extra_args[old.extra_args.index('--config') + 1]
        p = subprocess.run([TOOL, '-c', conf, '--corridord', harness.CORRIDORD,
                            old.state_dir, self.pg.conninfo], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertIn('copied', p.stdout)
        # a second run is refused: the database holds updates now
        again = subprocess.run([TOOL, '-c', conf, '--corridord', harness.CORRIDORD,
                                old.state_dir, self.pg.conninfo], capture_output=True,
                               text=True, timeout=600)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn('must be new', again.stderr)

        new = harness.new_daemon(self, extra_args=[
            '--config', conf, '--store', 'postgresql', '--pg-conninfo', self.pg.conninfo])
        new.start()
        after = self.answers(new, lines)
        for line in lines:
            self.assertEqual(after[line], before[line], line)
        self.assertNotIn('deriving', new.log_text())
        for code, mark in sorted(marks.items()):
            with ic.Carrier(new.carrier_port, code) as c:
                self.assertEqual(c.hello().acked_seq, mark, code)
        # a resend of a stored update is one, not a second copy
        first = os.path.join(self.tmp, names[0])
        code = names[0].split('.')[-2]
        same.push(new.carrier_port, code, first)
        self.assertEqual(self.answers(new, ['STATS *'])['STATS *'], before['STATS *'])


if __name__ == '__main__':
    harness.main()
