"""Shared pieces of the durability and overload tests: deterministic updates
with every field, carriers (threads on the independent carrier's library) that
push continuously and resend across reconnects and crashes, and read-only
checks of the state directory's SQLite files (each stored row field by field,
PRAGMA integrity_check).

A ResendingCarrier keeps its own record, as a real carrier must: the highest
seq it has sent (it sends 1, 2, 3, ... without gaps), the highest
acknowledged mark it has heard of (Ack or Welcome), and every Welcome. After a
reconnect it resends everything above the Welcome's acked_seq, nothing below;
a retryable Rejection makes it go back to that seq after a pause."""
import glob
import os
import random
import select
import socket
import sqlite3
import threading
import time

import corridor_model as model
import independent_carrier as ic

# columns of the leg files' events table (schema/leg/001_init.sql) that come
# from one update's fields, as the daemon stores them
STRING_COLUMNS = ('carrier', 'message_id', 'node', 'locode', 'train_id', 'wagon_id',
                  'vessel_imo', 'voyage', 'truck_plate', 'container', 'iso_type',
                  'delay_reason', 'remark', 'retracts_message_id')
INT_COLUMNS = ('seq', 'event_time_ms', 'gross_kg', 'teu', 'container_count', 'next_eta_ms')
ENUM_COLUMNS = (('event_class', 'EventClass'), ('classifier', 'Classifier'),
                ('event_code', 'EventCode'), ('mode', 'Mode'))

CODES = {'TRANSPORT': ('ARRI', 'DEPA'),
         'EQUIPMENT': ('LOAD', 'DISC', 'GTIN', 'GTOT', 'STUF', 'STRP', 'INSP'),
         'SHIPMENT': ('HOLD', 'RELS')}
REMARKS = ('', 'gauge change at Altynkol', 'Ақтау порты: кезек',
           'задержка на границе — 4 ч', 'Bakı limanı, gəmi gözləyir', 'ok ✓')


# ------------------------------------------------------------------ updates
def make_update_fields(seed, carrier, seq, legs, now_ms):
    """One valid update (dict of proto field names, enums by name), the same
    for the same (seed, carrier, seq), with a message_id unique to them."""
    r = random.Random('%s/%s/%d' % (seed, carrier, seq))
    cls = r.choice(sorted(CODES))
    classifier = r.choice(('ACT', 'ACT', 'ACT', 'EST', 'PLN'))
    if classifier == 'ACT':
        t = now_ms - r.randrange(1, 60 * model.DAY_MS)
    else:
        t = now_ms + r.randrange(-10 * model.DAY_MS, 100 * model.DAY_MS)
    u = {'carrier': carrier, 'seq': seq, 'message_id': '%s-%s-%d-%08x' % (
        carrier, seed, seq, r.getrandbits(32)), 'event_class': cls,
        'classifier': classifier, 'event_code': r.choice(CODES[cls]), 'event_time_ms': t,
        'node': r.choice(('ALTYNKOL', 'AKTAU', 'ALAT', 'BAKU', 'KURYK', 'POTI')),
        'leg': r.choice(legs), 'direction': r.choice(('W', 'E'))}
    unit = r.randrange(5)
    if unit == 0:
        u['container'] = model.container(r.choice(('TGHU', 'MSKU', 'CSQU')),
                                         r.randrange(1000000))
        u['iso_type'] = r.choice(('22G1', '45G1', 'L5G1', '42G1'))
        u['gross_kg'] = r.randrange(0, 60001)
        if r.random() < 0.5:
            u['empty'] = r.random() < 0.3
    elif unit == 1:
        u['train_id'] = 'KZ%05d' % r.randrange(100000)
        u['teu'] = r.randrange(0, 200)
        u['container_count'] = r.randrange(0, 100)
    elif unit == 2:
        u['vessel_imo'] = '9%06d' % r.randrange(1000000)
        if r.random() < 0.7:
            u['voyage'] = 'V%03d' % r.randrange(1000)
        u['gross_kg'] = r.randrange(0, 100000001)
    elif unit == 3:
        u['wagon_id'] = '%08d' % r.randrange(10 ** 8)
    else:
        u['truck_plate'] = '%02dAZ%03d' % (r.randrange(100), r.randrange(1000))
    if r.random() < 0.5:
        u['mode'] = r.choice(('RAIL', 'VESSEL', 'TRUCK'))
    if r.random() < 0.4:
        u['locode'] = r.choice(('KZAKX', 'AZBAK', 'GEPTI', 'KZALT'))
    if r.random() < 0.3:
        u['delay_reason'] = r.choice(('WEA', 'CUS', 'PORT'))
    remark = r.choice(REMARKS)
    if remark:
        u['remark'] = remark
    if r.random() < 0.3:
        u['next_eta_ms'] = now_ms + r.randrange(0, 30 * model.DAY_MS)
    return u


