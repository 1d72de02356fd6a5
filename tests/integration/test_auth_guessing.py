#!/usr/bin/python3
"""Guessing credentials must cost the guesser (issue 11 item 4), on both
ports: a client that sends a wrong carrier Hello or operator AUTH and gives up
after a moment (long enough to see a Welcome or an OK, which are never
delayed) used to have every guess hashed, 50 in a few seconds. Now the next
check from an address with a recent failure waits out the doubling delay
before it is hashed, so such guesses are mostly never checked; the failures
that are checked are counted whether or not the client waits for the refusal;
the right secret is still accepted within one (capped) delay; a client from
another address (127.0.0.2) is not delayed. The caps on checks in flight per
address (auth_checks_per_ip) and overall (auth_checks_max) refuse at once,
unchecked, with the documented codes, and a check whose client left frees its
place."""
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import independent_carrier as ic  # noqa: E402

PB = ic.load_pb2()
CODE = harness.DEFAULT_CARRIERS[0]
ADMIN = harness.ADMIN_TOKEN[0]
DELAY_MS, DELAY_MAX_MS = 300, 2400
GUESSES = 50
GIVE_UP_S = 0.05        # what a guesser waits for a Welcome / OK before it closes


metric = harness.metric


def connect(port, source):
    return socket.create_connection(('127.0.0.1', port), timeout=15,
                                    source_address=(source, 0))


def hello_bytes(code, secret):
    m = PB.CarrierMessage()
    m.hello.protocol_version = 1
    m.hello.carrier = code
    m.hello.credential = secret
    m.hello.client_name = 'guesser'
    return ic.frame(m.SerializeToString())


def read_frame(sock, timeout):
    """The next ServerMessage, or None when nothing (or a close) came in time."""
    deadline = time.monotonic() + timeout
    buf = b''
    need = 4
    while True:
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                return None
            if not chunk:
                return None
            buf += chunk
        if need == 4:
            need = 4 + int.from_bytes(buf[:4], 'big')
            continue
        msg = PB.ServerMessage()
        msg.ParseFromString(buf[4:need])
        return msg


def read_line(sock, timeout):
    deadline = time.monotonic() + timeout
    buf = b''
    while not buf.endswith(b'\n'):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf.split(b'\n', 1)[0].decode()


def answer_kind(msg):
    """'welcome', an Error code name, or None."""
    if msg is None:
        return None
    if msg.WhichOneof('body') == 'error':
        return PB.ErrorCode.Name(msg.error.code)
    return msg.WhichOneof('body')


