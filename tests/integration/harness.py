"""Integration test harness: runs the real corridord on free loopback ports in
a temporary state directory, talks the query protocol (docs/query-protocol.md)
and finds the binaries. Python standard library only.

Paths come from the environment that tests/meson.build sets (CORRIDORD,
CORRIDORCTL, BENCH_INGEST, CORRIDOR_SOURCE_DIR); without it they are guessed
from this file's place in the source tree (build/ beside tests/).

Authentication: every daemon the harness starts knows one carrier secret
(CARRIER_SECRET, for every configured carrier code) and two operator tokens
(ADMIN_TOKEN, READ_TOKEN), stored as PBKDF2 hashes in its configuration.
Importing the harness puts CORRIDOR_CREDENTIAL and CORRIDOR_TOKEN (admin)
into the environment, so corridorctl, bench_ingest and independent_carrier.py
authenticate without being told; QueryClient sends AUTH itself."""
import base64
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('CORRIDOR_SOURCE_DIR') or os.path.dirname(os.path.dirname(HERE))
CORRIDORD = os.environ.get('CORRIDORD') or os.path.join(SOURCE_DIR, 'build', 'daemon', 'corridord')
CORRIDORCTL = os.environ.get('CORRIDORCTL') or os.path.join(SOURCE_DIR, 'build', 'client',
                                                             'corridorctl')
BENCH_INGEST = os.environ.get('BENCH_INGEST') or os.path.join(SOURCE_DIR, 'build', 'bench',
                                                               'bench_ingest')
SYSTEM_PYTHON = '/usr/bin/python3'

START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 30
IO_TIMEOUT_S = 15

DEFAULT_CARRIERS = ('KTZE', 'KMTF', 'PTCH', 'ADYC', 'ASCO', 'POB', 'MCML')
CARRIER_SECRET = 'test-carrier-secret-4f9c2d7e'
ADMIN_TOKEN = ('test-admin', 'test-admin-secret-81b3e6a0')
READ_TOKEN = ('test-reader', 'test-reader-secret-5d2c9f14')
CODES_PER_CREDENTIAL = 8        # corridord's CRED_CODES_MAX
HASH_ITERATIONS = 1000          # the least corridord takes: cheap for tests

# the tests' own secrets, whatever the caller's environment holds
os.environ['CORRIDOR_CREDENTIAL'] = CARRIER_SECRET
os.environ['CORRIDOR_TOKEN'] = '%s:%s' % ADMIN_TOKEN
for _name in ('CORRIDOR_CREDENTIAL_FILE', 'CORRIDOR_TOKEN_FILE'):
    os.environ.pop(_name, None)


def hash_secret(secret, iterations=HASH_ITERATIONS):
    """The configuration's form of a secret, as `corridorctl hash-credential`
    makes it: pbkdf2-sha256$<iterations>$<salt>$<hash>, base64."""
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac('sha256', secret.encode(), salt, iterations)
    return 'pbkdf2-sha256$%d$%s$%s' % (iterations, base64.b64encode(salt).decode(),
                                       base64.b64encode(dk).decode())


def auth_lines(carriers=None, secret=CARRIER_SECRET, operators=(ADMIN_TOKEN, READ_TOKEN)):
    """[credentials] and [operators] sections: one credential per
    CODES_PER_CREDENTIAL carriers (all with secret), and the tokens."""
    codes = list(carriers or DEFAULT_CARRIERS)
    out = []
    if secret is not None and codes:
        out.append('[credentials]')
        for i in range(0, len(codes), CODES_PER_CREDENTIAL):
            out.append('test-%d = %s %s' % (i // CODES_PER_CREDENTIAL, hash_secret(secret),
                                            ' '.join(codes[i:i + CODES_PER_CREDENTIAL])))
    if operators:
        out.append('[operators]')
        for (name, tok), right in zip(operators, ('admin', 'read')):
            out.append('%s = %s %s' % (name, hash_secret(tok), right))
    return '\n'.join(out) + '\n' if out else ''


def ensure_protobuf():
    """Re-executes this script under the system interpreter when the current
    one (e.g. a pyenv python3) lacks google.protobuf."""
    try:
        import google.protobuf  # noqa: F401
        return
    except ImportError:
        pass
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and \
            os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    raise unittest.SkipTest('google.protobuf is not installed (python3-protobuf)')


def require_binary(path, what):
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('%s not built: %s' % (what, path))