def expected_row(pb, u):
    """The events row the daemon should store for update dict u (without id,
    record_time_ms and retracted)."""
    row = {c: u.get(c) or None for c in STRING_COLUMNS}
    for c in INT_COLUMNS:
        row[c] = u.get(c)
    for c, enum in ENUM_COLUMNS:
        row[c] = getattr(pb, enum).Value(u[c]) if c in u else None
    row['direction'] = u['direction']
    row['empty'] = int(u['empty']) if 'empty' in u else None
    row['unit'] = model.unit_key(u)
    return row


# ------------------------------------------------------------ state on disk
def db_files(state_dir):
    """The catalog and every leg file."""
    return [os.path.join(state_dir, 'corridor.db')] + \
        sorted(glob.glob(os.path.join(state_dir, 'legs', '*.db')))


def connect_ro(path):
    return sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=10)


def integrity_problems(state_dir):
    """['<file>: <message>', ...] from PRAGMA integrity_check of every file."""
    problems = []
    for path in db_files(state_dir):
        con = connect_ro(path)
        try:
            res = [r[0] for r in con.execute('PRAGMA integrity_check')]
        except sqlite3.Error as e:
            res = ['cannot check: %s' % e]
        finally:
            con.close()
        if res != ['ok']:
            problems.append('%s: %s' % (os.path.basename(path), '; '.join(res[:5])))
    return problems


def stored_events(state_dir, carriers=None):
    """{(carrier, seq): [row dict with a 'leg_file' key, ...]} over all leg
    files; a list longer than one means the update is stored more than once."""
    out = {}
    for path in db_files(state_dir)[1:]:
        con = connect_ro(path)
        con.row_factory = sqlite3.Row
        try:
            for r in con.execute('SELECT * FROM events'):
                if carriers is not None and r['carrier'] not in carriers:
                    continue
                d = dict(r)
                d['leg_file'] = os.path.basename(path)[:-3]
                out.setdefault((d['carrier'], d['seq']), []).append(d)
        finally:
            con.close()
    return out


def stored_seqs(events):
    """{carrier: sorted list of seqs} of stored_events()' answer."""
    out = {}
    for (carrier, seq) in events:
        out.setdefault(carrier, []).append(seq)
    return {c: sorted(s) for c, s in out.items()}


def row_mismatches(pb, events, updates, t_min_ms=None, t_max_ms=None):
    """Problems (text) of stored events against the sent updates
    ({(carrier, seq): update dict}): each stored exactly once, in its own leg's
    file, field by field; record_time_ms within [t_min_ms, t_max_ms]."""
    problems = []
    for key, rows in sorted(events.items()):
        u = updates.get(key)
        if u is None:
            problems.append('%s seq %d stored but never sent' % key)
            continue
        if len(rows) != 1:
            problems.append('%s seq %d stored %d times (%s)' % (
                key + (len(rows), ', '.join(r['leg_file'] for r in rows))))
        row, want = rows[0], expected_row(pb, u)
        if row['leg_file'] != u['leg']:
            problems.append('%s seq %d in %s, sent for %s' % (key + (row['leg_file'], u['leg'])))
        for col, v in want.items():
            if row[col] != v:
                problems.append('%s seq %d %s: stored %r, sent %r' % (key + (col, row[col], v)))
        if row['retracted'] != 0:
            problems.append('%s seq %d retracted=%r' % (key + (row['retracted'],)))
        if (t_min_ms is not None and row['record_time_ms'] < t_min_ms) or \
                (t_max_ms is not None and row['record_time_ms'] > t_max_ms):
            problems.append('%s seq %d record_time_ms %d outside the test' % (
                key + (row['record_time_ms'],)))
        if len(problems) > 20:
            problems.append('...')
            break
    return problems


