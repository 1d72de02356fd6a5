#!/usr/bin/python3
"""The database away for 30 s under load (store = postgresql): carriers keep
pushing while PostgreSQL is stopped and started again. Throughout, corridord
stays up and answers: carriers get retryable answers (a retryable Rejection,
or BUSY while its queues are full) and never an ack for what was not
stored, queries get ERR UNAVAILABLE (retryable), PING answers. Once the
database is back the daemon recovers by itself, and in the end every update
is stored exactly once and every ack was honoured. Standard library only."""
import os
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
OUTAGE_S = 30
LOAD_BEFORE_S = 3
CARRIERS = ('KTZE', 'KMTF', 'ADYC')
BATCH = 20
RETRY_PAUSE_S = 0.25    # what a carrier waits after a retryable answer
RECOVER_TIMEOUT_S = 120


def update(carrier, seq, base):
    j = seq - 1
    return ic.make_update(
        carrier=carrier, seq=seq, message_id='%s-%d' % (carrier, seq),
        event_class='TRANSPORT', classifier='ACT',
        event_code='DEPA' if j % 2 == 0 else 'ARRI',
        event_time_ms=base + (j // 2) * 60000 + (j % 2) * 40 * H, node='N-RAIL',
        leg='KZ-RAIL-ALT-AKT', direction='W',
        container=model.container('TGHU', CARRIERS.index(carrier) * 100000 + j // 2),
        iso_type='45G1', gross_kg=12000)


class Pusher(threading.Thread):
    """Pushes batches until told to stop, reconnecting and resending from
    the Welcome's mark after any retryable answer or a closed session."""

    def __init__(self, daemon, code, base):
        super().__init__(daemon=True)
        self.d, self.code, self.base = daemon, code, base
        self.stop = threading.Event()
        self.acked = 0
        self.sent = 0           # the highest seq sent
        self.retryable = 0      # retryable Rejections and Errors seen
        self.fatal = []         # anything not retryable
        self.acks_at = []       # (monotonic time, acked_seq)

    def run(self):
        while not self.stop.is_set():
            try:
                self.session()
            except (OSError, ic.CarrierError) as e:
                self.retryable += 1
                if isinstance(e, ic.CarrierError) and e.code not in ('BUSY', 'CLOSED',
                                                                       'SHUTTING_DOWN'):
                    self.fatal.append('%s %s' % (e.code, e.message))
                time.sleep(RETRY_PAUSE_S)

    def session(self):
        with ic.Carrier(self.d.carrier_port, self.code, timeout=10) as c:
            w = c.hello()
            if w.acked_seq < self.acked:
                self.fatal.append('Welcome acked_seq %d below %d' % (w.acked_seq, self.acked))
            seq = w.acked_seq
            while not self.stop.is_set():
                batch = [update(self.code, s, self.base) for s in range(seq + 1,
                                                                        seq + 1 + BATCH)]
                c.send(batch)
                self.sent = max(self.sent, seq + BATCH)
                # a retryable Rejection holds the mark: the wait times
                # out (an OSError) and run() resends from the next Welcome
                got = c.wait_acked(seq + BATCH, timeout=5)
                self.acked = max(self.acked, got)
                self.acks_at.append((time.monotonic(), got))
                seq = got


class Outage(unittest.TestCase):

    def setUp(self):
        self.pg = pg_server.PgServer().start()
        self.addCleanup(self.pg.stop)
        self.d = harness.new_daemon(self, extra_args=[
            '--store', 'postgresql', '--pg-conninfo', self.pg.conninfo])
        self.d.start()

    def test_thirty_seconds_without_the_database(self):
        base = model.scenario_base_ms()
        pushers = [Pusher(self.d, code, base) for code in CARRIERS]
        for p in pushers:
            p.start()
        time.sleep(LOAD_BEFORE_S)
        self.assertTrue(all(p.acked > 0 for p in pushers), [p.acked for p in pushers])

        self.pg.stop_server()
        down_at = time.monotonic()
        acked_down = {p.code: p.acked for p in pushers}
        unavailable = 0
        while time.monotonic() - down_at < OUTAGE_S:
            self.assertTrue(self.d.alive(), self.d.log_tail())
            with self.d.query() as q:
                self.assertTrue(q.request('PING').ok)
                a = q.request('STATS KZ-RAIL-ALT-AKT')
            if not a.ok:
                self.assertEqual(a.code, 'UNAVAILABLE', a.message)
                unavailable += 1
            time.sleep(1)
        self.assertGreater(unavailable, OUTAGE_S // 2)
        # while it was down nothing could be stored, so nothing was acked
        # beyond what a commit in flight at the stop had made durable
        self.pg.start_server()
        up_at = time.monotonic()

        # recovered by itself: every carrier is acknowledged again
        deadline = up_at + RECOVER_TIMEOUT_S
        while any(p.acked <= acked_down[p.code] + BATCH for p in pushers):
            self.assertLess(time.monotonic(), deadline,
                            'no acks after the database came back:\n' + self.d.log_tail())
            time.sleep(0.2)
        first = min(t for p in pushers for t, s in p.acks_at
                    if t > up_at and s > acked_down[p.code])
        for p in pushers:
            p.stop.set()
        for p in pushers:
            p.join(30)
            self.assertFalse(p.is_alive())
            self.assertEqual(p.fatal, [], p.code)
        self.assertTrue(any(p.retryable for p in pushers))
        sys.stderr.write('outage: %d s down; first new ack %.1f s after the database was back;'
                         ' %d queries answered UNAVAILABLE; retryable answers %s\n' % (
                             OUTAGE_S, first - up_at, unavailable,
                             {p.code: p.retryable for p in pushers}))

        # queries too: a query thread's connection waits out its own backoff
        # (up to PG_DB_BACKOFF_MAX_MS and a quarter), answering UNAVAILABLE
        while True:
            with self.d.query() as q:
                a = q.request('STATS KZ-RAIL-ALT-AKT')
            if a.ok:
                break
            self.assertEqual(a.code, 'UNAVAILABLE', a.message)
            self.assertLess(time.monotonic(), deadline, 'queries did not recover:\n' +
                            self.d.log_tail())
            time.sleep(0.2)
        for p in pushers:
            stored = self.pg.psql("SELECT count(*), coalesce(max(seq), 0) FROM events"
                               " WHERE carrier = '%s'" % p.code).split('|')
            n, top = int(stored[0]), int(stored[1])
            # every ack honoured: 1..acked all there, once (no gaps, no copies)
            self.assertGreaterEqual(n, p.acked, p.code)
            self.assertEqual(n, top, p.code)
        self.assertEqual(self.pg.psql('SELECT count(*) FROM (SELECT carrier, seq FROM events'
                                   ' GROUP BY 1, 2 HAVING count(*) > 1) d'), '0')
        self.assertTrue(self.d.alive())


if __name__ == '__main__':
    harness.main()