def _built_with(sanitizer):
    """True when the binaries are built with this sanitizer ('address',
    'thread'): tests/meson.build sets CORRIDOR_SANITIZE from b_sanitize; run by
    hand, corridord's symbols (__asan_init, __tsan_init) tell."""
    env = os.environ.get('CORRIDOR_SANITIZE')
    if env is not None:
        return sanitizer in env
    try:
        with open(CORRIDORD, 'rb') as f:
            return ('__%ssan_init' % sanitizer[0]).encode() in f.read()
    except OSError:
        return False


def sanitized():
    """AddressSanitizer: its shadow memory and redzones inflate RSS several
    times and slow the daemon."""
    return _built_with('address')


def thread_sanitized():
    """ThreadSanitizer (tools/test.sh --tsan): it slows every memory access of
    the writer threads several times, so tests that time a whole flood give it
    longer."""
    return _built_with('thread')


def proc_status_kib(pid, field):
    """A kB figure of /proc/<pid>/status, e.g. 'VmHWM' (peak RSS) or 'VmRSS'."""
    with open('/proc/%d/status' % pid, encoding='ascii') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def tcp_queues(local_port):
    """{remote port: (tx_queue, rx_queue)} of the loopback TCP sockets bound to
    local_port, from /proc/net/tcp: rx_queue is what the kernel holds that the
    process has not read yet."""
    out = {}
    with open('/proc/net/tcp', encoding='ascii') as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote, queues = parts[1], parts[2], parts[4]
            if int(local.split(':')[1], 16) != local_port:
                continue
            tx, rx = queues.split(':')
            out[int(remote.split(':')[1], 16)] = (int(tx, 16), int(rx, 16))
    return out


def write_config(path, carriers=None, limits=None, daemon=None, tls=None, auth=True):
    """An INI file for corridord -c: [daemon] settings, a [carriers] section
    (it replaces the built-in list), [limits], [tls], and (auth) the harness's
    credential for every carrier and its operator tokens."""
    with open(path, 'w', encoding='utf-8') as f:
        for section, items in (('daemon', daemon), ('limits', limits), ('tls', tls)):
            if items:
                f.write('[%s]\n' % section)
                for k, v in items.items():
                    f.write('%s = %s\n' % (k, v))
        if carriers:
            f.write('[carriers]\n')
            for code in carriers:
                f.write('%s = test carrier %s\n' % (code, code))
        if auth:
            f.write(auth_lines(carriers))
    return path


def has_config_flag(args):
    return any(a in ('-c', '--config') or a.startswith('--config=') for a in args)


def _ephemeral_range():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range', encoding='ascii') as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


_PORTS_GIVEN = set()


def free_port():
    """A port nobody listens on right now, below the kernel's ephemeral range:
    a carrier reconnecting while the daemon is down (a restart on the same
    port) can then never be given that port as its own source port and
    connect to itself, nor hold it when the daemon binds it again.

    Never the same port twice in one test process: a port is only free until
    its daemon binds it, so a metrics port picked before Daemon.start() could
    otherwise come back as that daemon's carrier port (the metrics listener
    then failed to bind and the test's scrape reached the carrier port)."""
    lo, _ = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(10000, lo) if lo > 10100 else 0
        if port in _PORTS_GIVEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port
    raise AssertionError('no free loopback port below %d after 200 tries' % lo)


class QueryError(Exception):
    pass


class Answer:
    """One query answer: ok, and then columns/rows, or code/message."""

    def __init__(self, ok, columns=None, rows=None, code=None, message=None):
        self.ok, self.columns, self.rows = ok, columns or [], rows or []
        self.code, self.message = code, message

    def dicts(self):
        return [dict(zip(self.columns, r)) for r in self.rows]

    def __repr__(self):
        if self.ok:
            return 'Answer(OK %s, %d rows)' % (self.columns, len(self.rows))
        return 'Answer(ERR %s %s)' % (self.code, self.message)


