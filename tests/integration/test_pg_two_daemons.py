#!/usr/bin/python3
"""Two corridord on one PostgreSQL database (store = postgresql): carriers
spread over both, each carrier switching daemons many times mid-stream
(after its acks, and with updates still in flight), and units whose entry
and exit come from two carriers through the two daemons at the same moment.
Every update must be stored exactly once, every ack honoured (a Welcome
never tells a carrier less than it was acknowledged anywhere, and right
after a switch it tells exactly what was acknowledged), and the statistics
must equal a single daemon's fed the same updates. Standard library only."""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import independent_carrier as ic  # noqa: E402
import pg_server  # noqa: E402

H = model.HOUR_MS
RAIL = 'KZ-RAIL-ALT-AKT'
PORT = 'KZ-PORT-AKT'
CARRIERS = ('KTZE', 'KMTF', 'PTCH', 'ASCO')
UNITS = 120             # per carrier, each an entry and an exit
SHARED = 40             # units entered by KTZE and left through ADYC
CHUNK = 37              # updates a session sends before it moves
PUSH_TIMEOUT_S = 120


def update(carrier, seq, code, t, leg, unit_serial, owner):
    return {'carrier': carrier, 'seq': seq, 'message_id': '%s-%d' % (carrier, seq),
            'event_class': 'TRANSPORT' if code in model.TRANSPORT else 'EQUIPMENT',
            'classifier': 'ACT', 'event_code': code,
            'event_time_ms': t, 'node': 'N-' + leg, 'leg': leg, 'direction': 'W',
            'container': model.container(owner, unit_serial), 'iso_type': '45G1',
            'gross_kg': 10000 + unit_serial % 20000}


def workload(base):
    """Per carrier, its updates in seq order; and the shared units' two halves."""
    out = {}
    for ci, code in enumerate(CARRIERS):
        ups = []
        for j in range(UNITS):
            serial = ci * 100000 + j
            leg = RAIL if j % 3 else PORT
            enter = base + j * H + ci * 60000
            dur = (30 + (j * 37 + ci * 11) % 110) * H
            ups.append(update(code, len(ups) + 1, 'DEPA' if leg == RAIL else 'GTIN', enter,
                              leg, serial, 'TGHU'))
            ups.append(update(code, len(ups) + 1, 'ARRI' if leg == RAIL else 'GTOT',
                              enter + dur, leg, serial, 'TGHU'))
        out[code] = ups
    enters, exits = [], []
    for j in range(SHARED):
        serial = 900000 + j
        enter = base + j * 2 * H
        enters.append(update('KTZE', 0, 'DEPA', enter, RAIL, serial, 'MSKU'))
        exits.append(update('ADYC', 0, 'ARRI', enter + (50 + j) * H, RAIL, serial, 'MSKU'))
    return out, enters, exits


class Pusher(threading.Thread):
    """One carrier: its updates in chunks, each chunk through the next
    daemon; now and then it leaves with a chunk unacknowledged."""

    def __init__(self, test, code, updates, daemons, seed):
        super().__init__(daemon=True)
        self.test, self.code, self.updates, self.daemons = test, code, updates, daemons
        self.rng = random.Random(seed)
        self.acked = 0          # the highest ack any daemon sent
        self.welcomes = []      # (daemon index, welcome acked_seq, acked before)
        self.error = None

    def run(self):
        try:
            self.push()
        except BaseException as e:   # reported by the test
            self.error = e

    def push(self):
        i = 0
        deadline = time.monotonic() + PUSH_TIMEOUT_S
        while self.acked < len(self.updates):
            if time.monotonic() > deadline:
                raise AssertionError('%s: acked %d of %d' % (self.code, self.acked,
                                                              len(self.updates)))
            d = self.daemons[i % len(self.daemons)]
            i += 1
            with ic.Carrier(d.carrier_port, self.code) as c:
                w = c.hello()
                self.welcomes.append((i % len(self.daemons), w.acked_seq, self.acked))
                if w.acked_seq < self.acked:
                    raise AssertionError('%s: Welcome acked_seq %d below the %d acknowledged'
                                         % (self.code, w.acked_seq, self.acked))
                start = w.acked_seq
                chunk = [ic.make_update(**u) for u in self.updates[start:start + CHUNK]]
                if not chunk:
                    self.acked = max(self.acked, start)
                    continue
                c.send(chunk)
                if self.rng.random() < 0.3:
                    continue        # leaves with the chunk in flight
                self.acked = max(self.acked, c.wait_acked(start + len(chunk)))
                if c.rejections:
                    raise AssertionError('%s: rejected %s' % (self.code, c.rejections))


