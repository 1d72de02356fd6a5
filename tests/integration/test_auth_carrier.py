#!/usr/bin/python3
"""Carrier authentication in the handshake (issue 6): a Hello with the right
credential is welcomed; a wrong, missing, over-long or another carrier's
credential, a carrier with no credential configured and an unknown code are
refused with their documented Error; a refused Hello never disturbs the
carrier's running session; a joint credential opens sessions for each of its
codes; an update under another carrier's code is rejected WRONG_CARRIER on
its own while the rest of the batch is stored; repeated failures from one
address are refused later and later (by a timer: the loop keeps serving);
every failure is counted in /metrics."""
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

KTZ_SECRET = 'ktz-secret-6b1d0e94c2'
JOINT_SECRET = 'joint-secret-a93f7710d5'
CARRIERS = ('KTZE', 'KMTF', 'ADYC', 'MCML', 'POB')


def auth_config(path, limits):
    """KTZE has its own credential, MCML and ADYC share a joint one, KMTF has
    the harness's, POB has none."""
    harness.write_config(path, carriers=CARRIERS, limits=limits, auth=False)
    with open(path, 'a', encoding='utf-8') as f:
        f.write('[credentials]\n')
        f.write('ktz = %s KTZE\n' % harness.hash_secret(KTZ_SECRET))
        f.write('joint = %s MCML ADYC\n' % harness.hash_secret(JOINT_SECRET))
        f.write('kmtf = %s KMTF\n' % harness.hash_secret(harness.CARRIER_SECRET))
        f.write(harness.auth_lines(carriers=(), secret=None))
    return path


metric = harness.metric


class AuthDaemon(unittest.TestCase):
    limits = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='corridor-auth-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        conf = auth_config(os.path.join(self.tmp, 'corridord.conf'), self.limits)
        self.metrics_port = harness.free_port()
        self.daemon = harness.new_daemon(self, extra_args=[
            '--config', conf, '--metrics-listen', '127.0.0.1:%d' % self.metrics_port])
        self.daemon.start()
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        self.now = int(time.time() * 1000)

    def tearDown(self):
        alive = self.daemon.alive()
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log_tail())
        self.assertTrue(alive)

    def carrier(self, code, credential, **kw):
        c = ic.Carrier(self.daemon.carrier_port, code, credential=credential, **kw)
        self.addCleanup(c.close)
        return c

    def update(self, session_code, seq, carrier=None):
        f = dur.make_update_fields('auth-%s' % session_code, session_code, seq, self.legs,
                                   self.now)
        if carrier is not None:
            f['carrier'] = carrier
        return ic.make_update(**f)

    def refused(self, code, credential, session=None):
        """The Error code and message a Hello gets."""
        c = self.carrier(session or code, credential)
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertIsNone(c.read_message(timeout=5), 'not closed after the Error')
        return e.exception.code, e.exception.message