# ----------------------------------------------------------------- carriers
class ResendingCarrier(threading.Thread):
    """One carrier pushing continuously from its own thread (see the module
    docstring). port() gives the daemon's carrier port (it may change);
    new updates are made until stop_new is set (or `total` reached), then
    it runs until its mark covers everything sent. With reconnect=False one
    session only: it ends when the daemon ends it (e.g. SHUTTING_DOWN)."""

    def __init__(self, port, code, seed, legs, window=400, batch=(1, 100), pace=None,
                 total=None, reconnect=True, retry_pause_s=0.02, give_up_s=60):
        super().__init__(name='carrier-' + code, daemon=True)
        self.port, self.code, self.seed, self.legs = port, code, seed, legs
        self.window, self.batch, self.pace, self.total = window, batch, pace, total
        self.reconnect, self.retry_pause_s, self.give_up_s = reconnect, retry_pause_s, give_up_s
        self.rng = random.Random('%s/%s/batches' % (seed, code))
        self.now_ms = int(time.time() * 1000)
        self.updates = {}          # seq -> update dict (everything ever made)
        self.max_sent = 0          # seqs 1..max_sent were sent at least once
        self.mark = 0              # highest acknowledged mark heard of
        self.welcomes = []         # every Welcome's acked_seq
        self.acks = []             # every Ack's acked_seq, over all sessions
        self.rejections = []       # (seq, reason name, retryable, message)
        self.error_codes = []      # Error frames' codes
        self.disconnects = 0
        self.violations = []       # broken promises seen from the daemon
        self.failure = None        # an exception that ended the thread
        self.sessions = 0
        self.stop_new = threading.Event()
        self.halt = threading.Event()
        self.connected = threading.Event()
        self.done = threading.Event()
        self.last_session_ack = None   # last Ack of the last session
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- state
    def update(self, seq):
        u = self.updates.get(seq)
        if u is None:
            u = make_update_fields(self.seed, self.code, seq, self.legs, self.now_ms)
            self.updates[seq] = u
        return u

    def snapshot(self):
        with self._lock:
            return self.mark, self.max_sent

    def _note_mark(self, n, what):
        with self._lock:
            if n > self.max_sent:
                self.violations.append('%s %d above the highest seq sent %d' % (
                    what, n, self.max_sent))
            if n < self.mark:
                self.violations.append('%s %d below the mark %d already heard' % (
                    what, n, self.mark))
            self.mark = max(self.mark, n)

    def _may_make_new(self):
        return not self.stop_new.is_set() and (self.total is None or self.max_sent < self.total)

    def finished(self):
        return not self._may_make_new() and self.mark >= self.max_sent

    # -------------------------------------------------------------- session
    def _connect(self):
        deadline = time.monotonic() + self.give_up_s
        while True:
            if self.halt.is_set():
                return None
            c = None
            try:
                c = ic.Carrier(self.port(), self.code, timeout=10)
                return c, c.hello()
            except (OSError, ic.CarrierError) as e:
                if c is not None:
                    c.close()
                if isinstance(e, ic.CarrierError):
                    self.error_codes.append(e.code)
                if time.monotonic() > deadline:
                    raise AssertionError('%s: no session for %d s: %s' % (
                        self.code, self.give_up_s, e))
                time.sleep(0.05)

    def _session(self, c, w):
        self.sessions += 1
        self.welcomes.append(w.acked_seq)
        self._note_mark(w.acked_seq, 'Welcome acked_seq')
        self.connected.set()
        nxt = self.mark + 1       # resend everything above the mark, nothing at or below
        retry_at = 0.0
        started, made = time.monotonic(), 0
        while not self.halt.is_set():
            if self.finished():
                return True
            now = time.monotonic()
            # send while the window allows
            while nxt - 1 - self.mark < self.window and now >= retry_at:
                if nxt > self.max_sent:
                    if not self._may_make_new():
                        break
                    if self.pace and made >= self.pace * (now - started):
                        break
                n = self.rng.randint(*self.batch)
                if self.total is not None:
                    n = min(n, max(1, self.total - nxt + 1))
                hi = nxt + n - 1
                if nxt <= self.max_sent:
                    hi = min(hi, self.max_sent)   # resends: only what was sent
                batch = [ic.make_update(**self.update(s)) for s in range(nxt, hi + 1)]
                c.send_batch(batch)
                with self._lock:
                    if hi > self.max_sent:
                        made += hi - self.max_sent
                        self.max_sent = hi
                nxt = hi + 1
            # wait for the start of a frame; a whole frame then follows
            if not c.buf:
                wait = 0.05 if nxt - 1 - self.mark < self.window else 1.0
                if not select.select([c.sock], [], [], wait)[0]:
                    continue
            msg = c.read_message(timeout=10)
            if msg is None:
                if c.closed:
                    return False
                continue
            back = self._note(c, msg)
            if back is not None:
                nxt = min(nxt, back)          # go back to it after a pause
                retry_at = time.monotonic() + self.retry_pause_s
        return True

    def _read_rest(self, c):
        try:
            while c.buf or select.select([c.sock], [], [], 0.5)[0]:
                msg = c.read_message(timeout=2)
                if msg is None:
                    return
                self._note(c, msg)
        except (OSError, socket.timeout, ValueError):
            pass

    def _note(self, c, msg):
        """Records an Ack, Rejection or Error; returns the seq to go back to
        after a retryable rejection, else None."""
        kind = msg.WhichOneof('body')
        if kind == 'ack':
            self.acks.append(msg.ack.acked_seq)
            self.last_session_ack = msg.ack.acked_seq
            self._note_mark(msg.ack.acked_seq, 'Ack')
        elif kind == 'rejection':
            r = msg.rejection
            name = c.pb.RejectReason.Name(r.reason)
            self.rejections.append((r.seq, name, r.retryable, r.message))
            if not r.retryable:
                self.violations.append('seq %d rejected for good: %s %s' % (
                    r.seq, name, r.message))
            elif r.seq > self.mark:
                return r.seq
        elif kind == 'error':
            self.error_codes.append(c.pb.ErrorCode.Name(msg.error.code))
        return None

    def run(self):
        try:
            while not self.halt.is_set():
                got = self._connect()
                if got is None:
                    break
                c, w = got
                self.last_session_ack = None
                try:
                    if self._session(c, w):
                        break
                except (OSError, socket.timeout, ic.CarrierError):
                    # e.g. a send refused as the daemon closed: what it sent
                    # before (Acks, an Error) may still wait to be read
                    self._read_rest(c)
                finally:
                    c.close()
                    self.connected.clear()
                self.disconnects += 1
                if not self.reconnect:
                    break
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.failure = e
        finally:
            self.connected.clear()
            self.done.set()


