"""A pg_auto_failover 2.0 cluster of a test's own, for the failover test of
the PostgreSQL store (issue 13): a monitor, a primary and one or two
synchronous standbys, all PostgreSQL 15 on 127.0.0.1 and free ports, all in
one temporary directory, all gone at the end whatever happens.

    with PgCluster() as pg:
        pg.conninfo          # multi-host libpq conninfo, target_session_attrs=read-write
        pg.primary           # the Node that is primary now (pg.standby: a standby)
        pg.psql('SELECT 1')  # as the superuser, on the primary, over the socket
        pg.kill_primary()    # the primary's machine is lost (SIGKILL, nothing comes back)
        pg.wait_promoted(60) # until the monitor has a new primary, writable

How it is built (start()): initdb for the monitor and the first node done
here (so that their postgresql.auto.conf, read last, keeps them on
127.0.0.1 and their socket in the directory, and small), `pg_autoctl create
monitor`, `pg_autoctl create postgres` for the primary, `pg_autoctl run` for
each node in the background, then the standbys (`create postgres` makes
them with pg_basebackup from the primary, which copies those settings),
until the monitor shows one primary and the rest secondary, with
synchronous_standby_names set on the primary: every commit waits for a
standby. With standbys=2 the formation's number_sync_standbys is 1 (the
issue's setting); pg_auto_failover 2.0 refuses number_sync_standbys=1 with
a single standby (it wants number_sync_standbys + 1 standbys in the
quorum), and with one standby in the replication quorum and
number_sync_standbys=0 it still sets 'ANY 1 (standby)': a commit waits for
that standby while it is there (the primary goes on alone, wait_primary,
only once the monitor has declared the standby gone).

Authentication: corridor's role logs in over 127.0.0.1 with SCRAM, its
password only in a libpq passfile in the directory (never on a command
line). pg_auto_failover's own roles (the replicator, the monitor's health
checks, autoctl_node to the monitor) use trust, on 127.0.0.1 only and only
for those role names: acceptable for a test cluster that lives for a
minute on loopback in a private directory, not for production (there,
--auth scram-sha-256 and passwords in the keepers' passfiles, see
docs/scale-out.md). The Unix sockets are in the 0700 directory, trust.

As root: initdb and postgres refuse to run as root, so (as
tests/pg/with_postgres.sh does) everything PostgreSQL runs as an
unprivileged user, CORRIDOR_PG_OS_USER, else "postgres", else "nobody",
through runuser, and the directory is its. Each node has its own PGDATA,
XDG_CONFIG_HOME and XDG_DATA_HOME there (pg_autoctl keeps its
configuration and state in the last two).

Cleanup: a guardian process (this file run with --guard, in a session of
its own so that a signal to the test's process group does not reach it)
holds a pipe from the test; when the pipe closes (stop(), or the test
process dying however it dies) it kills every process of the cluster
(SIGSTOP first so that no supervisor restarts anything, then SIGKILL) and
removes the directory. stop() is also registered with atexit.

Skips (unittest.SkipTest; harness.main() makes that exit 77) only when
pg_autoctl or the PostgreSQL 15 server binaries are missing (tools/deps.sh
installs postgresql-15, postgresql-15-auto-failover, pg-auto-failover-cli).
Python standard library only."""
import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PG_AUTOCTL = os.environ.get('CORRIDOR_PG_AUTOCTL') or shutil.which('pg_autoctl') or \
    '/usr/bin/pg_autoctl'
PG_BIN = os.environ.get('CORRIDOR_PG_BIN') or '/usr/lib/postgresql/15/bin'

ROLE = 'corridor'
DB = 'corridor'
SUPERUSER = 'postgres'
FORMATION = 'default'
START_TIMEOUT_S = 180       # initdb, base backups and pg_autoctl's FSM on 2 loaded cores
CMD_TIMEOUT_S = 120
GUARD_TIMEOUT_S = 60
POLL_S = 0.25

