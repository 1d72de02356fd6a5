#!/usr/bin/python3
"""Limits and deadlines a peer runs into (corridord.conf(5), [limits]):

- slow loris: a carrier trickling its Hello one byte at a time, a carrier
  trickling a frame, an operator trickling a query line, and a client that
  never finishes a TLS handshake are each dropped at their deadline, counted
  from accept or from the first byte, however often bytes arrive;
- max_connections_per_ip on both ports, with another loopback address still
  welcome;
- many idle connections against a daemon started with few descriptors
  (prlimit): max_connections is lowered to fit, the rest are refused with
  TOO_MANY_CONNECTIONS, and the daemon answers and does not spin (CPU time);
- descriptors taken away while running (prlimit --pid): accept fails with
  EMFILE, accepting pauses instead of spinning, an open connection is served
  all along, and the waiting connections are taken once descriptors return.
Every refusal shows in corridor_connections_refused_total{reason}."""
import http.client
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import independent_carrier as ic  # noqa: E402
import tls_certs  # noqa: E402

TICKS = os.sysconf('SC_CLK_TCK')


def _scrape_address():
    """127.0.0.2 where the loopback takes it: the scraper then has its own
    address's count (max_connections_per_ip)."""
    s = socket.socket()
    try:
        s.bind(('127.0.0.2', 0))
        return '127.0.0.2'
    except OSError:
        return '127.0.0.1'
    finally:
        s.close()


