#!/usr/bin/python3
"""SIGHUP reload (issue 5) seen from outside: with a good file a new carrier
and its credential are accepted, a revoked credential's session gets an
Error and is closed while other carriers and operators stay connected, a
revoked operator token loses its right, a new leg is stored and queried, a
changed limit reaches the next Welcome and a limit that needs a restart is
logged as such; with a bad file (or one that drops a leg) nothing changes
and the daemon carries on; RELOADING=1 (with MONOTONIC_USEC) and READY=1
reach the notify socket around each reload; /metrics counts them."""
import os
import shutil
import signal
import socket
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

KTZ_SECRET = 'ktz-secret-reload-81aa'
NEW_SECRET = 'newc-secret-reload-7c3e'
NEW_LEG = 'KZ-RAIL-TST-NEW'
LEGS_TSV = ('code\tfrom\tto\tcountry\tkind\tmode\tdistance_km\tmin_h\ttypical_h\tbad_h\tbasis\n'
            '%s\tTestfrom (KZ)\tTestto (KZ)\tKZ\tmovement\trail\t100\t2\t4\t8\ta test leg\n'
            % NEW_LEG)


metric = harness.metric


class Notify(threading.Thread):
    """Collects what corridord says on its notify socket."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass

    def since(self, n):
        return self.messages[n:]


class Reload(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='corridor-reload-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.conf = os.path.join(self.tmp, 'corridord.conf')
        self.legs_file = os.path.join(self.tmp, 'legs.tsv')
        with open(self.legs_file, 'w') as f:
            f.write(LEGS_TSV)
        # the same hash text across the files: a credential that stays is unchanged
        self.hashes = {name: harness.hash_secret(secret) for name, secret in (
            ('ktz', KTZ_SECRET), ('kmtf', harness.CARRIER_SECRET), ('newc', NEW_SECRET),
            ('admin', harness.ADMIN_TOKEN[1]), ('reader', harness.READ_TOKEN[1]))}
        self.write(credentials=('ktz', 'kmtf'), operators=('admin', 'reader'))
        self.notify = Notify(os.path.join(self.tmp, 'notify.sock'))
        self.notify.start()
        self.addCleanup(self.notify.stop.set)
        self.metrics_port = harness.free_port()
        saved = os.environ.get('NOTIFY_SOCKET')
        os.environ['NOTIFY_SOCKET'] = os.path.join(self.tmp, 'notify.sock')
        try:
            self.daemon = harness.new_daemon(self, extra_args=[
                '--config', self.conf, '--metrics-listen', '127.0.0.1:%d' % self.metrics_port])
            self.daemon.start()
        finally:
            if saved is None:
                os.environ.pop('NOTIFY_SOCKET')
            else:
                os.environ['NOTIFY_SOCKET'] = saved
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        self.now = int(time.time() * 1000)

    def write(self, credentials, operators, carriers=('KTZE', 'KMTF', 'POB'), legs_file=False,
              limits=None, extra=''):
        codes = {'ktz': 'KTZE', 'kmtf': 'KMTF', 'newc': 'NEWC'}
        rights = {'admin': ('test-admin', 'admin'), 'reader': ('test-reader', 'read')}
        with open(self.conf, 'w') as f:
            f.write('[daemon]\nlog_level = info\n')
            if legs_file:
                f.write('legs_file = %s\n' % self.legs_file)
            f.write('[carriers]\n' + ''.join('%s = carrier %s\n' % (c, c) for c in carriers))
            f.write('[credentials]\n' + ''.join(
                '%s = %s %s\n' % (n, self.hashes[n], codes[n]) for n in credentials))
            f.write('[operators]\n' + ''.join(
                '%s = %s %s\n' % (rights[n][0], self.hashes[n], rights[n][1])
                for n in operators))
            if limits:
                f.write('[limits]\n' + ''.join('%s = %s\n' % kv for kv in limits.items()))
            f.write(extra)

    def update(self, code, seq, leg=None):
        f = dur.make_update_fields('reload', code, seq, self.legs, self.now)
        if leg is not None:
            f['leg'] = leg
        return ic.make_update(**f)

    def carrier(self, code, secret):
        c = ic.Carrier(self.daemon.carrier_port, code, credential=secret)
        self.addCleanup(c.close)
        return c

    def sighup(self, expect):
        """Sends SIGHUP and waits for the log line that ends the reload;
        returns the notify messages that came with it."""
        before_log = self.daemon.log_text().count(expect)
        before_notify = len(self.notify.messages)
        os.kill(self.daemon.pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while True:
            if self.daemon.log_text().count(expect) > before_log and \
                    any('READY=1' in m for m in self.notify.since(before_notify)):
                break
            if time.monotonic() > deadline:
                self.fail('no "%s" after SIGHUP:\n%s' % (expect, self.daemon.log_tail()))
            time.sleep(0.05)
        msgs = self.notify.since(before_notify)
        starts = [i for i, m in enumerate(msgs) if 'RELOADING=1' in m.split('\n')]
        self.assertTrue(starts, msgs)
        self.assertRegex(msgs[starts[0]], r'(^|\n)MONOTONIC_USEC=\d+(\n|$)')
        self.assertTrue(any('READY=1' in m.split('\n') for m in msgs[starts[0] + 1:]), msgs)
        return msgs

    def test_good_then_bad_reloads(self):
        d = self.daemon
        ktz = self.carrier('KTZE', KTZ_SECRET)
        ktz.hello()
        ktz.send([self.update('KTZE', s) for s in (1, 2)])
        ktz.wait_acked(2)
        kmtf = self.carrier('KMTF', harness.CARRIER_SECRET)
        kmtf.hello()
        kmtf.send([self.update('KMTF', s) for s in (1, 2)])
        kmtf.wait_acked(2)
        admin = d.query()
        self.addCleanup(admin.close)
        reader = d.query(token=harness.READ_TOKEN)
        self.addCleanup(reader.close)
        reader.ok('LEGS')
        with self.assertRaises(ic.CarrierError):
            self.carrier('NEWC', NEW_SECRET).hello()

        # ---- a good file: NEWC and a leg come, ktz and the reader go, limits change
        self.write(credentials=('kmtf', 'newc'), operators=('admin',),
                   carriers=('KTZE', 'KMTF', 'POB', 'NEWC'), legs_file=True,
                   limits={'max_batch_updates': 500, 'writers': 3})
        self.sighup('reload done')
        self.assertEqual(ktz.expect_error(), ('AUTH_FAILED', True))
        self.assertIn('revoked', ktz.errors[-1].message)
        kmtf.send([self.update('KMTF', 3)])
        self.assertEqual(kmtf.wait_acked(3), 3)
        self.assertEqual(kmtf.errors, [])
        self.assertIn(NEW_LEG, [r[0] for r in admin.ok('LEGS').rows])
        self.assert_unauthorized(reader.request('LEGS'))
        newc = self.carrier('NEWC', NEW_SECRET)
        w = newc.hello()
        self.assertEqual(w.limits.max_batch_updates, 500)
        newc.send([self.update('NEWC', 1, leg=NEW_LEG), self.update('NEWC', 2)])
        self.assertEqual(newc.wait_acked(2), 2)
        self.assertEqual(newc.rejections, {})
        self.assertEqual(metric(self.metrics_port, 'corridor_leg_updates_stored_total',
                                leg=NEW_LEG), 1)
        admin.ok('STATS %s' % NEW_LEG)
        admin.ok('INTRANSIT %s' % NEW_LEG)
        with self.assertRaises(ic.CarrierError) as e:
            self.carrier('KTZE', KTZ_SECRET).hello()
        self.assertEqual(e.exception.code, 'AUTH_FAILED')
        self.assertIn('reload keeps the running value of writers (it needs a restart) '
                      'running=2 file=3', d.log_text())
        self.assertIn('reload added leg=%s' % NEW_LEG, d.log_text())
        self.assertEqual(metric(self.metrics_port, 'corridor_reloads_total', result='ok'), 1)

        # ---- a bad file: every problem logged with its line, nothing changes
        self.write(credentials=('kmtf',), operators=('admin',), carriers=('KTZE', 'KMTF'),
                   legs_file=True, extra='[credentials]\nbroken = not-a-hash KTZE\n'
                   '[limits]\nmax_batch_updates = 0\n')
        self.sighup('reload failed')
        log = d.log_text()
        self.assertRegex(log, r'reload failed; the running configuration stays problem="\S+:12: '
                              r'credential broken: a credential hash starts with')
        self.assertRegex(log, r'reload failed; .*problem="\S+:14: max_batch_updates: 0 is '
                              r'outside')
        newc = self.carrier('NEWC', NEW_SECRET)      # replaces the earlier session
        self.assertEqual(newc.hello().limits.max_batch_updates, 500)
        kmtf.send([self.update('KMTF', 4)])
        self.assertEqual(kmtf.wait_acked(4), 4)
        newc.send([self.update('NEWC', 3)])
        self.assertEqual(newc.wait_acked(3), 3)
        admin.ok('PING')
        self.assertEqual(metric(self.metrics_port, 'corridor_reloads_total', result='failed'), 1)

        # ---- a leg cannot vanish while running: refused as a whole
        self.write(credentials=('kmtf', 'newc', 'ktz'), operators=('admin',),
                   carriers=('KTZE', 'KMTF', 'POB', 'NEWC'), legs_file=False)
        self.sighup('reload failed')
        self.assertIn('leg %s is gone from the configuration' % NEW_LEG, d.log_text())
        with self.assertRaises(ic.CarrierError):
            self.carrier('KTZE', KTZ_SECRET).hello()

        # ---- ktz comes back: its mark was kept all along
        self.write(credentials=('kmtf', 'newc', 'ktz'), operators=('admin', 'reader'),
                   carriers=('KTZE', 'KMTF', 'POB', 'NEWC'), legs_file=True)
        self.sighup('reload done')
        self.assertEqual(self.carrier('KTZE', KTZ_SECRET).hello().acked_seq, 2)
        reader.request('AUTH %s %s' % harness.READ_TOKEN)
        reader.ok('LEGS')
        self.assertEqual(metric(self.metrics_port, 'corridor_reloads_total', result='ok'), 2)
        self.assertEqual(metric(self.metrics_port, 'corridor_reloads_total', result='failed'), 2)
        self.assertTrue(d.alive())
        self.assertEqual(d.stop(), 0, d.log_tail())

    def assert_unauthorized(self, answer):
        self.assertFalse(answer.ok, answer)
        self.assertEqual(answer.code, 'UNAUTHORIZED')

    def test_removed_carrier_session_closed_and_its_mark_survives_a_restart(self):
        d = self.daemon
        kmtf = self.carrier('KMTF', harness.CARRIER_SECRET)
        kmtf.hello()
        kmtf.send([self.update('KMTF', s) for s in (1, 2, 3)])
        kmtf.wait_acked(3)
        self.write(credentials=('ktz',), operators=('admin',), carriers=('KTZE', 'POB'))
        self.sighup('reload done')
        self.assertEqual(kmtf.expect_error(), ('UNKNOWN_CARRIER', True))
        with self.assertRaises(ic.CarrierError) as e:
            self.carrier('KMTF', harness.CARRIER_SECRET).hello()
        self.assertEqual(e.exception.code, 'UNKNOWN_CARRIER')
        self.write(credentials=('ktz', 'kmtf'), operators=('admin',))
        self.sighup('reload done')
        self.assertEqual(self.carrier('KMTF', harness.CARRIER_SECRET).hello().acked_seq, 3)
        self.assertEqual(d.stop(), 0, d.log_tail())

    def test_credential_revoked_while_it_is_checked(self):
        # a slow hash (5,000,000 iterations, about a second) still running
        # when the reload takes the credential away: the Hello is refused
        self.hashes['ktz'] = harness.hash_secret(KTZ_SECRET, iterations=5000000)
        self.write(credentials=('ktz', 'kmtf'), operators=('admin',))
        self.sighup('reload done')
        c = self.carrier('KTZE', KTZ_SECRET)
        c.send_message(self.hello_message('KTZE', KTZ_SECRET))
        time.sleep(0.1)
        self.write(credentials=('kmtf',), operators=('admin',))
        self.sighup('reload done')
        msg = c.read_message(timeout=20)
        self.assertEqual(msg.WhichOneof('body'), 'error', msg)
        self.assertEqual(c.pb.ErrorCode.Name(msg.error.code), 'AUTH_FAILED')
        self.assertIn('revoked by a configuration reload', msg.error.message)
        self.assertEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                port='carriers', reason='revoked'), 1)

    def hello_message(self, code, secret):
        m = ic.load_pb2().CarrierMessage()
        m.hello.protocol_version = 1
        m.hello.carrier = code
        m.hello.credential = secret
        return m


if __name__ == '__main__':
    harness.main()