class CarrierAuth(AuthDaemon):
    # no delay here: the throttle has its own test below
    limits = {'auth_fail_delay_ms': 0, 'max_credential_bytes': 64}

    def test_right_credential_is_welcomed_and_stores(self):
        c = self.carrier('KTZE', KTZ_SECRET)
        w = c.hello()
        self.assertEqual(w.acked_seq, 0)
        c.send([self.update('KTZE', s) for s in (1, 2, 3)])
        self.assertEqual(c.wait_acked(3), 3)
        self.assertIn('carrier=KTZE', self.daemon.log_text())
        self.assertIn('credential=ktz', self.daemon.log_text())

    def test_refusals(self):
        cases = [
            (('KTZE', 'wrong-secret-0000000'), 'AUTH_FAILED', 'wrong credential'),
            (('KTZE', ''), 'AUTH_FAILED', 'needs the carrier\'s credential'),
            (('KTZE', JOINT_SECRET), 'AUTH_FAILED', 'wrong credential'),
            (('ADYC', KTZ_SECRET), 'AUTH_FAILED', 'wrong credential'),
            (('POB', harness.CARRIER_SECRET), 'AUTH_FAILED', 'no credential is configured'),
            (('NOPE', KTZ_SECRET), 'UNKNOWN_CARRIER', 'not configured'),
            (('KTZE', KTZ_SECRET + 'x' * 64), 'AUTH_FAILED', 'max_credential_bytes'),
        ]
        for (code, secret), want_code, want_msg in cases:
            with self.subTest(code=code, secret=secret[:12]):
                got_code, msg = self.refused(code, secret)
                self.assertEqual(got_code, want_code, msg)
                self.assertIn(want_msg, msg)
                # the secret is never echoed back nor logged
                if secret:
                    self.assertNotIn(secret, msg)
        self.assertNotIn(KTZ_SECRET, self.daemon.log_text())
        self.assertEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                port='carriers', reason='wrong_credential'), 3)
        for reason in ('no_credential', 'not_configured', 'unknown_carrier', 'too_long'):
            self.assertEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                    port='carriers', reason=reason), 1, reason)
        with self.daemon.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')

    def test_refused_hello_leaves_the_running_session_alone(self):
        c = self.carrier('KTZE', KTZ_SECRET)
        c.hello()
        c.send([self.update('KTZE', 1)])
        c.wait_acked(1)
        code, _ = self.refused('KTZE', 'not-the-secret-1234')
        self.assertEqual(code, 'AUTH_FAILED')
        # still the session of KTZE: not REPLACED by a stranger
        c.send([self.update('KTZE', 2)])
        self.assertEqual(c.wait_acked(2), 2)
        self.assertEqual(c.errors, [])

    def test_joint_credential_opens_each_of_its_codes(self):
        for code in ('MCML', 'ADYC'):
            c = self.carrier(code, JOINT_SECRET)
            c.hello()
            c.send([self.update(code, 1)])
            self.assertEqual(c.wait_acked(1), 1, code)

    def test_other_carriers_code_rejected_per_update(self):
        c = self.carrier('KTZE', KTZ_SECRET)
        c.hello()
        batch = [self.update('KTZE', 1), self.update('KTZE', 2, carrier='ADYC'),
                 self.update('KTZE', 3), self.update('KTZE', 4, carrier='KMTF'),
                 self.update('KTZE', 5)]
        c.send_batch(batch)
        self.assertEqual(c.wait_acked(5), 5)
        self.assertEqual(sorted(c.rejections), [2, 4])
        for seq in (2, 4):
            r = c.rejections[seq]
            self.assertEqual(c.pb.RejectReason.Name(r.reason), 'WRONG_CARRIER')
            self.assertFalse(r.retryable)
            self.assertIn('credential ktz may not write as', r.message)
        # the three of its own are stored, the two others are not
        self.assertEqual(metric(self.metrics_port, 'corridor_carrier_updates_stored_total',
                                carrier='KTZE'), 3)
        self.assertEqual(metric(self.metrics_port, 'corridor_updates_stored_total'), 3)
        self.assertEqual(metric(self.metrics_port, 'corridor_updates_rejected_total',
                                reason='WRONG_CARRIER'), 2)

    def test_joint_session_told_to_use_a_session_of_the_other_code(self):
        c = self.carrier('MCML', JOINT_SECRET)
        c.hello()
        c.send_batch([self.update('MCML', 1, carrier='ADYC'), self.update('MCML', 2)])
        self.assertEqual(c.wait_acked(2), 2)
        r = c.rejections[1]
        self.assertEqual(c.pb.RejectReason.Name(r.reason), 'WRONG_CARRIER')
        self.assertIn('ADYC is yours too', r.message)

    def test_frames_right_after_the_hello_wait_for_the_check(self):
        c = self.carrier('KTZE', KTZ_SECRET)
        h = c.pb.CarrierMessage()
        h.hello.protocol_version = 1
        h.hello.carrier = 'KTZE'
        h.hello.credential = KTZ_SECRET
        b = c.pb.CarrierMessage()
        b.batch.updates.extend([self.update('KTZE', 1), self.update('KTZE', 2)])
        c.send_raw(ic.frame(h.SerializeToString()) + ic.frame(b.SerializeToString()))
        self.assertEqual(c.read_message().WhichOneof('body'), 'welcome')
        self.assertEqual(c.wait_acked(2), 2)

    def test_batch_before_the_check_of_a_wrong_credential_is_not_stored(self):
        c = self.carrier('KTZE', 'wrong-secret-4444444')
        h = c.pb.CarrierMessage()
        h.hello.protocol_version = 1
        h.hello.carrier = 'KTZE'
        h.hello.credential = c.credential
        b = c.pb.CarrierMessage()
        b.batch.updates.extend([self.update('KTZE', 1)])
        c.send_raw(ic.frame(h.SerializeToString()) + ic.frame(b.SerializeToString()))
        self.assertEqual(c.expect_error(), ('AUTH_FAILED', True))
        self.assertEqual(metric(self.metrics_port, 'corridor_updates_received_total'), 0)


class Slowdown(AuthDaemon):
    limits = {'auth_fail_delay_ms': 300, 'auth_fail_delay_max_ms': 1200}

    def timed_refusal(self, code, secret):
        t0 = time.monotonic()
        got, _ = self.refused(code, secret)
        self.assertEqual(got, 'AUTH_FAILED')
        return time.monotonic() - t0

    def test_repeated_failures_wait_longer(self):
        delays = [self.timed_refusal('KTZE', 'guess-%08d' % i) for i in range(5)]
        # 300, 600, 1200, 1200, 1200 ms: at least that (the network adds a little)
        for got, floor in zip(delays, (0.28, 0.57, 1.15, 1.15, 1.15)):
            self.assertGreaterEqual(got, floor, delays)
        self.assertLess(delays[-1], 4.0, delays)
        self.assertGreater(delays[2], delays[0] * 2, delays)
        self.assertIn('delay_ms=1200', self.daemon.log_text())

    def test_waiting_refusal_does_not_hold_up_others(self):
        for i in range(3):      # the address's delay is now 1200 ms
            self.timed_refusal('KTZE', 'guess-%08d' % i)
        result = {}

        def guess():
            result['delay'] = self.timed_refusal('KTZE', 'guess-again-000')
        t = threading.Thread(target=guess)
        t.start()
        time.sleep(0.1)
        # meanwhile a carrier with the right secret from another address is
        # served at once (from the guesser's address it would wait its turn) ...
        t0 = time.monotonic()
        c = self.carrier('KTZE', KTZ_SECRET, source='127.0.0.2')
        c.hello()
        c.send([self.update('KTZE', 1)])
        c.wait_acked(1)
        served = time.monotonic() - t0
        # ... and so is an operator
        with self.daemon.query(token=None) as q:
            q.ok('PING')
        t.join(10)
        self.assertLess(served, 0.6, 'a welcome waited behind a delayed refusal')
        self.assertGreaterEqual(result['delay'], 1.15)


if __name__ == '__main__':
    harness.main()
