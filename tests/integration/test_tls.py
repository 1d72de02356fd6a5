#!/usr/bin/python3
"""TLS on both ports (corridord.conf(5), [tls]), with a CA and certificates the
test makes with the openssl command: carriers push and operators query over
TLS (the independent carrier, Python's ssl module and corridorctl --tls);
mutual TLS on the carrier port accepts a client certificate that names the
carrier (CN or a DNS name) and refuses a wrong name, a missing certificate
when one is required and one from another CA; a plain-text client on a TLS
port gets a plain-text refusal; TLS 1.1 is refused; every refusal is counted
by reason in /metrics and the daemon keeps serving. A listener off loopback
without TLS makes the daemon warn."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import independent_carrier as ic  # noqa: E402
import tls_certs  # noqa: E402


def update(seq, carrier, container=model.C1):
    base = model.scenario_base_ms()
    return ic.make_update(carrier=carrier, seq=seq, message_id='%s-tls-%d' % (carrier, seq),
                          event_class='EQUIPMENT', classifier='ACT', event_code='LOAD',
                          event_time_ms=base + seq * 60000, node='ALTYNKOL',
                          leg=model.RAIL, direction='W', container=container)


class TlsCase(unittest.TestCase):
    """One CA for the class; each test starts its own daemon with tls_settings."""

    tls_settings = {}

    @classmethod
    def setUpClass(cls):
        if shutil.which('openssl') is None:
            raise unittest.SkipTest('the openssl command is not installed')
        cls.pki = tls_certs.Pki()
        cls.server_cert, cls.server_key = cls.pki.server()
        cls.ctx = cls.pki.client_context()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki.dir, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='corridor-tls-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.metrics_port = harness.free_port()
        settings = {k: v.format(cert=self.server_cert, key=self.server_key, ca=self.pki.ca)
                    for k, v in self.tls_settings.items()}
        conf = harness.write_config(os.path.join(self.tmp, 'corridord.conf'), tls=settings)
        query_tls = self.ctx if 'query_cert' in settings else None
        self.daemon = harness.new_daemon(self, extra_args=[
            '--config', conf, '--metrics-listen', '127.0.0.1:%d' % self.metrics_port],
            query_tls=query_tls)
        self.daemon.start()

    def tearDown(self):
        alive = self.daemon.alive()
        rc = self.daemon.stop()
        self.assertTrue(alive, 'corridord died:\n' + self.daemon.log_tail())
        self.assertEqual(rc, 0, self.daemon.log_tail())

    def refused(self):
        """corridor_connections_refused_total by reason."""
        url = 'http://127.0.0.1:%d/metrics' % self.metrics_port
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith('corridor_connections_refused_total{'):
                reason = line.split('"')[1]
                out[reason] = int(float(line.rsplit(' ', 1)[1]))
        return out

    def carrier(self, code, ctx=None, **kw):
        c = ic.Carrier(self.daemon.carrier_port, code, tls=ctx, **kw)
        self.addCleanup(c.close)
        return c

    def push(self, code, ctx, seqs=(1, 2, 3)):
        c = self.carrier(code, ctx)
        w = c.hello()
        ups = [update(w.acked_seq + s, code) for s in seqs]
        c.send(ups)
        self.assertEqual(c.wait_acked(ups[-1].seq), ups[-1].seq)
        self.assertEqual(c.rejections, {})
        return c

    def ctl(self, *args, port=None):
        return subprocess.run([harness.CORRIDORCTL, '--port', str(port or self.daemon.query_port)]
                              + list(args), capture_output=True, text=True, timeout=60)

    def assert_serving(self):
        self.assertTrue(self.daemon.alive(), self.daemon.log_tail())
        with self.daemon.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')


class TlsBothPorts(TlsCase):
    tls_settings = {'carrier_cert': '{cert}', 'carrier_key': '{key}',
                    'query_cert': '{cert}', 'query_key': '{key}'}

    def test_query_over_tls(self):
        with self.daemon.query() as q:
            self.assertIsInstance(q.sock, ssl.SSLSocket)
            self.assertIn(q.sock.version(), ('TLSv1.2', 'TLSv1.3'))
            self.assertGreater(len(q.ok('LEGS').rows), 5)
        r = self.ctl('--ca', self.pki.ca, '--json', 'ping')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)[0]['reply'], 'PONG')
        # the name checked is --host: localhost is in the certificate too
        r = self.ctl('--host', 'localhost', '--tls', '--ca', self.pki.ca, 'ping')
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_push_over_tls(self):
        c = self.push('KTZE', self.ctx)
        self.assertIsInstance(c.sock, ssl.SSLSocket)
        c.close()
        with self.daemon.query() as q:
            rows = q.ok('SHIPMENT %s' % model.C1).dicts()
        self.assertTrue(rows and rows[0]['leg'] == model.RAIL, rows)
        # corridorctl push over TLS, numbering on from the mark
        path = os.path.join(self.tmp, 'u.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(json.dumps({
                'event_class': 'EQUIPMENT', 'classifier': 'ACT', 'event_code': 'LOAD',
                'event_time_ms': model.scenario_base_ms() + 3600000, 'node': 'ALTYNKOL',
                'leg': model.RAIL, 'direction': 'W', 'container': model.C2}) + '\n')
        r = self.ctl('--ca', self.pki.ca, 'push', '--carrier', 'KTZE', path,
                     port=self.daemon.carrier_port)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with self.daemon.query() as q:
            self.assertTrue(q.ok('SHIPMENT %s' % model.C2).rows)

    def test_plain_text_client_is_refused_clearly(self):
        before = self.refused().get('tls_required', 0)
        c = self.carrier('KTZE')       # no TLS
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertEqual(e.exception.code, 'PROTOCOL')
        self.assertIn('speaks TLS', e.exception.message)
        q = harness.QueryClient(self.daemon.query_port)
        self.addCleanup(q.close)
        a = q.request('PING')
        self.assertFalse(a.ok)
        self.assertEqual(a.code, 'TLS_REQUIRED')
        r = self.ctl('ping')
        self.assertEqual(r.returncode, 2)
        self.assertIn('TLS_REQUIRED', r.stderr)
        self.assertEqual(self.refused()['tls_required'], before + 3)
        self.assert_serving()
        self.push('ADYC', self.ctx)

    def test_tls_1_1_is_refused(self):
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        try:
            # offer nothing newer than 1.1 (the client's own floor lowered)
            old.set_ciphers('DEFAULT:@SECLEVEL=0')
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', DeprecationWarning)
                old.minimum_version = ssl.TLSVersion.TLSv1
                old.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError) as e:
            self.skipTest('this Python/OpenSSL cannot offer TLS 1.1: %s' % e)
        before = self.refused().get('tls', 0)
        for port in (self.daemon.carrier_port, self.daemon.query_port):
            with self.assertRaises(ssl.SSLError) as e:
                ic.Carrier(port, 'KTZE', tls=old)
            self.assertRegex(str(e.exception), 'PROTOCOL_VERSION|protocol version|UNSUPPORTED')
        self.assertEqual(self.refused()['tls'], before + 2)
        self.assertIn('unsupported protocol', self.daemon.log_text())
        # the same client may go as far as 1.2
        ok = ssl.create_default_context(cafile=self.pki.ca)
        ok.maximum_version = ssl.TLSVersion.TLSv1_2
        c = self.push('KMTF', ok)
        self.assertEqual(c.sock.version(), 'TLSv1.2')

    def test_client_checks_the_daemon_certificate(self):
        os.mkdir(os.path.join(self.tmp, 'other-ca'))
        other = tls_certs.Pki(os.path.join(self.tmp, 'other-ca'), name='another CA')
        r = self.ctl('--ca', other.ca, 'ping')
        self.assertEqual(r.returncode, 1)
        self.assertIn('certificate', r.stderr)
        with self.assertRaises(ssl.SSLCertVerificationError):
            harness.QueryClient(self.daemon.query_port, tls=other.client_context())
        self.assert_serving()


class MutualTls(TlsCase):
    tls_settings = {'carrier_cert': '{cert}', 'carrier_key': '{key}', 'carrier_ca': '{ca}',
                    'carrier_client_cert': 'required'}

    def client_ctx(self, cn, dns=()):
        cert, key = self.pki.client(cn, dns)
        return self.pki.client_context(cert, key), cert, key

    def test_right_certificate(self):
        ctx, cert, key = self.client_ctx('KTZE')
        self.push('KTZE', ctx)
        # a DNS name may name the carrier too (one certificate, several codes)
        ctx, _, _ = self.client_ctx('corridor-integrator', dns=('ADYC', 'ASCO'))
        self.push('ADYC', ctx)
        self.push('ASCO', ctx)
        # corridorctl with --cert and --key
        path = os.path.join(self.tmp, 'u.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(json.dumps({
                'event_class': 'EQUIPMENT', 'classifier': 'ACT', 'event_code': 'LOAD',
                'event_time_ms': model.scenario_base_ms(), 'node': 'ALTYNKOL',
                'leg': model.RAIL, 'direction': 'W', 'container': model.C2}) + '\n')
        r = self.ctl('--ca', self.pki.ca, '--cert', cert, '--key', key, 'push', '--carrier',
                     'KTZE', path, port=self.daemon.carrier_port)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.refused()['client_cert'], 0)

    def test_wrong_name(self):
        ctx, cert, key = self.client_ctx('KTZE', dns=('KMTF',))
        c = self.carrier('ADYC', ctx)
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertEqual(e.exception.code, 'AUTH_FAILED')
        self.assertIn('not carrier ADYC', e.exception.message)
        self.assertIn('CN=KTZE', e.exception.message)
        # the name must be the code exactly, not a prefix or another case
        for cn in ('KTZE1', 'ktze'):
            ctx2, _, _ = self.client_ctx(cn)
            c = self.carrier('KTZE', ctx2)
            with self.assertRaises(ic.CarrierError) as e:
                c.hello()
            self.assertEqual(e.exception.code, 'AUTH_FAILED')
        r = self.ctl('--ca', self.pki.ca, '--cert', cert, '--key', key, 'push', '--carrier',
                     'ADYC', '--retries', '0', os.devnull, port=self.daemon.carrier_port)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('AUTH_FAILED', r.stdout + r.stderr)
        self.assertEqual(self.refused()['client_cert'], 4)
        self.assertIn('reason=client_cert carrier=ADYC', self.daemon.log_text())
        self.assert_serving()
        self.push('KTZE', ctx)

    def test_no_certificate_when_required(self):
        c = self.carrier('KTZE', self.ctx)
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertEqual(e.exception.code, 'AUTH_FAILED')
        self.assertIn('requires a client certificate', e.exception.message)
        self.assertEqual(self.refused()['client_cert'], 1)
        self.assert_serving()

    def test_certificate_of_another_ca(self):
        os.mkdir(os.path.join(self.tmp, 'rogue'))
        rogue = tls_certs.Pki(os.path.join(self.tmp, 'rogue'), name='rogue CA')
        cert, key = rogue.client('KTZE')
        ctx = self.pki.client_context(cert, key)      # trusts the daemon, rogue client cert
        with self.assertRaises((ssl.SSLError, ic.CarrierError, ConnectionError)):
            # TLS 1.3 reports the client certificate's fate after the handshake
            c = self.carrier('KTZE', ctx)
            c.hello()
        deadline = time.monotonic() + 5
        while self.refused()['tls'] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.refused()['tls'], 1)
        self.assertIn('certificate', self.daemon.log_text())
        self.assert_serving()


class OptionalClientCert(TlsCase):
    tls_settings = {'carrier_cert': '{cert}', 'carrier_key': '{key}', 'carrier_ca': '{ca}'}

    def test_optional(self):
        self.push('KTZE', self.ctx)            # no certificate: fine
        cert, key = self.pki.client('KTZE')
        self.push('KTZE', self.pki.client_context(cert, key), seqs=(1,))
        c = self.carrier('PTCH', self.pki.client_context(cert, key))
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()                          # one that is sent must name the carrier
        self.assertEqual(e.exception.code, 'AUTH_FAILED')
        self.assertIn('tls carriers=on client_cert=optional operators=off',
                      self.daemon.log_text())


class ExposedListener(unittest.TestCase):

    def test_warns_without_tls_off_loopback(self):
        d = harness.new_daemon(self, extra_args=['--carrier-listen', '0.0.0.0:%d' %
                                                 harness.free_port(), '--metrics-listen', ''])
        d.start()
        self.assertEqual(d.stop(), 0)
        self.assertRegex(d.log_text(), r'warn: listener=carriers bind=0\.0\.0\.0:\d+ is not '
                         r'loopback and has no TLS')
        self.assertNotIn('listener=operators', d.log_text().split('is not loopback')[-1])

    def test_bad_tls_configuration_is_reported(self):
        tmp = tempfile.mkdtemp(prefix='corridor-tls-')
        self.addCleanup(shutil.rmtree, tmp, True)
        cases = [
            ({'carrier_cert': '/nonexistent.crt', 'carrier_key': '/nonexistent.key'},
             'certificate /nonexistent.crt'),
            ({'carrier_cert': '/etc/hostname'}, 'carrier_cert and carrier_key go together'),
            ({'carrier_client_cert': 'required'}, 'needs carrier_ca'),
            ({'min_version': '1.1'}, 'min_version must be 1.2 or 1.3'),
            ({'query_ca': '/x'}, 'unknown setting "query_ca" in [tls]'),
        ]
        for settings, want in cases:
            conf = harness.write_config(os.path.join(tmp, 'c.conf'), tls=settings)
            r = subprocess.run([harness.CORRIDORD, '--config', conf, '--check-config'],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, settings)
            self.assertIn(want, r.stderr, settings)


if __name__ == '__main__':
    harness.main()