# The monitor's failure detection, shortened for a test (pg_auto_failover's
# defaults in brackets): a primary is declared failed once its keeper has
# not reported for node_considered_unhealthy_timeout and the monitor's
# health checks (every health_check_period, max_retries more after
# retry_delay) fail; the monitor then waits primary_demote_timeout for the
# old primary to confirm its demotion before the standby may take writes.
# With the defaults a lost primary takes about 50 s to replace on this
# machine (measured); with these about 10 s.
FAST_FAILOVER = {
    'pgautofailover.health_check_period': 1000,         # [5000 ms]
    'pgautofailover.health_check_timeout': 1000,        # [5000 ms]
    'pgautofailover.health_check_max_retries': 1,       # [2]
    'pgautofailover.health_check_retry_delay': 500,     # [2000 ms]
    'pgautofailover.node_considered_unhealthy_timeout': 4000,  # [20000 ms]
    'pgautofailover.primary_demote_timeout': 4000,      # [30000 ms]
}

# small servers: the machine has 2 cores and other work
SERVER_SETTINGS = {
    'shared_buffers': "'16MB'",
    'max_connections': 40,
    'fsync': 'off',             # processes are killed, never the kernel
    'full_page_writes': 'off',
    'max_wal_size': "'128MB'",
    'deadlock_timeout': "'100ms'",
}

# corridor's role with SCRAM over loopback; pg_auto_failover's roles trust
# on loopback only (see the module docstring); everything on the socket.
PG_HBA = """\
local   all                 all                                     trust
host    all                 %(role)s            127.0.0.1/32        scram-sha-256
host    replication         pgautofailover_replicator 127.0.0.1/32  trust
host    all                 pgautofailover_replicator 127.0.0.1/32  trust
host    all                 pgautofailover_monitor    127.0.0.1/32  trust
host    pg_auto_failover    autoctl_node              127.0.0.1/32  trust
""" % {'role': ROLE}


def _free_port():
    try:
        import harness
        return harness.free_port()      # never the same port twice in this process
    except ImportError:
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            return s.getsockname()[1]


# ------------------------------------------------------------------ processes
def _live_processes():
    """{pid: ppid} of every process now that is not a zombie (a zombie is
    gone already; only its parent's wait is missing)."""
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p, encoding='ascii', errors='replace') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        if fields[0] not in ('Z', 'X'):
            out[int(p)] = int(fields[1])
    return out


def _belongs(pid, path):
    """Whether a process works in path (postgres chdirs to its PGDATA; we
    start pg_autoctl there) or names it on its command line."""
    try:
        cwd = os.readlink('/proc/%d/cwd' % pid)
        if cwd == path or cwd.startswith(path + '/'):
            return True
    except OSError:
        pass
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return path.encode() in f.read()
    except OSError:
        return False


def processes_of(path, roots=()):
    """Pids of every process that belongs to path, and all their
    descendants (postgres' children rename themselves and sit in their own
    process groups, so neither the command line nor killpg finds them)."""
    me = os.getpid()
    live = _live_processes()
    children = {}
    for p, ppid in live.items():
        children.setdefault(ppid, []).append(p)
    found = set(p for p in roots if p in live)
    found.update(p for p in live if p != me and _belongs(p, path))
    unvisited = list(found)     # whose children are still to be added
    while unvisited:
        for c in children.get(unvisited.pop(), ()):
            if c not in found and c != me:
                found.add(c)
                unvisited.append(c)
    return found


