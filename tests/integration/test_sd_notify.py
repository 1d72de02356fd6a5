#!/usr/bin/python3
"""systemd's notify protocol, read from a datagram socket of the test's own
(as systemd would): READY=1 once the listeners answer, STATUS= lines,
WATCHDOG=1 at half of WATCHDOG_USEC and only while the writers make
progress, STOPPING=1 on SIGTERM; abstract socket names ("@...") work."""
import os
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

WATCHDOG_USEC = 400000          # pings every 0.2 s


class Notify(unittest.TestCase):

    def listen(self, abstract=False):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = 'corridor-test-notify-%d-%d' % (os.getpid(), time.monotonic_ns())
            s.bind('\0' + name)
            env = '@' + name
        else:
            d = tempfile.mkdtemp(prefix='corridor-notify-')
            path = os.path.join(d, 'notify.sock')
            s.bind(path)
            self.addCleanup(lambda: (os.unlink(path), os.rmdir(d)))
            env = path
        self.addCleanup(s.close)
        s.settimeout(0.05)
        return s, env

    def start(self, notify_env, watchdog=True, extra=()):
        saved = {k: os.environ.get(k) for k in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID')}
        os.environ['NOTIFY_SOCKET'] = notify_env
        os.environ.pop('WATCHDOG_PID', None)
        if watchdog:
            os.environ['WATCHDOG_USEC'] = str(WATCHDOG_USEC)
        else:
            os.environ.pop('WATCHDOG_USEC', None)
        try:
            return harness.new_daemon(self, extra_args=list(extra)).start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    @staticmethod
    def collect(s, seconds):
        """(monotonic time, message) pairs received for that long."""
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                got.append((time.monotonic(), s.recv(4096).decode()))
            except socket.timeout:
                pass
        return got

    def test_ready_status_watchdog_stopping(self):
        s, env = self.listen()
        d = self.start(env)
        msgs = self.collect(s, 1.5)
        texts = [m for _, m in msgs]
        self.assertIn('READY=1', texts[0].split('\n'), texts[:3])
        self.assertTrue(any(m.startswith('STATUS=connections=') for m in texts), texts)
        pings = [t for t, m in msgs if m == 'WATCHDOG=1']
        self.assertGreaterEqual(len(pings), 4, texts)
        self.assertEqual(d.stop(), 0)
        after = [m for _, m in self.collect(s, 0.3)]
        self.assertTrue(any('STOPPING=1' in m.split('\n') for m in after), after)

    def test_abstract_socket_and_no_watchdog_unless_asked(self):
        s, env = self.listen(abstract=True)
        d = self.start(env, watchdog=False)
        texts = [m for _, m in self.collect(s, 0.8)]
        self.assertIn('READY=1', texts[0].split('\n'), texts)
        self.assertNotIn('WATCHDOG=1', texts)
        self.assertEqual(d.stop(), 0)

    def test_watchdog_stops_while_writers_are_stuck(self):
        s, env = self.listen()
        # every group commit waits 2.5 s: the writers are stuck for that long
        d = self.start(env, extra=['--limit', 'writer_commit_delay_ms=2500'])
        self.collect(s, 0.5)
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        now = int(time.time() * 1000)
        c = ic.Carrier(d.carrier_port, 'KTZE')
        self.addCleanup(c.close)
        c.hello()
        c.send([ic.make_update(**dur.make_update_fields('notify', 'KTZE', seq, legs, now))
                for seq in range(1, 11)])
        sent = time.monotonic()
        msgs = self.collect(s, 4.0)
        pings = [t - sent for t, m in msgs if m == 'WATCHDOG=1']
        gaps = [b - a for a, b in zip([0.0] + pings, pings)]
        # nothing settles for ~2.5 s: no ping for well over the 0.2 s interval ...
        self.assertTrue(any(g >= 1.5 for g in gaps), 'pings after the push: %r' % pings)
        # ... and once the commit is through, the pings come back
        self.assertTrue(any(p >= 2.5 for p in pings), 'pings after the push: %r' % pings)
        c.wait_acked(10, timeout=10)
        self.assertIn('writers made no progress', d.log_text())
        self.assertEqual(d.stop(), 0)


if __name__ == '__main__':
    harness.main()
