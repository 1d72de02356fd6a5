#!/usr/bin/python3
"""Crash recovery: carriers push continuously while corridord is killed with
SIGKILL at random moments (seeded: CORRIDOR_TEST_SEED), restarted on the same
ports and state directory each time; the carriers reconnect and resend what
was not acknowledged. After every kill, before the restart, every update a
carrier has heard acknowledged must be in the leg files, nothing twice, every
file passing PRAGMA integrity_check; at the end every update sent is stored
exactly once, field by field, and the Welcome of a last session tells each
carrier its whole stream is acknowledged. A Welcome below a mark the carrier
already heard fails the test."""
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

SEED = int(os.environ.get('CORRIDOR_TEST_SEED') or 20261127)
KILLS = 6
CARRIERS = ('KTZE', 'KMTF', 'PTCH', 'ADYC')


class CrashRecovery(unittest.TestCase):

    def setUp(self):
        self.pb = ic.load_pb2()
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        self.daemon = harness.new_daemon(self)

    def check_after_kill(self, carriers, n):
        """The daemon is dead: what each carrier heard acknowledged is stored."""
        marks = {c.code: c.snapshot() for c in carriers}
        events = dur.stored_events(self.daemon.state_dir)
        seqs = dur.stored_seqs(events)
        problems = dur.integrity_problems(self.daemon.state_dir)
        for code, (mark, sent) in marks.items():
            have = set(seqs.get(code, ()))
            missing = [s for s in range(1, mark + 1) if s not in have]
            if missing:
                problems.append('%s: acknowledged up to %d, not stored: %s%s' % (
                    code, mark, missing[:10], '...' if len(missing) > 10 else ''))
            above = [s for s in have if s > sent]
            if above:
                problems.append('%s: stored seqs never sent: %s' % (code, sorted(above)[:10]))
        problems += ['%s seq %d stored %d times' % (k + (len(v),))
                     for k, v in events.items() if len(v) > 1]
        self.assertEqual(problems, [], 'after kill %d:\n%s\n%s' % (
            n, '\n'.join(problems), self.daemon.log_tail()))
        return {code: (m, s, len(seqs.get(code, ()))) for code, (m, s) in marks.items()}

    def test_sigkill_while_carriers_push(self):
        rng = random.Random(SEED)
        t0 = int(time.time() * 1000)
        self.daemon.start()
        carriers = [dur.ResendingCarrier(lambda: self.daemon.carrier_port, code, SEED,
                                         self.legs, pace=1500)
                    for code in CARRIERS]
        for c in carriers:
            self.addCleanup(c.halt.set)
            c.start()
        print('seed %d' % SEED)
        for n in range(1, KILLS + 1):
            delay = rng.uniform(0.05, 1.5)
            time.sleep(delay)
            self.assertTrue(self.daemon.alive(), self.daemon.log_tail())
            self.daemon.kill()          # SIGKILL, then waitpid
            dur.wait_disconnected(carriers, 15)
            figures = self.check_after_kill(carriers, n)
            print('kill %d after %.2f s: %s' % (n, delay, ', '.join(
                '%s acked %d sent %d stored %d' % ((code,) + f)
                for code, f in sorted(figures.items()))))
            self.daemon.start(same_ports=True)
        time.sleep(rng.uniform(0.5, 1.0))
        for c in carriers:
            c.stop_new.set()
        dur.wait_all(carriers, 60, 'after the last restart')
        self.assertEqual(dur.carrier_problems(carriers), [])
        for c in carriers:
            # every kill cut a live session; each reconnect resumed from its Welcome
            self.assertGreaterEqual(c.sessions, KILLS + 1, c.code)
            self.assertEqual(c.mark, c.max_sent, c.code)
        rc = self.daemon.stop()
        self.assertEqual(rc, 0, self.daemon.log_tail())

        events = dur.stored_events(self.daemon.state_dir)
        updates = {(c.code, s): c.updates[s] for c in carriers
                   for s in range(1, c.max_sent + 1)}
        seqs = dur.stored_seqs(events)
        for c in carriers:
            self.assertEqual(seqs.get(c.code), list(range(1, c.max_sent + 1)), c.code)
        self.assertEqual(dur.row_mismatches(self.pb, events, updates, t0,
                                            int(time.time() * 1000)), [])
        self.assertEqual(dur.integrity_problems(self.daemon.state_dir), [])

        # a last session learns that everything is acknowledged
        self.daemon.start(same_ports=True)
        for c in carriers:
            with ic.Carrier(self.daemon.carrier_port, c.code) as s:
                self.assertEqual(s.hello().acked_seq, c.max_sent, c.code)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log_tail())
        print('stored %d updates over %d sessions; welcomes: %s' % (
            len(updates), sum(c.sessions for c in carriers),
            '; '.join('%s %s' % (c.code, c.welcomes) for c in carriers)))


if __name__ == '__main__':
    harness.main()