class Guessing(unittest.TestCase):
    limits = {'auth_fail_delay_ms': DELAY_MS, 'auth_fail_delay_max_ms': DELAY_MAX_MS}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='corridor-guess-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        conf = os.path.join(self.tmp, 'corridord.conf')
        harness.write_config(conf, limits=self.limits)
        self.metrics_port = harness.free_port()
        self.daemon = harness.new_daemon(self, extra_args=[
            '--config', conf, '--metrics-listen', '127.0.0.1:%d' % self.metrics_port])
        self.daemon.start()

    def tearDown(self):
        alive = self.daemon.alive()
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log_tail())
        self.assertTrue(alive)

    def failures(self, port, reason):
        return metric(self.metrics_port, 'corridor_auth_failures_total', port=port,
                      reason=reason)

    # ---------------------------------------------------------------- carriers
    def hello(self, secret, wait, source='127.0.0.1'):
        """A Hello; the answer within wait seconds ('welcome', an Error code,
        or None), then the connection is closed."""
        with connect(self.daemon.carrier_port, source) as s:
            s.sendall(hello_bytes(CODE, secret))
            return answer_kind(read_frame(s, wait))

    def open_hello(self, secret, source='127.0.0.1'):
        s = connect(self.daemon.carrier_port, source)
        self.addCleanup(s.close)
        s.sendall(hello_bytes(CODE, secret))
        return s

    # --------------------------------------------------------------- operators
    def auth(self, secret, wait, source='127.0.0.1'):
        """An AUTH line; the answer's first word and code within wait seconds
        (e.g. 'OK', 'ERR UNAUTHORIZED'), or None; then the connection is closed."""
        with connect(self.daemon.query_port, source) as s:
            s.sendall(('AUTH %s %s\n' % (ADMIN, secret)).encode())
            line = read_line(s, wait)
            return None if line is None else ' '.join(line.split(' ')[:2])

    def open_auth(self, secret, source='127.0.0.1'):
        s = connect(self.daemon.query_port, source)
        self.addCleanup(s.close)
        s.sendall(('AUTH %s %s\n' % (ADMIN, secret)).encode())
        return s

    # ------------------------------------------------------------------ tests
    def guess_burst(self, guess, hashed):
        """One refused guess that waits for its answer, then GUESSES that give
        up after GIVE_UP_S; returns how many of those were hashed."""
        self.assertIsNotNone(guess('first-wrong-guess', 10))
        before = hashed()
        t0 = time.monotonic()
        answers = [guess('wrong-guess-%02d' % i, GIVE_UP_S) for i in range(GUESSES)]
        took = time.monotonic() - t0
        checked = hashed() - before
        sys.stderr.write('%d guesses in %.2f s, %d checked\n' % (GUESSES, took, checked))
        # the burst's guesses are never accepted
        self.assertNotIn('welcome', answers)
        self.assertNotIn('OK', [a and a.split(' ')[0] for a in answers])
        return checked, took

    def test_carrier_guesses_that_give_up_are_not_checked(self):
        checked, took = self.guess_burst(
            self.hello, lambda: self.failures('carriers', 'wrong_credential'))
        # one check per delay at most (300, 600, 1200, 2400 ms ...): a handful, not 50
        self.assertLessEqual(checked, 10, 'checked %d of %d guesses in %.1f s' %
                             (checked, GUESSES, took))
        # the right secret from the same address still gets in, within a capped delay
        t0 = time.monotonic()
        self.assertEqual(self.hello(harness.CARRIER_SECRET, 15), 'welcome')
        self.assertLess(time.monotonic() - t0, DELAY_MAX_MS / 1000 + 2.5)
        # another address is not delayed at all
        t0 = time.monotonic()
        self.assertEqual(self.hello(harness.CARRIER_SECRET, 15, source='127.0.0.2'), 'welcome')
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertIn('credential check waits', self.daemon.log_text())

    def test_operator_guesses_that_give_up_are_not_checked(self):
        checked, took = self.guess_burst(
            self.auth, lambda: self.failures('operators', 'wrong_token'))
        self.assertLessEqual(checked, 10, 'checked %d of %d guesses in %.1f s' %
                             (checked, GUESSES, took))
        t0 = time.monotonic()
        self.assertEqual(self.auth(harness.ADMIN_TOKEN[1], 15), 'OK')
        self.assertLess(time.monotonic() - t0, DELAY_MAX_MS / 1000 + 2.5)
        t0 = time.monotonic()
        self.assertEqual(self.auth(harness.ADMIN_TOKEN[1], 15, source='127.0.0.2'), 'OK')
        self.assertLess(time.monotonic() - t0, 1.0)
        with self.daemon.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')

    def test_failure_counts_when_the_guesser_does_not_wait(self):
        """A failure is the address's the moment its check fails: a guesser
        that waits only long enough to see a success still pays the delay."""
        self.assertEqual(self.auth('wrong-1', GIVE_UP_S), None)   # refused later
        self.wait_failures('operators', 'wrong_token', 1)
        time.sleep(DELAY_MS / 1000 + 0.05)      # so that the next one is checked at once
        self.assertEqual(self.hello('wrong-2', GIVE_UP_S), None)
        self.wait_failures('carriers', 'wrong_credential', 1)
        # two recent failures from 127.0.0.1: its next check waits 600 ms first
        t0 = time.monotonic()
        self.assertEqual(self.hello(harness.CARRIER_SECRET, 15), 'welcome')
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)

    def wait_failures(self, port, reason, n):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.failures(port, reason) < n:
            time.sleep(0.02)
        self.assertEqual(self.failures(port, reason), n)


