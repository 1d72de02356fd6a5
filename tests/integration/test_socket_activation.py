#!/usr/bin/python3
"""Socket activation: systemd-socket-activate holds two named loopback
sockets and starts the real corridord on them, as the socket units do; an
operator PINGs and a carrier is welcomed and acknowledged, on ports corridord
never bound itself. Wrong or missing names stop it at start with a message."""
import os
import shutil
import signal
import socket
import subprocess
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

ACTIVATE = shutil.which('systemd-socket-activate')


def ports(n):
    out = []
    while len(out) < n:
        p = harness.free_port()
        if p not in out:
            out.append(p)
    return out


def refused(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@unittest.skipIf(ACTIVATE is None, 'systemd-socket-activate is not installed')
class SocketActivation(unittest.TestCase):

    def activate(self, listen_ports, fdnames, extra=()):
        """Starts systemd-socket-activate, which executes corridord on the
        first connection; returns (process, log path) once it listens."""
        harness.require_binary(harness.CORRIDORD, 'corridord')
        state = tempfile.mkdtemp(prefix='corridor-activate-')
        self.addCleanup(shutil.rmtree, state, True)
        log_path = os.path.join(state, 'corridord.log')
        args = [ACTIVATE]
        for p in listen_ports:
            args += ['-l', '127.0.0.1:%d' % p]
        if fdnames is not None:
            args.append('--fdname=' + fdnames)
        # no metrics listener: its fixed default port would clash with other tests
        conf = harness.write_config(os.path.join(state, 'corridord.conf'))
        args += [harness.CORRIDORD, '--config', conf, '--state-dir', state,
                 '--metrics-listen', ''] + list(extra)
        with open(log_path, 'ab') as log:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
        self.addCleanup(self.reap, proc)
        self.addCleanup(self.check_sanitizer, log_path)
        deadline = time.monotonic() + harness.START_TIMEOUT_S
        while not self.log(log_path).count('Listening on') >= len(listen_ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.fail('systemd-socket-activate did not listen:\n' + self.log(log_path))
            time.sleep(0.02)
        return proc, log_path

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    @staticmethod
    def log(path):
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def check_sanitizer(self, path):
        marks = [line for line in self.log(path).splitlines()
                 if any(m in line for m in harness.Daemon.SANITIZER_MARKS)]
        self.assertEqual(marks, [], self.log(path))

    def test_serves_on_the_passed_sockets(self):
        carriers, operators, own_c, own_q = ports(4)
        # corridord's own addresses are other free ports: it must not bind them
        proc, log = self.activate([carriers, operators], 'carriers:operators',
                                  ['--carrier-listen', '127.0.0.1:%d' % own_c,
                                   '--query-listen', '127.0.0.1:%d' % own_q])
        # the first connection makes systemd-socket-activate execute corridord
        with harness.QueryClient(operators) as q:
            a = q.ok('PING')
        self.assertEqual(a.rows[0][0], 'PONG')
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        now = int(time.time() * 1000)
        with ic.Carrier(carriers, 'KTZE') as c:
            w = c.hello()
            self.assertEqual(w.acked_seq, 0)
            c.send([ic.make_update(**dur.make_update_fields('activate', 'KTZE', seq, legs, now))
                    for seq in (1, 2, 3)])
            c.wait_acked(3, timeout=15)
        text = self.log(log)
        self.assertIn('listening listener=carriers source=systemd fd=3', text)
        self.assertIn('listening listener=operators source=systemd fd=4', text)
        self.assertNotIn('listener=carriers bind=', text)
        self.assertNotIn('listener=operators bind=', text)
        self.assertTrue(refused(own_c) and refused(own_q), 'corridord bound its own ports')
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=harness.STOP_TIMEOUT_S), 0, self.log(log))

    def test_names_in_the_other_order(self):
        operators, carriers = ports(2)
        proc, log = self.activate([operators, carriers], 'operators:carriers')
        with harness.QueryClient(operators) as q:
            q.ok('PING')
        with ic.Carrier(carriers, 'KTZE') as c:
            c.hello()
        self.assertIn('listener=operators source=systemd fd=3', self.log(log))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=harness.STOP_TIMEOUT_S), 0, self.log(log))

    def assert_fails_at_start(self, listen_ports, fdnames, message):
        proc, log = self.activate(listen_ports, fdnames)
        try:
            socket.create_connection(('127.0.0.1', listen_ports[0]), timeout=2).close()
        except OSError:
            pass
        try:
            rc = proc.wait(timeout=harness.START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.fail('corridord kept running:\n' + self.log(log))
        self.assertNotEqual(rc, 0)
        text = self.log(log)
        self.assertIn('fatal: socket activation: ', text)
        self.assertIn(message, text)
        self.assertIn('carriers', text[text.index('fatal: socket activation: '):])

    def test_unknown_name_fails(self):
        self.assert_fails_at_start(ports(2), 'carriers:queries',
                                   'has name "queries"; expected FileDescriptorName=carriers '
                                   'or operators')

    def test_missing_name_fails(self):
        self.assert_fails_at_start(ports(1), 'carriers', 'no socket named operators')

    def test_unnamed_fails(self):
        # without --fdname the tool passes no names (older ones: default names)
        self.assert_fails_at_start(ports(2), None, 'name')

    def test_same_name_twice_fails(self):
        self.assert_fails_at_start(ports(2), 'carriers:carriers', 'name carriers passed twice')


if __name__ == '__main__':
    harness.main()
