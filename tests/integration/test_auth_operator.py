#!/usr/bin/python3
"""Operator authentication on the query port (issue 6): without AUTH only
PING and HELP answer (everything else is ERR UNAUTHORIZED); a read token runs
the queries but BACKUP is ERR FORBIDDEN, an admin token may BACKUP; a wrong
secret, an unknown name and a carrier's credential are all ERR UNAUTHORIZED,
after the failure delay; however the command word is spaced or cased, the
right it needs is the one the daemon runs; corridorctl takes the token from
--token-file, CORRIDOR_TOKEN or --token."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

KTZ_SECRET = 'ktz-secret-c0ffee1234'


metric = harness.metric


class OperatorAuth(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='corridor-opauth-')
        conf = os.path.join(cls.tmp, 'corridord.conf')
        harness.write_config(conf, limits={'auth_fail_delay_ms': 200,
                                           'auth_fail_delay_max_ms': 400}, auth=False)
        with open(conf, 'a', encoding='utf-8') as f:
            # a carrier credential named like an operator: it must not open this port
            f.write('[credentials]\n')
            f.write('test-admin-carrier = %s KTZE\n' % harness.hash_secret(KTZ_SECRET))
            f.write('KTZE = %s KMTF\n' % harness.hash_secret(KTZ_SECRET))
            f.write(harness.auth_lines(carriers=(), secret=None))
        cls.metrics_port = harness.free_port()
        cls.daemon = harness.Daemon(extra_args=[
            '--config', conf, '--metrics-listen', '127.0.0.1:%d' % cls.metrics_port])
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        reports = cls.daemon.sanitizer_reports()
        cls.daemon.cleanup()
        shutil.rmtree(cls.tmp, True)
        assert rc == 0, 'corridord exit code %r' % rc
        assert not reports, reports

    def client(self, token=None):
        q = harness.QueryClient(self.daemon.query_port, token=token)
        self.addCleanup(q.close)
        return q

    def assert_err(self, answer, code, text=''):
        self.assertFalse(answer.ok, answer)
        self.assertEqual(answer.code, code, answer.message)
        self.assertIn(text, answer.message)

    def test_without_auth_only_ping_and_help(self):
        q = self.client()
        self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
        self.assertTrue(q.ok('HELP').rows)
        for line in ('LEGS', 'STATS *', 'INTRANSIT', 'SHIPMENT TGHU1234567', 'BACKUP x',
                     'NOSUCHCOMMAND'):
            with self.subTest(line=line):
                self.assert_err(q.request(line), 'UNAUTHORIZED', 'AUTH')
        # the connection stays usable for an AUTH
        self.assertEqual(q.ok('AUTH %s %s' % harness.READ_TOKEN).rows, [['test-reader', 'read']])
        self.assertTrue(q.ok('LEGS').rows)

    def test_read_token_queries_but_no_backup(self):
        q = self.client(harness.READ_TOKEN)
        self.assertTrue(q.ok('LEGS').rows)
        q.ok('STATS *')
        q.ok('INTRANSIT')
        for line in ('BACKUP readers-copy', 'backup readers-copy', '  Backup readers-copy',
                     '\tBACKUP readers-copy', 'BACKUP\treaders-copy'):
            with self.subTest(line=line):
                self.assert_err(q.request(line), 'FORBIDDEN', 'admin')
        self.assertFalse(os.path.exists(os.path.join(self.daemon.state_dir, 'backups',
                                                     'readers-copy')))

    def test_admin_token_may_backup(self):
        q = self.client(harness.ADMIN_TOKEN)
        a = q.ok('BACKUP admins-copy')
        self.assertTrue(any(r[0] == 'corridor.db' for r in a.rows), a.rows)

    def test_wrong_secret_unknown_name_and_carrier_credential(self):
        for line in ('AUTH test-admin not-the-secret', 'AUTH nobody %s' % harness.ADMIN_TOKEN[1],
                     'AUTH test-admin-carrier %s' % KTZ_SECRET, 'AUTH KTZE %s' % KTZ_SECRET,
                     'AUTH test-admin %s' % ('x' * 300)):
            with self.subTest(line=line[:30]):
                q = self.client()
                t0 = time.monotonic()
                self.assert_err(q.request(line), 'UNAUTHORIZED', 'wrong operator name or secret')
                self.assertGreaterEqual(time.monotonic() - t0, 0.18)
                self.assert_err(q.request('LEGS'), 'UNAUTHORIZED')
        self.assertNotIn(KTZ_SECRET, self.daemon.log_text())
        self.assertNotIn(harness.ADMIN_TOKEN[1], self.daemon.log_text())
        self.assertGreaterEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                       port='operators', reason='wrong_token'), 1)
        self.assertGreaterEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                       port='operators', reason='unknown_operator'), 3)
        self.assertGreaterEqual(metric(self.metrics_port, 'corridor_auth_failures_total',
                                       port='operators', reason='too_long'), 1)

    def test_failed_auth_drops_the_earlier_right(self):
        q = self.client(harness.ADMIN_TOKEN)
        q.ok('LEGS')
        self.assert_err(q.request('AUTH test-admin nope'), 'UNAUTHORIZED')
        self.assert_err(q.request('LEGS'), 'UNAUTHORIZED')

    def test_auth_usage(self):
        q = self.client()
        self.assert_err(q.request('AUTH'), 'BAD_ARGUMENT', 'AUTH <name> <secret>')
        self.assert_err(q.request('AUTH test-admin'), 'BAD_ARGUMENT')
        self.assert_err(q.request('AUTH a b c'), 'BAD_ARGUMENT')

    def test_pipelined_auth_and_queries_answer_in_order(self):
        q = self.client()
        q.send_raw(('AUTH %s %s\nLEGS\nPING\n' % harness.READ_TOKEN).encode())
        self.assertTrue(q.read_answer().ok)
        self.assertTrue(q.read_answer().rows)
        self.assertEqual(q.read_answer().rows[0][0], 'PONG')

    def ctl(self, *args, env_token=None, **kw):
        env = dict(os.environ)
        env.pop('CORRIDOR_TOKEN', None)
        if env_token is not None:
            env['CORRIDOR_TOKEN'] = env_token
        return subprocess.run([harness.CORRIDORCTL, '--port', str(self.daemon.query_port)] +
                              list(args), env=env, capture_output=True, text=True, timeout=30,
                              **kw)

    def test_corridorctl_tokens(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        self.assertEqual(self.ctl('ping').returncode, 0)
        p = self.ctl('legs')
        self.assertEqual(p.returncode, 2)
        self.assertIn('UNAUTHORIZED', p.stderr)
        p = self.ctl('legs', env_token='%s:%s' % harness.READ_TOKEN)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.ctl('backup', 'ctl-copy', env_token='%s:%s' % harness.READ_TOKEN)
        self.assertEqual(p.returncode, 2)
        self.assertIn('FORBIDDEN', p.stderr)
        tokfile = os.path.join(self.tmp, 'admin.token')
        with open(tokfile, 'w') as f:
            f.write('# the admin token\n%s:%s\n' % harness.ADMIN_TOKEN)
        p = self.ctl('--token-file', tokfile, 'backup', 'ctl-copy')
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.ctl('--token', 'test-admin:wrong', 'legs')
        self.assertEqual(p.returncode, 2)
        self.assertIn('UNAUTHORIZED', p.stderr)
        p = self.ctl('--token', 'no-colon', 'legs')
        self.assertEqual(p.returncode, 64)


class HashCredential(unittest.TestCase):

    def test_hash_credential_output_is_accepted(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        p = subprocess.run([harness.CORRIDORCTL, 'hash-credential', '--generate',
                            '--iterations', '1000'], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        secret, hashed = p.stdout.split('\n')[:2]
        self.assertRegex(secret, r'^[A-Za-z0-9_-]{43}$')
        self.assertRegex(hashed, r'^pbkdf2-sha256\$1000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$')
        p2 = subprocess.run([harness.CORRIDORCTL, 'hash-credential', '--iterations', '1000'],
                            input=secret + '\n', capture_output=True, text=True, timeout=30)
        self.assertEqual(p2.returncode, 0, p2.stderr)
        self.assertNotEqual(p2.stdout.strip(), hashed, 'the salt must be random')
        # the daemon takes both, and the secret opens the query port
        tmp = tempfile.mkdtemp(prefix='corridor-hash-')
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, 'c.conf')
        with open(conf, 'w') as f:
            f.write('[operators]\nops = %s admin\nops2 = %s read\n' % (hashed, p2.stdout.strip()))
        d = harness.new_daemon(self, extra_args=['--config', conf])
        d.start()
        with harness.QueryClient(d.query_port, token=('ops', secret)) as q:
            q.ok('LEGS')
        with harness.QueryClient(d.query_port, token=('ops2', secret)) as q:
            q.ok('LEGS')
        self.assertEqual(d.stop(), 0)
        bad = subprocess.run([harness.CORRIDORCTL, 'hash-credential'], input='has space\n',
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)


if __name__ == '__main__':
    harness.main()