class TwoDaemons(unittest.TestCase):

    def setUp(self):
        self.pg = pg_server.PgServer().start()
        self.addCleanup(self.pg.stop)
        args = ['--store', 'postgresql', '--pg-conninfo', self.pg.conninfo]
        self.a = harness.new_daemon(self, extra_args=args)
        self.b = harness.new_daemon(self, extra_args=args)
        self.a.start()
        self.b.start()
        self.base = model.scenario_base_ms()

    def push_shared(self, halves):
        """The shared units' entries through one daemon and exits through
        the other, both carriers at once."""
        def one(code, ups, d):
            ups = [dict(u, seq=n + 1, message_id='%s-shared-%d' % (code, n + 1))
                   for n, u in enumerate(ups)]
            with ic.Carrier(d.carrier_port, code) as c:
                c.hello()
                for u in ups:       # one batch each: interleaved with the other
                    c.send([ic.make_update(**u)])
                c.wait_acked(len(ups), timeout=PUSH_TIMEOUT_S)
                self.assertEqual(c.rejections, {})
        enters, exits = halves
        ts = [threading.Thread(target=one, args=('ADYC', exits, self.b)),
              threading.Thread(target=one, args=('KTZE', enters, self.a))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(PUSH_TIMEOUT_S)

    def test_two_daemons_one_database(self):
        per_carrier, enters, exits = workload(self.base)
        # the shared units first, on their own: KTZE's own stream follows
        self.push_shared((enters, exits))
        shared_ktze = len(enters)
        per_carrier['KTZE'] = [dict(u, seq=u['seq'] + shared_ktze,
                                    message_id='KTZE-%d' % (u['seq'] + shared_ktze))
                               for u in per_carrier['KTZE']]
        per_carrier['KTZE'] = [dict(u, seq=n + 1, message_id='KTZE-shared-%d' % (n + 1))
                               for n, u in enumerate(enters)] + per_carrier['KTZE']
        pushers = [Pusher(self, code, ups, (self.a, self.b) if n % 2 else (self.b, self.a),
                          seed=n)
                   for n, (code, ups) in enumerate(sorted(per_carrier.items()))]
        for p in pushers:
            p.start()
        for p in pushers:
            p.join(PUSH_TIMEOUT_S + 30)
            self.assertIsNone(p.error, '%s: %s' % (p.code, p.error))
            self.assertFalse(p.is_alive(), p.code)
            moves = len(p.welcomes)
            self.assertGreater(moves, 6, p.code)
            # right after a session that waited for its acks, the next
            # Welcome (on the other daemon) says exactly that mark
            exact = sum(1 for _, said, before in p.welcomes if said == before)
            self.assertGreater(exact, moves // 3, (p.code, p.welcomes))

        # stored exactly once, and every (carrier, seq) claimed once
        total = sum(len(u) for u in per_carrier.values()) + len(exits)
        self.assertEqual(int(self.pg.psql('SELECT count(*) FROM events')), total)
        self.assertEqual(int(self.pg.psql('SELECT count(*) FROM update_seqs')), total)
        self.assertEqual(self.pg.psql('SELECT count(*) FROM (SELECT carrier, seq FROM events'
                                   ' GROUP BY 1, 2 HAVING count(*) > 1) d'), '0')

        # the statistics of one daemon fed the same updates, in order
        one = harness.new_daemon(self)
        one.start()
        for code, ups in sorted(per_carrier.items()) + [('ADYC', [
                dict(u, seq=n + 1, message_id='ADYC-shared-%d' % (n + 1))
                for n, u in enumerate(exits)])]:
            with ic.Carrier(one.carrier_port, code) as c:
                c.hello()
                c.send([ic.make_update(**u) for u in ups])
                c.wait_acked(len(ups), timeout=PUSH_TIMEOUT_S)
        for line in ('STATS *', 'ONTIME *', 'VOLUMES * day', 'INTRANSIT', 'INTRANSIT %s' % RAIL,
                     'JOURNEYS ALK AKT', 'HISTOGRAM %s' % RAIL):
            with one.query() as q:
                want = q.ok(line)
            for d in (self.a, self.b):
                with d.query() as q:
                    got = q.ok(line)
                drop = [i for i, c in enumerate(got.columns) if c in ('hours', 'oldest_h')]
                strip = lambda rows: [[v for i, v in enumerate(r) if i not in drop]
                                      for r in rows]
                self.assertEqual(strip(got.rows), strip(want.rows), line)
        with self.a.query() as q:
            a = q.ok('STATS %s' % RAIL)
        self.assertGreater(sum(int(r[a.columns.index('n')] or 0) for r in a.rows), UNITS)


if __name__ == '__main__':
    harness.main()