class QueryClient:
    """A connection to the operator listener; request() sends one line and
    parses the answer strictly (OK / # header / rows / END n, or ERR).
    It authenticates first with token ((name, secret); the harness's admin
    token unless told otherwise; None sends no AUTH)."""

    def __init__(self, port, host='127.0.0.1', timeout=IO_TIMEOUT_S, tls=None,
                 token=ADMIN_TOKEN):
        """tls: an ssl.SSLContext when the query port speaks TLS."""
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            try:
                self.sock = tls.wrap_socket(self.sock, server_hostname=host)
            except BaseException:
                self.sock.close()
                raise
        self.reader = self.sock.makefile('rb')
        if token is not None:
            a = self.request('AUTH %s %s' % token)
            if not a.ok:
                self.close()
                raise QueryError('AUTH %s -> ERR %s %s' % (token[0], a.code, a.message))

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def readline(self):
        line = self.reader.readline()
        if not line:
            raise EOFError('connection closed')
        if not line.endswith(b'\n'):
            raise QueryError('answer line without newline: %r' % line)
        return line[:-1].decode('utf-8')

    def read_answer(self):
        first = self.readline()
        if first.startswith('ERR '):
            parts = first.split(' ', 2)
            return Answer(False, code=parts[1], message=parts[2] if len(parts) > 2 else '')
        if first != 'OK':
            raise QueryError('answer starts with %r' % first)
        header = self.readline()
        if not header.startswith('# '):
            raise QueryError('no header after OK: %r' % header)
        columns = header[2:].split('\t')
        rows = []
        while True:
            line = self.readline()
            if line.startswith('END '):
                if int(line[4:]) != len(rows):
                    raise QueryError('END %s after %d rows' % (line[4:], len(rows)))
                return Answer(True, columns, rows)
            row = line.split('\t')
            if len(row) != len(columns):
                raise QueryError('row %r has %d fields, header %d' % (line, len(row),
                                                                      len(columns)))
            rows.append(row)

    def request(self, line):
        self.send_raw(line.encode('utf-8') + b'\n')
        return self.read_answer()

    def ok(self, line):
        """request() that must succeed."""
        a = self.request(line)
        if not a.ok:
            raise QueryError('%s -> ERR %s %s' % (line, a.code, a.message))
        return a


