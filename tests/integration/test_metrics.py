#!/usr/bin/python3
"""The metrics endpoint: after a known push (N good updates, M bad ones) the
Prometheus text of GET /metrics counts exactly that, the commit histogram
counts every writer transaction, /health answers, other paths and methods are
refused, and corridorctl info reads the same figures."""
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

GOOD, BAD = 40, 6
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')


def parse(text):
    """{(name, frozenset of label pairs): value}, checking every sample has
    its # TYPE line first."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        assert m, 'not a sample line: %r' % line
        name, labels, value = m.groups()
        family = re.sub(r'_(bucket|sum|count)$', '', name)
        assert name in typed or family in typed, 'no # TYPE before %s' % name
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or ''))
        out[(name, pairs)] = float(value)
    return out


class Metrics(unittest.TestCase):

    def setUp(self):
        self.port = harness.free_port()
        self.d = harness.new_daemon(self, extra_args=['--metrics-listen',
                                                      '127.0.0.1:%d' % self.port])
        self.d.start()

    def get(self, path, method='GET', data=None):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.port, path),
                                     method=method, data=data)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()

    def status_of(self, path, method='GET', data=None):
        try:
            return self.get(path, method, data)[0]
        except urllib.error.HTTPError as e:
            return e.code

    def scrape(self):
        status, headers, body = self.get('/metrics')
        self.assertEqual(status, 200)
        self.assertIn('version=0.0.4', headers['Content-Type'])
        return parse(body)

    def push(self):
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        now = int(time.time() * 1000)
        ups = []
        for seq in range(1, GOOD + BAD + 1):
            f = dur.make_update_fields('metrics', 'KTZE', seq, legs, now)
            if seq > GOOD and seq % 2 == 0:
                f['leg'] = 'KZ-RAIL-NOWHERE'
            elif seq > GOOD:
                f['carrier'] = 'KMTF'
            ups.append(ic.make_update(**f))
        c = ic.Carrier(self.d.carrier_port, 'KTZE')
        self.addCleanup(c.close)
        c.hello()
        c.send(ups)
        c.wait_acked(GOOD + BAD)
        return c

    def test_counts_match_the_push(self):
        before = self.scrape()
        self.assertEqual(before[('corridor_updates_received_total', frozenset())], 0)
        info = [k for k in before if k[0] == 'corridor_build_info']
        self.assertEqual(len(info), 1)
        self.assertEqual({k for k, _ in info[0][1]}, {'version', 'libevent', 'sqlite',
                                                      'protobuf_c', 'store'})
        self.assertIn(('store', 'sqlite'), info[0][1])

        c = self.push()
        reasons = {}
        for r in c.rejections.values():
            name = c.pb.RejectReason.Name(r.reason)
            reasons[name] = reasons.get(name, 0) + 1
        self.assertEqual(sorted(c.rejections), list(range(GOOD + 1, GOOD + BAD + 1)))
        self.assertEqual(reasons, {'UNKNOWN_LEG': BAD // 2, 'WRONG_CARRIER': BAD - BAD // 2})

        m = self.scrape()
        one = frozenset()
        self.assertEqual(m[('corridor_updates_received_total', one)], GOOD + BAD)
        self.assertEqual(m[('corridor_updates_stored_total', one)], GOOD)
        self.assertEqual(m[('corridor_updates_duplicate_total', one)], 0)
        for name in c.pb.RejectReason.keys():
            self.assertEqual(m[('corridor_updates_rejected_total',
                                frozenset({('reason', name)}))], reasons.get(name, 0), name)
        self.assertEqual(m[('corridor_busy_batches_total', one)], 0)
        self.assertEqual(m[('corridor_writer_backlog', one)], 0)
        self.assertEqual(m[('corridor_writer_failures_total', one)], 0)
        self.assertGreaterEqual(m[('corridor_connections', one)], 1)
        refused = {dict(k[1])['reason']: v for k, v in m.items()
                   if k[0] == 'corridor_connections_refused_total'}
        self.assertIn('per_ip', refused)
        self.assertEqual(sum(refused.values()), 0, refused)

        # one histogram observation per writer transaction; cumulative buckets
        batches = m[('corridor_writer_batches_total', one)]
        self.assertGreaterEqual(batches, 1)
        self.assertEqual(m[('corridor_commit_seconds_count', one)], batches)
        buckets = sorted((float(dict(k[1])['le']), v) for k, v in m.items()
                         if k[0] == 'corridor_commit_seconds_bucket')
        self.assertEqual(buckets[-1], (float('inf'), batches))
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))
        self.assertGreater(m[('corridor_commit_seconds_sum', one)], 0)

        legs = {dict(k[1])['leg']: v for k, v in m.items()
                if k[0] == 'corridor_leg_updates_stored_total'}
        self.assertEqual(sum(legs.values()), GOOD)

        def carrier(name, code='KTZE'):
            return m[(name, frozenset({('carrier', code)}))]
        self.assertEqual(carrier('corridor_carrier_updates_received_total'), GOOD + BAD)
        self.assertEqual(carrier('corridor_carrier_updates_stored_total'), GOOD)
        self.assertEqual(carrier('corridor_carrier_updates_rejected_total'), BAD)
        self.assertEqual(carrier('corridor_carrier_acked_seq'), GOOD + BAD)
        self.assertEqual(carrier('corridor_carrier_updates_stored_total', 'KMTF'), 0)

        # corridorctl info reads the same figures, as JSON and as a table
        env = dict(os.environ, CORRIDOR_METRICS_PORT=str(self.port))
        p = subprocess.run([harness.CORRIDORCTL, '--json', 'info'], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual(j['stored'], GOOD)
        self.assertEqual(j['received'], GOOD + BAD)
        self.assertEqual(j['rejected']['UNKNOWN_LEG'], BAD // 2)
        self.assertEqual(j['commit_latency']['transactions'], batches)
        self.assertIsNotNone(j['commit_latency']['p99_s'])
        row = [r for r in j['carriers'] if r['carrier'] == 'KTZE'][0]
        self.assertEqual((row['stored'], row['acked_seq']), (GOOD, GOOD + BAD))
        p = subprocess.run([harness.CORRIDORCTL, '--port', str(self.port), 'info'],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'updates stored\s+%d\n' % GOOD)
        self.assertRegex(p.stdout, r'\nKTZE\s+%d\s+%d\s' % (GOOD + BAD, GOOD))

    def test_health_paths_and_methods(self):
        status, _, body = self.get('/health')
        self.assertEqual((status, body), (200, 'ok\n'))
        self.assertEqual(self.status_of('/nope'), 404)
        self.assertEqual(self.status_of('/metrics', 'POST', b'x=1'), 405)
        self.assertEqual(self.status_of('/health', 'DELETE'), 405)
        status, _, body = self.get('/metrics', 'HEAD')
        self.assertEqual((status, body), (200, ''))
        # a request head beyond the bound is refused, and the daemon goes on
        big = urllib.request.Request('http://127.0.0.1:%d/metrics' % self.port,
                                     headers={'X-Big': 'a' * 20000})
        with self.assertRaises((urllib.error.HTTPError, OSError)):
            urllib.request.urlopen(big, timeout=10).read()
        self.assertEqual(self.status_of('/health'), 200)
        self.assertEqual(self.d.stop(), 0)


if __name__ == '__main__':
    harness.main()
