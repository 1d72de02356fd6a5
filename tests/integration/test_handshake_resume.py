#!/usr/bin/python3
"""Handshake resume: after a reconnect (a closed session, a replaced one, a
SIGKILL of the daemon before its mark checkpoint, a graceful restart) the
Welcome tells the carrier exactly its acknowledged high-water mark, and
resending only what lies above it completes the stream: gaps hold the mark
back, updates stored beyond a gap count once the gap is filled, a final
rejection counts towards the mark (also across a crash), and nothing is
stored twice."""
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

SEED = 'resume'
CODE = 'KTZE'


class HandshakeResume(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.pb = ic.load_pb2()
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        self.now = int(time.time() * 1000)
        self.t0 = self.now
        self.sent = {}

    def fields(self, seq):
        u = self.sent.get(seq)
        if u is None:
            u = dur.make_update_fields(SEED, CODE, seq, self.legs, self.now)
            self.sent[seq] = u
        return u

    def session(self):
        c = ic.Carrier(self.daemon.carrier_port, CODE)
        self.addCleanup(c.close)
        return c, c.hello().acked_seq

    def send(self, c, seqs):
        c.send([ic.make_update(**self.fields(s)) for s in seqs])

    def kill_restart(self):
        self.daemon.kill()
        self.daemon.start(same_ports=True)

    def test_resume_from_the_welcome_mark(self):
        c, w = self.session()
        self.assertEqual(w, 0)
        self.send(c, range(1, 501))
        self.assertEqual(c.wait_acked(500), 500)
        c.close()

        # a plain reconnect: the mark is what was acknowledged
        c, w = self.session()
        self.assertEqual(w, 500)
        self.send(c, range(501, 601))
        c.wait_acked(600)
        # a gap at 651: the mark stays at 650, what lies beyond it is kept
        self.send(c, list(range(601, 651)) + list(range(652, 701)))
        c.wait_acked(650)
        dur.read_for(c, 1.0)
        self.assertEqual(c.acked_seq, 650, 'the mark passed a gap')
        c.close()
        c, w = self.session()
        self.assertEqual(w, 650)
        self.send(c, [651])             # only the missing one
        self.assertEqual(c.wait_acked(700), 700)

        # a newer session replaces the older one, which hears REPLACED
        c2, w = self.session()
        self.assertEqual(w, 700)
        self.assertEqual(c.expect_error(), ('REPLACED', True))
        c = c2

        # SIGKILL right after the Ack, before the once-a-second checkpoint:
        # the mark comes back from the leg files
        self.send(c, range(701, 801))
        c.wait_acked(800)
        self.kill_restart()
        c, w = self.session()
        self.assertEqual(w, 800)

        # a final rejection at the top counts towards the mark, across a crash
        bad = {k: v for k, v in self.fields(810).items() if k not in (
            'train_id', 'vessel_imo', 'wagon_id', 'truck_plate', 'gross_kg')}
        bad['container'] = 'CSQU3054384'       # wrong check digit
        self.sent[810] = bad
        self.send(c, range(801, 811))
        self.assertEqual(c.wait_acked(810), 810)
        r = c.rejections.get(810)
        self.assertIsNotNone(r, 'no Rejection for seq 810')
        self.assertEqual(self.pb.RejectReason.Name(r.reason), 'BAD_CHECK_DIGIT')
        self.assertFalse(r.retryable)
        self.kill_restart()
        c, w = self.session()
        self.assertEqual(w, 810)

        # a gap, then a crash: what was stored beyond it is found again
        self.send(c, list(range(811, 821)) + list(range(822, 831)))
        c.wait_acked(820)
        time.sleep(0.3)                 # let 822..830 commit
        self.kill_restart()
        c, w = self.session()
        self.assertEqual(w, 820)
        self.send(c, [821])
        self.assertEqual(c.wait_acked(830), 830)

        # resending what is acknowledged is answered with the Ack, not stored
        self.send(c, range(1, 101))
        self.assertEqual(c.wait_ack_message(), 830)

        # a graceful restart
        c.close()
        self.assertEqual(self.daemon.restart(), 0, self.daemon.log_tail())
        c, w = self.session()
        self.assertEqual(w, 830)
        c.close()
        self.stop_daemon()

        events = dur.stored_events(self.daemon.state_dir)
        good = {(CODE, s): u for s, u in self.sent.items() if s != 810}
        self.assertEqual(sorted(events), sorted(good))
        self.assertEqual(dur.row_mismatches(self.pb, events, good, self.t0,
                                            int(time.time() * 1000)), [])
        self.assertEqual(dur.integrity_problems(self.daemon.state_dir), [])
        # the daemon's own log agrees with what the carrier was told
        hellos = [int(line.rsplit('acked_seq=', 1)[1]) for line in
                  self.daemon.log_text().splitlines() if ' hello ' in line]
        self.assertEqual(hellos, [0, 500, 650, 700, 800, 810, 820, 830])


if __name__ == '__main__':
    harness.main()