def kill_all(path, roots=(), timeout=GUARD_TIMEOUT_S, stopped=None):
    """SIGSTOP every process of path (nothing can restart or fork then),
    SIGKILL them, again until none is left; True when none is. stopped():
    called once, right after the first SIGSTOPs (the moment of the loss)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_of(path, roots)
        if not pids:
            return True
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
            if stopped is not None:
                stopped()
                stopped = None
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _guard(top):
    """The guardian: reads pids to watch from stdin until EOF, then kills
    everything of top and removes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    roots = set()
    for line in sys.stdin:
        if line.strip().isdigit():
            roots.add(int(line))
    ok = kill_all(top, roots)
    shutil.rmtree(top, ignore_errors=True)
    if os.path.exists(top) or not ok:
        print('pg_cluster guard: could not clean %s' % top, file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------- nodes
class Node:
    """One PostgreSQL of the cluster and its pg_autoctl (the monitor too)."""

    def __init__(self, cluster, name, port):
        self.cluster, self.name, self.port = cluster, name, port
        self.dir = os.path.join(cluster.top, name)
        self.pgdata = os.path.join(self.dir, 'pg')
        self.log = os.path.join(self.dir, 'pg_autoctl.log')
        self.proc = None            # the runuser/pg_autoctl run process
        self.killed = False
        self.killed_at = None

    @property
    def env(self):
        return {'PGDATA': self.pgdata, 'PGHOST': self.cluster.top,
                'XDG_CONFIG_HOME': os.path.join(self.dir, 'config'),
                'XDG_DATA_HOME': os.path.join(self.dir, 'data'),
                'HOME': self.dir, 'PATH': PG_BIN + ':/usr/bin:/bin', 'LC_ALL': 'C.UTF-8'}

    def log_tail(self, n=30):
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return '(no log)'

    def __repr__(self):
        return 'Node(%s, 127.0.0.1:%d)' % (self.name, self.port)


class PgCluster:
    """See the module docstring. standbys: 1 or 2; fast: the shortened
    failure detection (FAST_FAILOVER) instead of pg_auto_failover's defaults."""

    def __init__(self, standbys=1, fast=True):
        self.standbys, self.fast = standbys, fast
        self.top = None
        self.guard = None
        self.monitor = None
        self.nodes = []
        self.run = []
        self.owner = None
        self.password = secrets.token_hex(16)
        self.passfile = None
        self.first_primary = None

    # ----------------------------------------------------------- plumbing
    def _cmd(self, node, args):
        """args as the cluster's user, in node's environment."""
        env = ['%s=%s' % kv for kv in sorted(node.env.items())]
        return self.run + ['env', '-i'] + env + list(args)

    def _call(self, node, args, timeout=CMD_TIMEOUT_S, check=True, log=None):
        p = subprocess.run(self._cmd(node, args), cwd=node.dir if os.path.isdir(node.dir)
                           else self.top, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors='replace', timeout=timeout)
        if log:
            with open(log, 'a', encoding='utf-8') as f:
                f.write('$ %s\n%s%s' % (' '.join(args), p.stdout, p.stderr))
        if check and p.returncode != 0:
            raise RuntimeError('%s exited %d:\n%s%s' % (' '.join(args), p.returncode,
                                                         p.stdout[-3000:], p.stderr[-3000:]))
        return p

    def _mkdir(self, path):
        os.makedirs(path, exist_ok=True)
        if self.owner is not None:
            shutil.chown(path, self.owner)

    def _write(self, path, text, mode=0o600, own=True):
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(path, mode)
        if own and self.owner is not None:
            shutil.chown(path, self.owner)

    def _initdb(self, node, extra):
        """A cluster of our own for node: loopback, the socket in our
        directory, small; in postgresql.auto.conf, which is read after
        pg_autoctl's include (pg_basebackup copies it to the standbys)."""
        self._call(node, [os.path.join(PG_BIN, 'initdb'), '-D', node.pgdata, '-U', SUPERUSER,
                          '--auth-local=trust', '--auth-host=reject', '-E', 'UTF8',
                          '--locale=C.UTF-8', '--no-sync'], log=node.log)
        settings = dict(SERVER_SETTINGS, listen_addresses="'127.0.0.1'",
                        unix_socket_directories="'%s'" % self.top, **extra)
        with open(os.path.join(node.pgdata, 'postgresql.auto.conf'), 'a',
                  encoding='utf-8') as f:
            f.write(''.join('%s = %s\n' % kv for kv in settings.items()))
        self._write(os.path.join(node.pgdata, 'pg_hba.conf'), PG_HBA)

    def _run(self, node):
        """`pg_autoctl run` for node, in the background, in a session of its
        own (the test's signals are not its); its pid goes to the guardian."""
        log = open(node.log, 'a', encoding='utf-8')
        try:
            node.proc = subprocess.Popen(self._cmd(node, [PG_AUTOCTL, 'run', '--pgdata',
                                                          node.pgdata]),
                                         cwd=node.dir, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self.guard.stdin.write('%d\n' % node.proc.pid)
        self.guard.stdin.flush()

    @property
    def monitor_uri(self):
        return 'postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable' % \
            self.monitor.port

    # ------------------------------------------------------------- start
    def start(self):
        for b in (PG_AUTOCTL, os.path.join(PG_BIN, 'initdb'), os.path.join(PG_BIN, 'pg_ctl'),
                  os.path.join(PG_BIN, 'postgres'), os.path.join(PG_BIN, 'psql')):
            if not os.access(b, os.X_OK):
                raise unittest.SkipTest('%s missing (tools/deps.sh installs postgresql-15, '
                                        'postgresql-15-auto-failover, pg-auto-failover-cli)' % b)
        if os.getuid() == 0:
            for u in (os.environ.get('CORRIDOR_PG_OS_USER'), 'postgres', 'nobody'):
                if u:
                    try:
                        import pwd
                        pwd.getpwnam(u)
                        self.owner = u
                        break
                    except KeyError:
                        pass
            if self.owner is None:
                raise RuntimeError('running as root and no unprivileged user to run '
                                   'PostgreSQL as (set CORRIDOR_PG_OS_USER)')
            self.run = ['runuser', '-u', self.owner, '--']
        self.top = tempfile.mkdtemp(prefix='corridor-pgaf-')
        self._mkdir(self.top)
        os.chmod(self.top, 0o700)
        self.guard = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--guard',
                                       self.top], stdin=subprocess.PIPE, text=True,
                                      start_new_session=True)
        atexit.register(self.stop)
        try:
            self._build()
        except BaseException:
            self.dump_logs()
            self.stop()
            raise
        return self

    def _build(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        self.monitor = Node(self, 'monitor', _free_port())
        self._mkdir(self.monitor.dir)
        self._initdb(self.monitor, FAST_FAILOVER if self.fast else {})
        # --no-ssl: everything is on loopback, and no certificates to make
        # --skip-pg-hba: our pg_hba.conf above, not pg_autoctl's wider one
        common = ['--pgctl', os.path.join(PG_BIN, 'pg_ctl'), '--hostname', '127.0.0.1',
                  '--skip-pg-hba', '--no-ssl']
        self._call(self.monitor, [PG_AUTOCTL, 'create', 'monitor', '--pgdata',
                                  self.monitor.pgdata, '--pgport', str(self.monitor.port)]
                   + common, log=self.monitor.log)
        # pg_autoctl starts postgres with -h from its configuration ('*' for a
        # monitor, which has no --listen): loopback only
        self._call(self.monitor, [PG_AUTOCTL, 'config', 'set', '--pgdata', self.monitor.pgdata,
                                  'postgresql.listen_addresses', '127.0.0.1'], log=self.monitor.log)
        self._run(self.monitor)
        self._wait(deadline, 'the monitor', lambda: self._psql_ok(self.monitor, 'pg_auto_failover'))

        for i in range(1 + self.standbys):
            node = Node(self, 'node%d' % (i + 1), _free_port())
            self._mkdir(node.dir)
            if i == 0:
                self._initdb(node, {})
            self._call(node, [PG_AUTOCTL, 'create', 'postgres', '--pgdata', node.pgdata,
                              '--pgport', str(node.port), '--listen', '127.0.0.1',
                              '--name', node.name, '--monitor', self.monitor_uri,
                              '--username', SUPERUSER, '--dbname', 'postgres',
                              '--replication-quorum', 'true', '--candidate-priority', '50']
                       + common, timeout=max(10, deadline - time.monotonic()), log=node.log)
            self._run(node)
            self.nodes.append(node)
            want = 'single' if i == 0 else None
            self._wait(deadline, '%s registered and settled' % node.name,
                       lambda: self._settled(want))
        if self.standbys >= 2:
            # what `pg_autoctl set formation number-sync-standbys 1` calls: the
            # 2.0 command run with the monitor's --pgdata refuses any value
            # ("value 0 is not valid. Expected a non-negative integer value",
            # also with --formation), so the monitor's function directly
            self.monitor_sql("SELECT pgautofailover.set_formation_number_sync_standbys('%s', 1)"
                             % FORMATION)
            self._wait(deadline, 'number_sync_standbys 1',
                       lambda: self.number_sync_standbys() == 1 and self._settled())
        self.first_primary = self.primary
        self._wait(deadline, 'synchronous_standby_names on the primary',
                   lambda: self.synchronous_standby_names() not in ('', None))
        self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (ROLE, self.password))
        self.psql('CREATE DATABASE %s OWNER %s' % (DB, ROLE))
        self.passfile = os.path.join(self.top, 'pgpass')
        # the daemons and the test read it (as root or as this user)
        self._write(self.passfile, '127.0.0.1:*:*:%s:%s\n' % (ROLE, self.password),
                    own=os.getuid() != 0)

    def _wait(self, deadline, what, cond):
        while True:
            try:
                if cond():
                    return
            except (RuntimeError, subprocess.SubprocessError, ValueError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('pg_cluster: no %s in %d s' % (what, START_TIMEOUT_S))
            for n in [self.monitor] + self.nodes:
                if n.proc is not None and n.proc.poll() is not None and not n.killed:
                    raise RuntimeError('pg_autoctl run of %s exited %d:\n%s' % (
                        n.name, n.proc.returncode, n.log_tail()))
            time.sleep(POLL_S)

    def _settled(self, want=None):
        """Every node's reported state is its assigned one: 'single' (want)
        for a lone first node, else one primary and the rest secondary."""
        st = self.state()
        if len(st) != len(self.nodes) or any(
                s['current_group_state'] != s['assigned_group_state'] for s in st):
            return False
        states = sorted(s['current_group_state'] for s in st)
        if want:
            return states == [want]
        return states == ['primary'] + ['secondary'] * (len(st) - 1)

    # ------------------------------------------------------------ queries
    def state(self):
        """The monitor's view: `pg_autoctl show state --json`, a list of
        dicts (nodename, nodeport, current_group_state, assigned_group_state,
        health, reported_lsn, ...)."""
        p = self._call(self.monitor, [PG_AUTOCTL, 'show', 'state', '--monitor', self.monitor_uri,
                                      '--formation', FORMATION, '--json'], timeout=30)
        return json.loads(p.stdout or '[]')

    def uri(self):
        """What `pg_autoctl show uri --formation default` prints (a
        postgres:// URI naming every node, target_session_attrs=read-write)."""
        p = self._call(self.monitor, [PG_AUTOCTL, 'show', 'uri', '--monitor', self.monitor_uri,
                                      '--formation', FORMATION], timeout=30)
        return p.stdout.strip()

    def psql_run(self, sql, node=None, db='postgres', check=True, timeout=30):
        """psql -At as the superuser over node's socket (default: the
        primary); the CompletedProcess."""
        node = node or self.primary
        return self._call(node, [os.path.join(PG_BIN, 'psql'), '-X', '-w', '-At',
                                 '-v', 'ON_ERROR_STOP=1', '-h', self.top, '-p', str(node.port),
                                 '-U', SUPERUSER, '-d', db, '-c', sql],
                          timeout=timeout, check=check)

    def psql(self, sql, node=None, db='postgres'):
        """The output of psql_run, stripped; RuntimeError when it fails."""
        return self.psql_run(sql, node, db).stdout.strip()

    def _psql_ok(self, node, db):
        return self.psql_run('SELECT 1', node, db, check=False, timeout=10).returncode == 0

    def monitor_sql(self, sql):
        """psql -At on the monitor's pg_auto_failover database, as the superuser."""
        return self._call(self.monitor, [
            os.path.join(PG_BIN, 'psql'), '-X', '-w', '-At', '-v', 'ON_ERROR_STOP=1',
            '-h', self.top, '-p', str(self.monitor.port), '-U', SUPERUSER,
            '-d', 'pg_auto_failover', '-c', sql], timeout=30).stdout.strip()

    def number_sync_standbys(self):
        return int(self.monitor_sql("SELECT number_sync_standbys FROM pgautofailover.formation "
                                    "WHERE formationid = '%s'" % FORMATION))

    def synchronous_standby_names(self, node=None):
        return self.psql('SHOW synchronous_standby_names', node)

    def _node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def primary(self):
        """The Node the monitor has as primary (or wait_primary: writable
        without a standby) now; None while there is none."""
        for s in self.state():
            if s['current_group_state'] in ('primary', 'wait_primary') and \
                    s['assigned_group_state'] == s['current_group_state']:
                return self._node(s['nodename'])
        return None

    @property
    def standby(self):
        """A Node the monitor has as secondary now (None if there is none)."""
        for s in self.state():
            if s['current_group_state'] == 'secondary':
                return self._node(s['nodename'])
        return None

    @property
    def conninfo(self):
        """The multi-host libpq conninfo of corridor's database: every node,
        the one that takes writes chosen by libpq (target_session_attrs),
        the password from the passfile."""
        return ('host=%s port=%s dbname=%s user=%s passfile=%s '
                'target_session_attrs=read-write connect_timeout=5' % (
                    ','.join('127.0.0.1' for _ in self.nodes),
                    ','.join(str(n.port) for n in self.nodes), DB, ROLE, self.passfile))

    # ----------------------------------------------------------- failures
    def kill_primary(self, node=None):
        """The primary's machine is lost: its postgres (every backend, the
        WAL sender) and its keeper are frozen (SIGSTOP) and get SIGKILL,
        nothing is left to restart it or answer the monitor's health checks.
        node: the primary if already known (asking the monitor takes a
        moment). Returns the Node; its killed_at (time.monotonic()) is the
        moment it stopped, after which it can commit nothing."""
        node = node or self.primary
        if node is None:
            raise RuntimeError('no primary to kill')
        node.killed = True

        def stopped():
            node.killed_at = time.monotonic()
        if not kill_all(node.dir, [node.proc.pid], timeout=30, stopped=stopped):
            raise RuntimeError('processes of %s survived SIGKILL' % node.name)
        node.proc.wait(timeout=30)
        return node

    def wait_promoted(self, timeout, former=None):
        """Waits until the monitor has another node than former (default:
        the first primary) as primary and it takes writes; returns it."""
        former = former or self.first_primary
        deadline = time.monotonic() + timeout
        while True:
            try:
                p = self.primary
                if p is not None and p is not former and \
                        self.psql('SELECT pg_is_in_recovery()', p) == 'f':
                    return p
            except (RuntimeError, subprocess.SubprocessError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('no new primary %d s after %s was lost:\n%s' % (
                    timeout, former.name, self.describe()))
            time.sleep(POLL_S)

    # --------------------------------------------------------------- end
    def describe(self):
        try:
            return '\n'.join('%(nodename)s :%(nodeport)s %(current_group_state)s -> '
                             '%(assigned_group_state)s health %(health)s lsn %(reported_lsn)s'
                             % s for s in self.state())
        except (RuntimeError, subprocess.SubprocessError, ValueError) as e:
            return '(no state: %s)' % e

    def dump_logs(self, n=30):
        for node in [self.monitor] + self.nodes:
            if node is not None:
                sys.stderr.write('--- %s (pg_autoctl)\n%s' % (node.name, node.log_tail(n)))

    def stop(self):
        """Kills everything and removes the directory (the guardian does it);
        True when nothing is left. Safe to call again."""
        if self.guard is None:
            return True
        g, self.guard = self.guard, None
        try:
            g.stdin.close()
        except OSError:
            pass
        try:
            rc = g.wait(timeout=GUARD_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            g.kill()
            rc = -1
        for n in [self.monitor] + self.nodes:
            if n is not None and n.proc is not None:
                try:
                    n.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        return rc == 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--guard':
        sys.exit(_guard(sys.argv[2]))
    print('usage: pg_cluster.py --guard DIR (the guardian; tests import this module)',
          file=sys.stderr)
    sys.exit(2)