def read_for(c, seconds):
    """Reads (and records) whatever an ic.Carrier is sent for a while."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if c.buf or select.select([c.sock], [], [], 0.05)[0]:
            if c.read_message() is None:
                return


def wait_all(carriers, timeout, what):
    """Waits for the threads; AssertionError naming the ones still running."""
    deadline = time.monotonic() + timeout
    for c in carriers:
        c.done.wait(max(0.0, deadline - time.monotonic()))
    late = ['%s (mark %d, sent %d)' % ((c.code,) + c.snapshot()) for c in carriers
            if not c.done.is_set()]
    if late:
        for c in carriers:
            c.halt.set()
        raise AssertionError('%s: carriers still running after %d s: %s' % (
            what, timeout, ', '.join(late)))


def wait_disconnected(carriers, timeout):
    """After the daemon died: every carrier has noticed its session is gone
    (so it has read every Ack the daemon sent before dying)."""
    deadline = time.monotonic() + timeout
    while any(c.connected.is_set() for c in carriers):
        if time.monotonic() > deadline:
            raise AssertionError('carriers still connected %d s after the daemon died' % timeout)
        time.sleep(0.01)


def carrier_problems(carriers):
    out = []
    for c in carriers:
        if c.failure is not None:
            out.append('%s: %r' % (c.code, c.failure))
        out.extend('%s: %s' % (c.code, v) for v in c.violations)
    return out