class Daemon:
    """One corridord on free loopback ports. start() returns once PING answers;
    stop() sends SIGTERM and returns the exit code."""

    def __init__(self, state_dir=None, extra_args=(), query_tls=None, wrapper=()):
        """query_tls: the ssl.SSLContext to reach a query port with TLS on;
        wrapper: a command that execs corridord, e.g. ('prlimit', '--nofile=400')."""
        require_binary(CORRIDORD, 'corridord')
        self.query_tls = query_tls
        self.wrapper = list(wrapper)
        self.own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='corridor-test-')
        self.extra_args = list(extra_args)
        self.conf_dir = None
        if not has_config_flag(self.extra_args):
            # the built-in carriers with the harness's credential and tokens,
            # beside the state (which may be a small file system of its own)
            self.conf_dir = tempfile.mkdtemp(prefix='corridor-test-conf-')
            conf = write_config(os.path.join(self.conf_dir, 'corridord.conf'))
            self.extra_args = ['--config', conf] + self.extra_args
        self.proc = None
        self.log_path = os.path.join(self.state_dir, 'corridord.log')
        self._log_start = 0
        self.carrier_port = self.query_port = None

    def start(self, same_ports=False):
        """Starts on fresh free ports, or (same_ports) on the previous run's,
        as a restarted service would be."""
        if not (same_ports and self.carrier_port):
            self.carrier_port, self.query_port = free_port(), free_port()
            while self.query_port == self.carrier_port:
                self.query_port = free_port()
        args = self.wrapper + [CORRIDORD, '--state-dir', self.state_dir,
                '--carrier-listen', '127.0.0.1:%d' % self.carrier_port,
                '--query-listen', '127.0.0.1:%d' % self.query_port] + self.extra_args
        log = open(self.log_path, 'ab')
        self._log_start = log.tell()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        # ThreadSanitizer: the start-up of a daemon with a thousand carriers
        # took longer than 15 s on a loaded machine
        # a sanitized daemon with a thousand carriers to hash may need longer
        # on a loaded machine (seen: ASan start-up past 15 s in CI)
        start_timeout = START_TIMEOUT_S * (4 if thread_sanitized() else
                                           2 if sanitized() else 1)
        deadline = time.monotonic() + start_timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError('corridord exited with %d at start-up:\n%s' %
                                     (self.proc.returncode, self.log_tail()))
            try:
                with QueryClient(self.query_port, timeout=2, tls=self.query_tls,
                                 token=None) as q:
                    a = q.request('PING')
                    if a.ok:
                        self._check_metrics_listener()
                        return self
            except (OSError, EOFError, QueryError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError('corridord did not answer PING in %d s:\n%s' %
                                     (start_timeout, self.log_tail()))
            time.sleep(0.05)

    def _check_metrics_listener(self):
        """A daemon asked for --metrics-listen H:P that could not bind it runs
        on without metrics (by design); a test that asked for it fails here,
        with the reason, rather than at its first scrape."""
        args = self.extra_args
        for i, a in enumerate(args[:-1]):
            if a == '--metrics-listen' and args[i + 1]:
                with open(self.log_path, 'rb') as f:
                    f.seek(self._log_start)
                    text = f.read()
                if b'metrics endpoint disabled' in text:
                    raise AssertionError('corridord runs without its metrics listener %s:\n%s'
                                         % (args[i + 1], self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.proc = None
        return rc

    def kill(self):
        """SIGKILL and waitpid: the process is gone when this returns."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def restart(self):
        rc = self.stop()
        self.start()
        return rc

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        if self.conf_dir:
            shutil.rmtree(self.conf_dir, ignore_errors=True)

    def query(self, token=ADMIN_TOKEN):
        return QueryClient(self.query_port, tls=self.query_tls, token=token)

    def log_text(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    SANITIZER_MARKS = ('runtime error:', 'ERROR: AddressSanitizer', 'ERROR: LeakSanitizer')

    def sanitizer_reports(self):
        """Lines of ASan/UBSan reports in the log (UBSan goes on after one
        unless UBSAN_OPTIONS says halt_on_error, so look)."""
        return [line for line in self.log_text().splitlines()
                if any(m in line for m in self.SANITIZER_MARKS)]

    def check_sanitizer(self):
        reports = self.sanitizer_reports()
        if reports:
            raise AssertionError('sanitizer reports in the corridord log:\n%s\n%s' % (
                '\n'.join(reports[:5]), self.log_tail(20)))

    def log_tail(self, n=40):
        lines = self.log_text().splitlines()
        return '\n'.join(lines[-n:]) if lines else '(no log)'


def new_daemon(test, **kwargs):
    """A Daemon (not started) whose log is checked for sanitizer reports and
    which is killed and removed when the test ends."""
    d = Daemon(**kwargs)
    test.addCleanup(d.cleanup)
    test.addCleanup(d.check_sanitizer)   # runs first: the log is still there
    return d


class DaemonTestCase(unittest.TestCase):
    """A test case with a fresh daemon per test (self.daemon), stopped
    afterwards with the exit code checked."""

    daemon_args = ()

    def setUp(self):
        self.daemon = new_daemon(self, extra_args=self.daemon_args)
        self.daemon.start()

    def stop_daemon(self):
        alive = self.daemon.alive()
        rc = self.daemon.stop()
        self.assertTrue(alive, 'corridord died during the test:\n' + self.daemon.log_tail())
        self.assertEqual(rc, 0, 'corridord exit code after SIGTERM:\n' + self.daemon.log_tail())

    def tearDown(self):
        if self.daemon.proc is not None:
            self.stop_daemon()

    def assert_alive(self):
        self.assertTrue(self.daemon.alive(), 'corridord died:\n' + self.daemon.log_tail())
        with self.daemon.query() as q:
            a = q.ok('PING')
        self.assertEqual(a.rows[0][0], 'PONG')


def cpu_seconds(pid):
    """CPU time (user + system) a process has used, from /proc/<pid>/stat."""
    with open('/proc/%d/stat' % pid, encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def send_unread(sock, data, seconds):
    """Sends data as far as the kernels take it within seconds, never reading
    (a client that does not read its answers); returns the bytes sent."""
    sock.setblocking(False)
    off, t = 0, time.monotonic()
    while off < len(data) and time.monotonic() - t < seconds:
        try:
            off += sock.send(data[off:off + 65536])
        except BlockingIOError:
            time.sleep(0.01)
    return off


def metric(metrics_port, name, **labels):
    """One sample of the daemon's /metrics, by name and exact labels."""
    text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % metrics_port,
                                  timeout=10).read()
    want = ','.join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.decode().splitlines():
        m = re.match(r'^%s(?:\{(.*)\})? (\S+)$' % re.escape(name), line)
        if m and ','.join(sorted((m.group(1) or '').split(','))) == want:
            return float(m.group(2))
    raise KeyError('%s{%s}' % (name, want))


def main():
    """unittest.main() that turns 'everything skipped' into meson's skip code."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        sys.exit(1)
    if r.testsRun and len(r.skipped) == r.testsRun:
        sys.exit(77)
    sys.exit(0)