class Caps(Guessing):
    """Long delays, so that checks certainly wait while the test looks."""
    limits = {'auth_fail_delay_ms': 3000, 'auth_fail_delay_max_ms': 6000,
              'auth_checks_per_ip': 2, 'auth_checks_max': 3}
    # Guessing's tests are for its own limits
    test_carrier_guesses_that_give_up_are_not_checked = None
    test_operator_guesses_that_give_up_are_not_checked = None
    test_failure_counts_when_the_guesser_does_not_wait = None

    def fail_from(self, *sources):
        """One failure from each source, recorded (not waited for)."""
        for i, src in enumerate(sources):
            self.assertEqual(self.auth('wrong', GIVE_UP_S, source=src), None)
            self.wait_failures('operators', 'wrong_token', i + 1)

    def test_checks_per_address_are_capped(self):
        self.fail_from('127.0.0.1')
        waiting = [self.open_hello('wrong-a'), self.open_auth('wrong-b')]
        time.sleep(0.1)
        # one more from the address: refused at once, retryable, unchecked
        t0 = time.monotonic()
        self.assertEqual(self.hello('one-too-many', 5), 'TOO_MANY_CONNECTIONS')
        self.assertEqual(self.auth('one-too-many', 5), 'ERR BUSY')
        self.assertLess(time.monotonic() - t0, 1.5)
        # another address has its own share: welcomed at once
        t0 = time.monotonic()
        self.assertEqual(self.hello(harness.CARRIER_SECRET, 5, source='127.0.0.2'), 'welcome')
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertIn('reason=auth_checks_per_ip', self.daemon.log_text())
        self.assertEqual(metric(self.metrics_port, 'corridor_connections_refused_total',
                                reason='auth_checks_per_ip'), 2)
        self.assertEqual(self.failures('carriers', 'wrong_credential'), 0)
        # the waiting ones leave: their places are free again at once (the
        # next check waits its turn instead of being refused)
        for s in waiting:
            s.close()
        time.sleep(0.2)
        self.assertIsNone(self.hello('after-they-left', 0.5))
        self.assertIsNone(self.auth('after-they-left', 0.5))
        self.assertEqual(metric(self.metrics_port, 'corridor_connections_refused_total',
                                reason='auth_checks_per_ip'), 2)
        # nothing of theirs was hashed
        self.assertEqual(self.failures('carriers', 'wrong_credential'), 0)
        self.assertEqual(self.failures('operators', 'wrong_token'), 1)

    def test_checks_overall_are_capped(self):
        self.fail_from('127.0.0.1', '127.0.0.2')
        # three checks wait their turn: two from one address, one from another
        self.open_auth('wrong-a')
        self.open_hello('wrong-b')
        self.open_hello('wrong-c', source='127.0.0.2')
        time.sleep(0.1)
        # a clean address is refused too while auth_checks_max are in flight ...
        self.assertEqual(self.hello(harness.CARRIER_SECRET, 5, source='127.0.0.3'),
                         'TOO_MANY_CONNECTIONS')
        self.assertEqual(self.auth(harness.ADMIN_TOKEN[1], 5, source='127.0.0.3'), 'ERR BUSY')
        self.assertIn('reason=auth_checks_max', self.daemon.log_text())
        self.assertEqual(metric(self.metrics_port, 'corridor_connections_refused_total',
                                reason='auth_checks_max'), 2)
        # ... and served at once when they are done (checked after their 3 s wait)
        deadline = time.monotonic() + 15
        got = None
        while time.monotonic() < deadline:
            got = self.hello(harness.CARRIER_SECRET, 5, source='127.0.0.3')
            if got != 'TOO_MANY_CONNECTIONS':
                break
            time.sleep(0.1)
        self.assertEqual(got, 'welcome')


if __name__ == '__main__':
    harness.main()
