#!/usr/bin/python3
"""The same corridor day on both stores: corridorctl simulate writes the
demo's updates to files once, corridorctl push sends them to a daemon on the
embedded SQLite store and to one on PostgreSQL (a server of the test's own,
tests/integration/pg_server.py), and every query command, asked many ways,
must answer the same on both, row for row.

What depends on the moment a daemon received an update, or on the moment
of the question, is left out, as it cannot be equal: QUALITY's lag columns
(record time - event time, the record time being the daemon's clock) and
the hours a unit has been inside a leg so far (INTRANSIT, SHIPMENT). Standard library only."""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pg_server  # noqa: E402

CTL_TIMEOUT_S = 300
DAYS = 2
SEED = 7
# QUALITY's columns that come from the record time
LAG_COLUMNS = ('lag_p50_h', 'lag_p90_h', 'lag_max_h')


PUSH_SUMMARY = re.compile(r'push: (\d+)/(\d+) sent, (\d+) acked, (\d+) rejected')


def ctl(*args, ok_codes=(0,)):
    p = subprocess.run([harness.CORRIDORCTL] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=CTL_TIMEOUT_S)
    if p.returncode not in ok_codes:
        raise AssertionError('corridorctl %s exited %d:\n%s%s' % (
            ' '.join(args), p.returncode, p.stdout, p.stderr[-2000:]))
    return p.stdout + p.stderr


def push(port, code, path):
    """Pushes a file; (acked, rejected), every update answered. The
    simulator sends some bad updates on purpose, which makes push exit 3."""
    out = ctl('--port', str(port), 'push', '--carrier', code, path, ok_codes=(0, 3))
    m = PUSH_SUMMARY.findall(out)
    assert m, 'no push summary:\n' + out[-2000:]
    sent, total, acked, rejected = (int(x) for x in m[-1])
    assert sent == total and acked + rejected == total, out[-2000:]
    return acked, rejected


class SameAnswers(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        cls.pg = pg_server.PgServer().start()
        cls.tmp = tempfile.mkdtemp(prefix='corridor-same-')
        cls.daemons = {}
        try:
            cls.daemons['sqlite'] = harness.Daemon().start()
            cls.daemons['postgresql'] = harness.Daemon(extra_args=[
                '--store', 'postgresql', '--pg-conninfo', cls.pg.conninfo]).start()
            # the end on the hour, a little ago: the same files for both
            end = (int(time.time()) // 3600) * 3600 * 1000
            out = os.path.join(cls.tmp, 'day.jsonl')
            ctl('simulate', '--days', str(DAYS), '--seed', str(SEED), '--end', str(end),
                '--out', out)
            cls.files = sorted(f for f in os.listdir(cls.tmp) if f.endswith('.jsonl'))
            assert cls.files, 'simulate wrote no files'
            cls.pushed = {}
            for name, d in cls.daemons.items():
                cls.pushed[name] = [push(d.carrier_port, f.split('.')[-2],
                                         os.path.join(cls.tmp, f)) for f in cls.files]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons.values():
            d.cleanup()
        cls.pg.stop()
        subprocess.run(['rm', '-rf', cls.tmp], check=False)

    def answers(self, line):
        out = {}
        for name, d in self.daemons.items():
            with d.query() as q:
                a = q.request(line)
            out[name] = a
        return out['sqlite'], out['postgresql']

    def same(self, line, drop=()):
        a, b = self.answers(line)
        self.assertEqual(a.ok, b.ok, '%s: %s vs %s' % (line, a.code, b.code))
        if not a.ok:
            self.assertEqual((a.code, a.message), (b.code, b.message), line)
            return a
        self.assertEqual(a.columns, b.columns, line)
        keep = [i for i, c in enumerate(a.columns) if c not in drop]
        rows_a = [[r[i] for i in keep] for r in a.rows]
        rows_b = [[r[i] for i in keep] for r in b.rows]
        self.assertEqual(rows_a, rows_b, line)
        return a

    def legs(self):
        return [r[0] for r in self.same('LEGS').rows]

    def test_stored_the_same(self):
        self.assertEqual(self.pushed['sqlite'], self.pushed['postgresql'])
        self.assertGreater(sum(a for a, _ in self.pushed['sqlite']), 10000)
        # many rows, or the comparison proves little
        a = self.same('STATS *')
        self.assertGreater(len(a.rows), 5)
        self.assertGreater(sum(int(r[a.columns.index('n')] or 0) for r in a.rows), 100)

    def test_stats_histogram_ontime(self):
        for line in ('STATS *', 'STATS * - - W', 'STATS * - - E', 'ONTIME *',
                     'ONTIME * - - W'):
            self.same(line)
        for leg in self.legs():
            self.same('STATS %s' % leg)
            self.same('HISTOGRAM %s' % leg)
            self.same('ONTIME %s' % leg)

    def test_volumes(self):
        for leg in self.legs():
            for period in ('day', 'week', 'month'):
                self.same('VOLUMES %s %s' % (leg, period))
        self.same('VOLUMES * week')

    def test_journeys_holds_delays(self):
        for frm, to in (('ALK', 'BAK'), ('ALK', 'POT'), ('POT', 'ALK'), ('AKT', 'BAK')):
            self.same('JOURNEYS %s %s' % (frm, to))
            self.same('JOURNEYS %s %s - - W' % (frm, to))
        for line in ('HOLDS *', 'DELAYS *', 'HOLDS * - - E', 'DELAYS * - - W'):
            self.same(line)
        for leg in self.legs():
            self.same('HOLDS %s' % leg)
            self.same('DELAYS %s' % leg)

    def test_quality(self):
        self.same('QUALITY', drop=LAG_COLUMNS)
        for carrier in ('KTZE', 'ADYC'):
            self.same('QUALITY %s' % carrier, drop=LAG_COLUMNS)

    def test_intransit_and_shipments(self):
        a = self.same('INTRANSIT', drop=('oldest_h', 'over_typical'))
        units = set()
        for leg in self.legs():
            b = self.same('INTRANSIT %s' % leg, drop=('hours',))
            if b.rows:
                units.add(b.rows[0][0])
        self.assertTrue(a.rows or units, 'nothing in transit: a weak comparison')
        for u in sorted(units)[:12]:
            self.same('SHIPMENT %s' % u, drop=('hours',))


if __name__ == '__main__':
    harness.main()
