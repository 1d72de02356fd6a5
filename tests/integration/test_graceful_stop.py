#!/usr/bin/python3
"""Graceful stop under load: SIGTERM while carriers push (through a slowed
store, so there is a backlog to commit). Every update read from a socket is
committed and acknowledged, or refused as retryable: for each carrier the
stored seqs are exactly 1..the last Ack it received before the daemon's
Error SHUTTING_DOWN and close, field by field; corridord exits 0 within
shutdown_deadline_s, and after a restart each Welcome repeats that last Ack.
When the store is too slow for the deadline, the process still ends by it
and nothing acknowledged is missing."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

CARRIERS = ('KTZE', 'KMTF', 'PTCH', 'ADYC', 'ASCO', 'POB')
SEED = 'stop'
# the daemon's stop may take at most this, plus start-up of Python's wait
EXIT_SLACK_S = 1.5


class GracefulStop(unittest.TestCase):

    def setUp(self):
        self.pb = ic.load_pb2()
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]

    def run_load(self, limits, push_s):
        args = []
        for name, value in limits.items():
            args += ['--limit', '%s=%s' % (name, value)]
        d = harness.new_daemon(self, extra_args=args)
        d.start()
        self.t0 = int(time.time() * 1000)
        carriers = [dur.ResendingCarrier(lambda: d.carrier_port, code, SEED, self.legs,
                                         window=600, reconnect=False)
                    for code in CARRIERS]
        for c in carriers:
            self.addCleanup(c.halt.set)
            c.start()
        deadline = time.monotonic() + 20
        while any(c.mark == 0 for c in carriers):
            self.assertLess(time.monotonic(), deadline, 'no Acks:\n' + d.log_tail())
            time.sleep(0.05)
        time.sleep(push_s)
        marks_at_term = {c.code: c.snapshot()[0] for c in carriers}
        t = time.monotonic()
        d.proc.send_signal(15)
        rc = d.proc.wait(timeout=int(limits['shutdown_deadline_s']) + 30)
        elapsed = time.monotonic() - t
        d.proc = None
        dur.wait_all(carriers, 10, 'after the stop')
        return d, carriers, rc, elapsed, marks_at_term

    def test_sigterm_under_load(self):
        deadline_s = 10
        d, carriers, rc, elapsed, at_term = self.run_load(
            {'writer_commit_delay_ms': 300, 'shutdown_deadline_s': deadline_s}, 1.5)
        print('stopped in %.2f s (deadline %d s), exit %s; per carrier: mark heard at '
              'SIGTERM / last Ack / sent: %s' % (elapsed, deadline_s, rc, ', '.join(
                  '%s %d/%s/%d' % (c.code, at_term[c.code], c.last_session_ack, c.max_sent)
                  for c in carriers)))
        # the stop committed and acknowledged work that was queued at SIGTERM
        self.assertGreater(sum(c.last_session_ack - at_term[c.code] for c in carriers), 0)
        self.assertEqual(rc, 0, d.log_tail())
        self.assertLess(elapsed, deadline_s)
        self.assertEqual(dur.carrier_problems(carriers), [])
        events = dur.stored_events(d.state_dir)
        seqs = dur.stored_seqs(events)
        updates = {}
        print('stored: %s' % ', '.join('%s %d..%d (%d) errors %s' % (
            c.code, min(seqs.get(c.code, [0])), max(seqs.get(c.code, [0])),
            len(seqs.get(c.code, [])), c.error_codes) for c in carriers))
        for c in carriers:
            self.assertIn('SHUTTING_DOWN', c.error_codes, c.code)
            self.assertEqual(c.disconnects, 1, c.code)
            last = c.last_session_ack
            self.assertIsNotNone(last, c.code)
            self.assertGreater(c.max_sent, last, '%s: nothing was in flight' % c.code)
            self.assertEqual(seqs.get(c.code, []), list(range(1, last + 1)),
                             '%s: stored seqs are not 1..%d' % (c.code, last))
            self.assertTrue(all(r[2] for r in c.rejections), c.rejections[:5])
            updates.update({(c.code, s): c.updates[s] for s in range(1, last + 1)})
        self.assertEqual(dur.row_mismatches(self.pb, events, updates, self.t0,
                                            int(time.time() * 1000)), [])
        self.assertEqual(dur.integrity_problems(d.state_dir), [])
        self.assertIn('stopping reason=sigterm', d.log_text())
        d.start()
        for c in carriers:
            with ic.Carrier(d.carrier_port, c.code) as s:
                self.assertEqual(s.hello().acked_seq, c.last_session_ack, c.code)
        self.assertEqual(d.stop(), 0, d.log_tail())

    def test_deadline_bounds_the_stop(self):
        # each group commit waits 3 s: the backlog cannot be stored in 2 s
        deadline_s = 2
        d, carriers, rc, elapsed, _ = self.run_load(
            {'writer_commit_delay_ms': 3000, 'shutdown_deadline_s': deadline_s}, 0.5)
        print('stopped in %.2f s (deadline %d s), exit %s' % (elapsed, deadline_s, rc))
        # past the deadline the work left is abandoned (exit 1), but no crash
        self.assertIn(rc, (0, 1), d.log_tail())
        self.assertLess(elapsed, deadline_s + EXIT_SLACK_S, d.log_tail())
        self.assertEqual(dur.carrier_problems(carriers), [])
        seqs = dur.stored_seqs(dur.stored_events(d.state_dir))
        for c in carriers:
            last = c.last_session_ack or 0
            have = set(seqs.get(c.code, ()))
            self.assertEqual([s for s in range(1, last + 1) if s not in have], [],
                             '%s: acknowledged but not stored' % c.code)
        self.assertEqual(dur.integrity_problems(d.state_dir), [])


if __name__ == '__main__':
    harness.main()
