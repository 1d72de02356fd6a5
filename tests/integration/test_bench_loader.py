#!/usr/bin/python3
"""The statistics benchmark's tools on a tiny data set (bench/stats.sh runs
them on 10 million updates; this keeps them working): bench_gen makes the
same files from the same seed and other files from another, bench_load
pushes them in two slices (and skips a slice already stored), the daemon
stores exactly the good updates with the repeated events and retractions
the manifest counts (QUALITY sees the retractions, the rejections and the
batches bench_load sent twice), and bench_query times every request template
and loops."""
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD = os.environ.get('CORRIDOR_BUILD_DIR') or os.path.join(harness.SOURCE_DIR, 'build')
BENCH_GEN = os.environ.get('BENCH_GEN') or os.path.join(BUILD, 'bench', 'bench_gen')
BENCH_LOAD = os.environ.get('BENCH_LOAD') or os.path.join(BUILD, 'bench', 'bench_load')
BENCH_QUERY = os.environ.get('BENCH_QUERY') or os.path.join(BUILD, 'bench', 'bench_query')
QUERIES = os.path.join(harness.SOURCE_DIR, 'bench', 'queries.tsv')
UPDATES = 20000
TIMEOUT_S = 60


def fields(line):
    """key=value pairs of one output line."""
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))


def run(args):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


def manifest(path):
    out = {}
    with open(os.path.join(path, 'manifest'), encoding='utf-8') as f:
        for line in f:
            k, _, v = line.rstrip('\n').partition('=')
            out[k] = v
    return out


class BenchLoader(unittest.TestCase):

    def setUp(self):
        for path, name in ((BENCH_GEN, 'bench_gen'), (BENCH_LOAD, 'bench_load'),
                           (BENCH_QUERY, 'bench_query')):
            harness.require_binary(path, name)
        self.tmp = tempfile.mkdtemp(prefix='corridor-bench-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def generate(self, name, *extra):
        out_dir = os.path.join(self.tmp, name)
        rc, out, err = run([BENCH_GEN, '--out', out_dir, '--updates', str(UPDATES),
                            '--end', '2026-01-01'] + list(extra))
        self.assertEqual(rc, 0, err)
        return out_dir, fields(out)

    def load(self, d, data, slice_, label):
        rc, out, err = run([BENCH_LOAD, '--data', data, '--port', str(d.carrier_port),
                            '--slice', slice_, '--label', label, '--resend-permille', '100'])
        self.assertEqual(rc, 0, '%s\n%s\n%s' % (out, err, d.log_tail()))
        self.assertIn('%s: ' % label, out)
        return {k: v for k, v in fields(out).items()}

    def test_generate_load_query(self):
        data, gen = self.generate('a')
        again, gen2 = self.generate('b')
        _, other = self.generate('c', '--seed', '2')
        self.assertEqual(gen['checksum'], gen2['checksum'], 'same seed, other files')
        self.assertNotEqual(gen['checksum'], other['checksum'], 'other seed, same files')
        for code in manifest(data)['carriers'].split():
            with open(os.path.join(data, code + '.upd'), 'rb') as f1, \
                    open(os.path.join(again, code + '.upd'), 'rb') as f2:
                self.assertEqual(f1.read(), f2.read(), code)
        total, bad = int(gen['updates']), int(gen['bad'])
        # about the number asked for, with some of every kind
        self.assertLess(abs(total - UPDATES), UPDATES * 0.1, gen)
        for k in ('bad', 'duplicates', 'retractions', 'late', 'plans', 'estimates', 'holds',
                  'delayed'):
            self.assertGreater(int(gen[k]), 0, k)
        m = manifest(data)
        self.assertEqual(sum(int(v.split()[0].split(':')[1]) for k, v in m.items()
                             if k.startswith('carrier.')), total)

        d = harness.new_daemon(self)
        d.start()
        first = self.load(d, data, '0:0.5', 'first')
        second = self.load(d, data, '0.5:1', 'second')
        self.assertEqual(int(first['acked']) + int(second['acked']), total)
        self.assertEqual(int(first['expected_rejected']) + int(second['expected_rejected']), bad)
        for part in (first, second):
            self.assertGreaterEqual(int(part['rejected']), int(part['expected_rejected']))
            self.assertLessEqual(int(part['rejected']),
                                 int(part['expected_rejected']) + int(part['resent_bad']))
        again = self.load(d, data, '0:0.5', 'again')
        self.assertEqual((again['acked'], again['skipped']), ('0', first['updates']))
        resent = int(first['resent']) + int(second['resent'])
        self.assertGreater(resent, 0)
        with d.query() as q:
            quality = q.ok('QUALITY *').dicts()
        # a batch sent twice is stored once; its second copy counts as a
        # duplicate (in QUALITY when it reached the store, which it does
        # unless the first was acknowledged before the copy was read)
        dups = sum(int(r['duplicates']) for r in quality)
        self.assertGreater(dups, 0, quality)
        self.assertLessEqual(dups, resent, quality)
        self.assertEqual(sum(int(r['retractions']) for r in quality), int(gen['retractions']))
        self.assertEqual(sum(int(r['rejected']) for r in quality), bad, quality)

        rc, out, err = run([BENCH_QUERY, '--port', str(d.query_port), '--data', data,
                            '--queries', QUERIES, '--iterations', '2'])
        self.assertEqual(rc, 0, out + err)
        lines = {fields(x)['name']: fields(x) for x in out.splitlines()
                 if x.startswith('query: ')}
        for name in ('stats_leg_30d', 'stats_leg_30d_w', 'stats_all_30d', 'intransit_leg',
                     'shipment'):
            self.assertIn(name, lines, out + err)
            self.assertEqual(lines[name]['errors'], '0')
            self.assertGreater(int(lines[name]['samples']), 0)
        self.assertEqual(int(lines['stats_leg_30d']['samples']), 2 * 12)
        rc, out, err = run([BENCH_QUERY, '--port', str(d.query_port), '--data', data,
                            '--queries', QUERIES, '--only', 'stats_leg_30d', '--loop',
                            '--connections', '2', '--duration', '1'])
        self.assertEqual(rc, 0, out + err)
        loop = fields(out)
        self.assertGreater(int(loop['queries']), 0)
        self.assertEqual(loop['errors'], '0')
        with d.query() as q:
            rows = q.ok('STATS * %s %s' % (m['from'], m['to'])).dicts()
        self.assertEqual(len(rows), 12)
        self.assertTrue(all(int(r['n']) > 0 for r in rows), rows)
        self.assertEqual(d.stop(), 0, d.log_tail())

        # what is stored: every good update once per seq, the duplicates
        # under the message id they repeat, every retracted one marked
        stored, retracted, repeated = 0, 0, 0
        for path in glob.glob(os.path.join(d.state_dir, 'legs', '*.db')):
            db = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
            stored += db.execute('SELECT count(*) FROM events').fetchone()[0]
            retracted += db.execute('SELECT count(*) FROM events WHERE retracted = 1'
                                    ).fetchone()[0]
            repeated += db.execute('SELECT count(*) FROM (SELECT 1 FROM events GROUP BY '
                                   'carrier, message_id HAVING count(*) > 1)').fetchone()[0]
            db.close()
        self.assertEqual(stored, total - bad)
        self.assertEqual(retracted, int(gen['retractions']))
        self.assertEqual(repeated, int(gen['duplicates']))


if __name__ == '__main__':
    harness.main()