SCRAPE_FROM = _scrape_address()


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open('/proc/%d/stat' % pid, encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def nofile_of(pid):
    """(soft, hard) RLIMIT_NOFILE of a process, from /proc/<pid>/limits."""
    with open('/proc/%d/limits' % pid, encoding='ascii') as f:
        for line in f:
            if line.startswith('Max open files'):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise KeyError('Max open files')


def hello_frame(carrier='KTZE'):
    pb = ic.load_pb2()
    m = pb.CarrierMessage()
    m.hello.protocol_version = 1
    m.hello.carrier = carrier
    return ic.frame(m.SerializeToString())


def raise_own_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            raise unittest.SkipTest('descriptor limit %d below the %d this test needs' % (
                hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class LimitsCase(unittest.TestCase):
    limits = {}

    def start(self, limits=None, wrap=(), tls=None, query_tls=None):
        self.metrics_port = harness.free_port()
        conf = harness.write_config(os.path.join(self.tmpdir(), 'corridord.conf'),
                                    limits=limits if limits is not None else self.limits,
                                    tls=tls)
        d = harness.new_daemon(self, extra_args=[
            '--config', conf, '--metrics-listen', '127.0.0.1:%d' % self.metrics_port],
            query_tls=query_tls, wrapper=wrap)
        self.d = d
        return d.start()

    def tmpdir(self):
        if not hasattr(self, '_tmp'):
            import tempfile
            self._tmp = tempfile.mkdtemp(prefix='corridor-limits-')
            self.addCleanup(shutil.rmtree, self._tmp, True)
        return self._tmp

    def scrape(self):
        """GET /metrics over one kept-alive connection: metrics connections
        count in max_connections from accept, so a daemon at its limit would
        refuse a new one (503)."""
        for attempt in (0, 1):
            if getattr(self, '_scraper', None) is None:
                self._scraper = http.client.HTTPConnection(
                    '127.0.0.1', self.metrics_port, timeout=10, source_address=(SCRAPE_FROM, 0))
                self.addCleanup(lambda: self._scraper and self._scraper.close())
            try:
                self._scraper.request('GET', '/metrics')
                r = self._scraper.getresponse()
                text = r.read().decode()
                self.assertEqual(r.status, 200, text)
                return text
            except (OSError, http.client.HTTPException):
                self._scraper.close()
                self._scraper = None
                if attempt:
                    raise

    def refused(self):
        """Refusals by reason, accept pauses, and the connections open but
        the scraper's own."""
        text = self.scrape()
        out = {}
        for line in text.splitlines():
            if line.startswith('corridor_connections_refused_total{'):
                out[line.split('"')[1]] = int(float(line.rsplit(' ', 1)[1]))
            elif line.startswith('corridor_accept_pauses_total '):
                out['accept_pauses'] = int(float(line.split()[1]))
            elif line.startswith('corridor_connections '):
                out['open'] = int(float(line.split()[1])) - 1
        return out

    def wait_all_closed(self):
        """Until the daemon counts no connection (the start-up PING's counts
        until the daemon has seen it go)."""
        deadline = time.monotonic() + 10
        while self.refused()['open'] > 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self):
        alive = self.d.alive()
        rc = self.d.stop()
        self.assertTrue(alive, 'corridord died:\n' + self.d.log_tail())
        self.assertEqual(rc, 0, self.d.log_tail())

    def ping(self, timeout=5):
        t0 = time.monotonic()
        with harness.QueryClient(self.d.query_port, timeout=timeout,
                                 tls=self.d.query_tls) as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
        return time.monotonic() - t0


def trickle(sock, data, every, until):
    """Sends data one byte every `every` seconds until the peer closes or
    `until` (monotonic) passes; returns (bytes sent, what came back)."""
    got = b''
    sent = 0
    sock.settimeout(every)
    while time.monotonic() < until:
        if sent < len(data):
            try:
                sock.sendall(data[sent:sent + 1])
                sent += 1
            except OSError:
                break
        try:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            continue
        except OSError:
            break
    return sent, got


class SlowLoris(LimitsCase):
    limits = {'handshake_timeout_s': 2, 'frame_timeout_s': 2, 'query_line_timeout_s': 2,
              'idle_timeout_s': 30}

    def test_hello_one_byte_at_a_time(self):
        self.start()
        data = hello_frame() * 10        # more than the deadline lets through
        s = socket.create_connection(('127.0.0.1', self.d.carrier_port))
        self.addCleanup(s.close)
        t0 = time.monotonic()
        sent, got = trickle(s, data, 0.25, t0 + 15)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 1.9)
        self.assertLess(took, 3.5, 'dropped after %.1f s, the deadline is 2 s' % took)
        self.assertLess(sent, len(hello_frame()), 'a Hello got through byte by byte')
        pb = ic.load_pb2()
        msg = pb.ServerMessage()
        msg.ParseFromString(got[4:])
        self.assertEqual(pb.ErrorCode.Name(msg.error.code), 'TIMEOUT')
        self.assertIn('handshake_timeout_s', msg.error.message)
        self.assertEqual(self.refused()['handshake_deadline'], 1)
        self.ping()
        self.stop()

    def test_frame_one_byte_at_a_time(self):
        self.start()
        c = ic.Carrier(self.d.carrier_port, 'KTZE')
        self.addCleanup(c.close)
        c.hello()
        # a frame header announcing 200 bytes, then one byte every 0.25 s
        t0 = time.monotonic()
        sent, got = trickle(c.sock, struct.pack('>I', 200) + b'\x12' * 200, 0.25, t0 + 15)
        took = time.monotonic() - t0
        self.assertLess(took, 3.5, 'dropped after %.1f s, the deadline is 2 s' % took)
        self.assertGreaterEqual(took, 1.9)
        msg = c.pb.ServerMessage()
        msg.ParseFromString(got[4:])
        self.assertEqual(c.pb.ErrorCode.Name(msg.error.code), 'TIMEOUT')
        self.assertIn('frame_timeout_s', msg.error.message)
        self.assertEqual(self.refused()['frame_deadline'], 1)
        # a carrier whose frames come whole, with pauses between them, stays
        c2 = ic.Carrier(self.d.carrier_port, 'ADYC')
        self.addCleanup(c2.close)
        w = c2.hello()
        for k in (1, 2):
            time.sleep(1.5)
            u = ic.make_update(carrier='ADYC', seq=w.acked_seq + k, message_id='slow-%d' % k,
                               event_class='EQUIPMENT', classifier='ACT', event_code='LOAD',
                               event_time_ms=model.scenario_base_ms() + k, node='ALTYNKOL',
                               leg=model.RAIL, direction='W', container=model.C1)
            c2.send([u])
            self.assertEqual(c2.wait_acked(u.seq), u.seq)
        self.assertEqual(self.refused()['frame_deadline'], 1)
        self.stop()

    def test_query_line_one_byte_at_a_time(self):
        self.start()
        q = harness.QueryClient(self.d.query_port)
        self.addCleanup(q.close)
        # whole lines with pauses longer than the line deadline are fine
        self.assertTrue(q.request('PING').ok)
        time.sleep(2.5)
        self.assertTrue(q.request('PING').ok)
        t0 = time.monotonic()
        sent, got = trickle(q.sock, b'LEGS' + b' ' * 100, 0.25, t0 + 15)
        took = time.monotonic() - t0
        self.assertLess(took, 3.5, 'dropped after %.1f s, the deadline is 2 s' % took)
        self.assertRegex(got.decode(), r'^ERR LINE_TIMEOUT .*query_line_timeout_s')
        self.assertEqual(self.refused()['query_line_deadline'], 1)
        # a line above max_query_line_bytes is refused at once, and counted
        with harness.QueryClient(self.d.query_port) as q2:
            a = q2.request('PING ' + 'x' * 2000)
        self.assertEqual(a.code, 'LINE_TOO_LONG')
        self.assertEqual(self.refused()['query_line_too_long'], 1)
        self.ping()
        self.stop()

    def test_tls_handshake_never_finished(self):
        if shutil.which('openssl') is None:
            self.skipTest('no openssl command')
        os.mkdir(os.path.join(self.tmpdir(), 'pki'))
        pki = tls_certs.Pki(os.path.join(self.tmpdir(), 'pki'))
        cert, key = pki.server()
        self.start(tls={'carrier_cert': cert, 'carrier_key': key, 'query_cert': cert,
                        'query_key': key}, query_tls=pki.client_context())
        # a ClientHello cut short, trickled: the record never completes
        part = bytes.fromhex('16030100c8010000c40303') + b'\x00' * 40
        t0 = time.monotonic()
        results = []
        for port in (self.d.carrier_port, self.d.query_port):
            s = socket.create_connection(('127.0.0.1', port))
            self.addCleanup(s.close)
            results.append(trickle(s, part, 0.25, t0 + 15))
        took = time.monotonic() - t0
        self.assertLess(took, 5, 'dropped after %.1f s, the deadline is 2 s' % took)
        for sent, got in results:
            self.assertEqual(got, b'', 'nothing can be said before TLS is up')
        self.assertEqual(self.refused()['handshake_deadline'], 2)
        self.ping()
        self.stop()


class PerAddress(LimitsCase):
    limits = {'max_connections_per_ip': 3}

    def test_per_ip_both_ports(self):
        self.start()
        self.wait_all_closed()
        held = []
        for port in (self.d.query_port, self.d.query_port, self.d.carrier_port):
            s = socket.create_connection(('127.0.0.1', port))
            self.addCleanup(s.close)
            held.append(s)
        deadline = time.monotonic() + 10
        while self.refused()['open'] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        q = socket.create_connection(('127.0.0.1', self.d.query_port), timeout=5)
        self.addCleanup(q.close)
        self.assertEqual(q.makefile('rb').readline(),
                         b'ERR TOO_MANY_CONNECTIONS too many connections from this address '
                         b'(max_connections_per_ip)\n')
        c = ic.Carrier(self.d.carrier_port, 'KTZE')
        self.addCleanup(c.close)
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertEqual(e.exception.code, 'TOO_MANY_CONNECTIONS')
        self.assertIn('max_connections_per_ip', e.exception.message)
        # another address is another count
        try:
            other = socket.socket()
            self.addCleanup(other.close)
            other.bind(('127.0.0.2', 0))
        except OSError:
            self.skipTest('cannot bind 127.0.0.2')
        other.settimeout(5)
        other.connect(('127.0.0.1', self.d.query_port))
        other.sendall(b'PING\n')
        self.assertTrue(other.makefile('rb').readline().startswith(b'OK'))
        other.close()
        r = self.refused()
        self.assertEqual(r['per_ip'], 2)
        self.assertEqual(r['total'], 0)
        for s in held:
            s.close()
        deadline = time.monotonic() + 5
        while self.refused()['open'] > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.ping()
        self.assertIn('reason=per_ip', self.d.log_text())
        self.stop()


class FewDescriptors(LimitsCase):
    """The daemon gets a small RLIMIT_NOFILE; the test opens far more."""

    IDLE = 1500
    NOFILE = 400

    def setUp(self):
        if shutil.which('prlimit') is None:
            self.skipTest('no prlimit (util-linux)')
        raise_own_fd_limit(self.IDLE + 200)

    def open_many(self, n, ports):
        socks = []
        for i in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(('127.0.0.1', ports[i % len(ports)]))
            socks.append(s)
        self.addCleanup(lambda: [s.close() for s in socks])
        return socks

    def test_many_idle_connections(self):
        d = self.start({'max_connections_per_ip': 100000, 'handshake_timeout_s': 60},
                       wrap=('prlimit', '--nofile=%d:%d' % (self.NOFILE, self.NOFILE)))
        lowered = [line for line in d.log_text().splitlines() if 'max_connections lowered' in line]
        self.assertTrue(lowered, d.log_tail())
        fit = int(lowered[0].rsplit(' ', 1)[1])
        self.assertLess(fit, self.NOFILE)
        self.wait_all_closed()
        keep = harness.QueryClient(d.query_port)     # an operator already connected
        self.addCleanup(keep.close)
        self.assertTrue(keep.request('PING').ok)
        socks = self.open_many(self.IDLE, (d.query_port, d.carrier_port))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = self.refused()
            if r['total'] + r['open'] >= self.IDLE + 1:
                break
            time.sleep(0.1)
        r = self.refused()
        self.assertEqual(r['open'], fit - 1, r)     # the scraper holds one
        self.assertEqual(r['total'], self.IDLE + 2 - fit, r)
        self.assertLess(open_fds(d.pid), self.NOFILE)
        # idle, the daemon does nothing; it answers the operator at once
        cpu0 = cpu_seconds(d.pid)
        time.sleep(2)
        idle_cpu = cpu_seconds(d.pid) - cpu0
        t0 = time.monotonic()
        self.assertTrue(keep.request('PING').ok)
        answer_s = time.monotonic() - t0
        print('%d idle connections, %d held (max_connections lowered to %d), %d refused; '
              'daemon CPU over 2 s idle: %.2f s; PING answered in %.1f ms' % (
                  self.IDLE, r['open'], fit, r['total'], idle_cpu, answer_s * 1000))
        self.assertLess(idle_cpu, 0.3)
        self.assertLess(answer_s, 1)
        for s in socks:
            s.close()
        keep.close()
        deadline = time.monotonic() + 10
        while self.refused()['open'] > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.ping()
        self.stop()

    def test_out_of_descriptors_pauses_accept(self):
        d = self.start({'max_connections_per_ip': 100000})
        keep = harness.QueryClient(d.query_port)
        self.addCleanup(keep.close)
        self.assertTrue(keep.request('PING').ok)
        # leave the daemon fewer descriptors than it holds: every accept fails
        # (only the soft limit: raising a hard one back needs CAP_SYS_RESOURCE)
        soft, hard = nofile_of(d.pid)
        lim = open_fds(d.pid) - 2
        subprocess.run(['prlimit', '--pid', str(d.pid), '--nofile=%d:%d' % (lim, hard)],
                       check=True)
        socks = self.open_many(40, (d.query_port, d.carrier_port))
        # a scraper waiting too (evhttp's own listener must not spin either)
        scraper = socket.create_connection(('127.0.0.1', self.metrics_port))
        self.addCleanup(scraper.close)
        deadline = time.monotonic() + 10
        while 'pausing accept' not in d.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu0 = cpu_seconds(d.pid)
        t0 = time.monotonic()
        time.sleep(3)
        paused_cpu = cpu_seconds(d.pid) - cpu0
        paused_s = time.monotonic() - t0
        pauses = d.log_text().count('pausing accept')
        self.assertGreaterEqual(pauses, 1, d.log_tail())
        # about one failed accept per listener and second, not a spin
        self.assertLessEqual(pauses, 2 * (paused_s + 3), d.log_tail())
        self.assertLess(paused_cpu, 0.3)
        self.assertTrue(keep.request('PING').ok, 'an open connection is served during a pause')
        # descriptors back: the waiting connections are taken and served
        subprocess.run(['prlimit', '--pid', str(d.pid), '--nofile=%d:%d' % (soft, hard)],
                       check=True)
        deadline = time.monotonic() + 10
        # the waiting ones, the operator kept, and the waiting scraper (counted from accept)
        while self.refused()['open'] < len(socks) + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        r = self.refused()
        self.assertEqual(r['open'], len(socks) + 2, 'not every waiting connection was taken')
        answered = queries = 0
        for s in socks:
            if s.getpeername()[1] == d.query_port:
                queries += 1
                s.setblocking(True)
                s.settimeout(10)
                s.sendall(b'PING\n')
                answered += s.makefile('rb').readline() == b'OK\n'
        print('accept paused %d times in %.1f s (metrics: %d), daemon CPU %.2f s meanwhile; '
              '%d of %d waiting operators served afterwards' % (
                  pauses, paused_s, r['accept_pauses'], paused_cpu, answered, queries))
        self.assertEqual(answered, queries)
        self.assertGreaterEqual(r['accept_pauses'], pauses)
        self.stop()


if __name__ == '__main__':
    harness.main()
