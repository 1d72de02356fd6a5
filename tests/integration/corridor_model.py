"""What corridord should answer, computed independently from the documented
rules (docs/wire-protocol.md, docs/query-protocol.md, shared/domain/README.md),
plus the deterministic scenario the end-to-end tests push. Standard library only.

Updates are dicts of proto field names with enums by name, e.g.
{'carrier': 'KTZE', 'seq': 1, 'event_code': 'DEPA', ...}; a key starting with
'_' is the test's own note (e.g. '_reject': the reason expected) and is not sent."""
import csv
import math
import os
import time

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS

TRANSPORT = ('ARRI', 'DEPA')
SHIPMENT = ('HOLD', 'RELS')
DEPARTURES = ('DEPA', 'GTOT', 'LOAD')
ARRIVALS = ('ARRI', 'GTIN', 'DISC')


# --------------------------------------------------------------- identifiers
def _letter_values():
    vals, v = {}, 10
    for c in 'ABCDEFGHIJKLMNOPQRSTUVWXYZ':
        vals[c] = v
        v += 1
        if v % 11 == 0:
            v += 1
    return vals


_LETTERS = _letter_values()


def check_digit(first10):
    """ISO 6346: letters A=10 upward skipping multiples of 11, weights 2^i."""
    total = sum((_LETTERS[c] if c.isalpha() else int(c)) << i for i, c in enumerate(first10))
    return total % 11 % 10


def container(owner, serial):
    """A valid container number: owner like 'TGHU', serial a 6-digit number."""
    first10 = '%s%06d' % (owner, serial)
    return first10 + str(check_digit(first10))


def unit_key(u):
    if u.get('container'):
        return u['container']
    if u.get('train_id'):
        return 'TRAIN:' + u['train_id']
    if u.get('vessel_imo'):
        return 'VESSEL:%s/%s' % (u['vessel_imo'], u.get('voyage') or '-')
    if u.get('wagon_id'):
        return 'WAGON:' + u['wagon_id']
    return 'TRUCK:' + u['truck_plate']


def teu_of(u):
    """teu if given; a container by its size-type (2x = 1, 4x/Lx = 2, else 1)."""
    if 'teu' in u:
        return u['teu']
    if not u.get('container'):
        return 0
    t = u.get('iso_type', '')
    if len(t) == 4 and t[0] == '2':
        return 1
    if len(t) == 4 and t[0] in '4L':
        return 2
    return 1


def containers_of(u):
    if u.get('container'):
        return 1
    return u.get('container_count', 0)


# ---------------------------------------------------------------------- legs
def load_legs(source_dir):
    """(code, kind) of the default legs, in table order, from schema/legs.tsv."""
    with open(os.path.join(source_dir, 'schema', 'legs.tsv'), encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    return [(r['code'], r['kind']) for r in rows]


def load_leg_rows(source_dir):
    """Every column of the default legs, as dicts, from schema/legs.tsv."""
    with open(os.path.join(source_dir, 'schema', 'legs.tsv'), encoding='utf-8') as f:
        return list(csv.DictReader(f, delimiter='\t'))


def load_typical_h(source_dir):
    """{leg code: typical hours} of the default legs."""
    return {r['code']: float(r['typical_h']) for r in load_leg_rows(source_dir)}


def role(kind, u):
    """'enter', 'exit' or None: only ACT events move units; movement legs are
    entered by departures and left by arrivals, stays the reverse."""
    if u.get('classifier') != 'ACT':
        return None
    code = u.get('event_code')
    dep, arr = code in DEPARTURES, code in ARRIVALS
    if kind == 'movement':
        return 'enter' if dep else 'exit' if arr else None
    return 'enter' if arr else 'exit' if dep else None


# ---------------------------------------------------------------- traversals
class Traversal:
    def __init__(self, leg, unit, u):
        self.leg, self.unit = leg, unit
        self.enter = u['event_time_ms']
        self.exit = None
        self.carrier, self.direction = u['carrier'], u['direction']
        self.teu, self.containers = teu_of(u), containers_of(u)
        self.kg = u.get('gross_kg', 0)
        self.inferred = None   # infer_closes(): the downstream entry that closed it

    def close(self, u):
        self.exit, self.exit_update = u['event_time_ms'], u
        self.teu = self.teu or teu_of(u)
        self.containers = self.containers or containers_of(u)
        self.kg = self.kg or u.get('gross_kg', 0)

    def hours(self):
        return (self.exit - self.enter) / HOUR_MS


def traversals(stored, kinds, orphans=None):
    """Pairs the stored updates (in arrival order) per leg and unit: sorted by
    event time (ties by arrival), the first entry opens, the first exit after
    it closes; other entries while open are ignored, an entry at the time
    the last traversal entered opens that one again, and exits with nothing
    open close nothing (appended to orphans, when given, as (leg, unit, update))."""
    groups = {}
    for i, u in enumerate(stored):
        r = role(kinds[u['leg']], u)
        if r is not None:
            groups.setdefault((u['leg'], unit_key(u)), []).append((u['event_time_ms'], i, r, u))
    out = []
    for (leg, unit), evs in groups.items():
        evs.sort(key=lambda e: (e[0], e[1]))
        cur = last = None
        for _, _, r, u in evs:
            if (r == 'enter' and cur is None and last is not None
                    and last.enter == u['event_time_ms']):
                # its exit closes nothing now: an orphan exit
                if orphans is not None:
                    orphans.append((leg, unit, last.exit_update))
                cur, cur.exit = last, None
            elif r == 'enter' and cur is None:
                cur = last = Traversal(leg, unit, u)
                out.append(cur)
            elif r == 'exit' and cur is not None:
                cur.close(u)
                cur = None
            elif r == 'exit' and orphans is not None:
                orphans.append((leg, unit, u))
    return out


def nearest_rank(sorted_values, p):
    """The value at rank ceil(p/100 * n), 1-based."""
    n = len(sorted_values)
    return sorted_values[max(1, math.ceil(p * n / 100)) - 1]


def stats(travs, leg, frm=None, to=None, direction=None, carrier=None):
    """The STATS row as numbers: dict with n, min_h, ..., teu, containers, tonnes;
    time figures None when n = 0."""
    sel = [t for t in travs if t.leg == leg and t.exit is not None and
           (frm is None or t.exit >= frm) and (to is None or t.exit < to) and
           (direction is None or t.direction == direction) and
           (carrier is None or t.carrier == carrier)]
    d = sorted(t.hours() for t in sel)
    n = len(d)
    row = {'leg': leg, 'direction': direction or '*', 'n': n,
           'teu': sum(t.teu for t in sel), 'containers': sum(t.containers for t in sel),
           'tonnes': sum(t.kg for t in sel) / 1000.0}
    for col, v in (('min_h', d[0] if n else None), ('mean_h', sum(d) / n if n else None),
                   ('p50_h', nearest_rank(d, 50) if n else None),
                   ('p90_h', nearest_rank(d, 90) if n else None),
                   ('p95_h', nearest_rank(d, 95) if n else None),
                   ('max_h', d[-1] if n else None)):
        row[col] = v
    return row


def quality(stored_updates, carrier, record_ms):
    """QUALITY's figures for one carrier as docs/query-protocol.md defines them,
    with every update recorded at record_ms: updates stored (every classifier,
    retracted ones too), pln_est (the PLN and EST among them) and the sorted
    reporting lags in hours (record time - event time, below 0 counted as 0)
    of the ACT updates only."""
    mine = [u for u in stored_updates if u['carrier'] == carrier]
    act = [u for u in mine if u.get('classifier', 'ACT') == 'ACT']
    return {'updates': len(mine), 'pln_est': len(mine) - len(act),
            'lags_h': sorted(max(0, record_ms - u['event_time_ms']) / HOUR_MS for u in act)}


def infer_closes(travs, leg_order):
    """A traversal never closed whose unit has since (at or after its entry)
    entered a leg downstream in the same direction (later in leg_order going
    W, earlier going E) gets inferred = the earliest such entry."""
    pos = {code: i for i, code in enumerate(leg_order)}
    for t in travs:
        if t.exit is not None:
            continue
        later = [d.enter for d in travs
                 if d.unit == t.unit and d.direction == t.direction and d.enter >= t.enter and
                 (pos[d.leg] > pos[t.leg] if t.direction == 'W' else pos[d.leg] < pos[t.leg])]
        t.inferred = min(later) if later else None


def in_transit(travs, leg):
    """Open traversals of a leg (neither closed nor closed by inference), oldest first."""
    return sorted((t for t in travs if t.leg == leg and t.exit is None and t.inferred is None),
                  key=lambda t: (t.enter, t.unit))


def journey(travs, unit):
    return sorted((t for t in travs if t.unit == unit), key=lambda t: t.enter)


def shipment_rows(travs, orphans, unit):
    """SHIPMENT's rows for unit: (leg, direction, entered, exited, hours, status);
    hours None while in the leg. Traversals in order of entering, an orphan exit
    (status orphan_exit, no entry) at its exit time; at the same time closed
    before open, then by exit."""
    rows = []
    for t in travs:
        if t.unit != unit:
            continue
        end = t.exit if t.exit is not None else t.inferred
        status = 'done' if t.exit is not None else 'inferred' if end is not None else 'in_leg'
        rows.append(((t.enter, end is None, end or 0), (
            t.leg, t.direction, iso(t.enter), iso(end) if end is not None else '',
            '%.2f' % ((end - t.enter) / HOUR_MS) if end is not None else None, status)))
    for leg, u_key, u in orphans:
        if u_key == unit:
            at = u['event_time_ms']
            rows.append(((at, False, at), (leg, u['direction'], '', iso(at), '', 'orphan_exit')))
    return [r for _, r in sorted(rows, key=lambda r: r[0])]


def iso(ms):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ms // 1000))


# ------------------------------------------------------------------ scenario
C1, C2, C3 = 'CSQU3054383', 'MWCU6059784', 'APZU4812090'
C4, C5 = container('TGHU', 100001), container('TGHU', 100002)
C6, C7 = container('MSKU', 200001), container('MSKU', 200002)
BAD_DIGIT = 'CSQU3054384'

RAIL, PORT, SEA, AZPORT = 'KZ-RAIL-ALT-AKT', 'KZ-PORT-AKT', 'CASP-AKT-ALT', 'AZ-PORT-ALT'


def scenario_base_ms(now_ms=None):
    """Midnight UTC 20 days ago: everything happens within the past 10 days of that."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    return (now_ms // DAY_MS - 20) * DAY_MS


def ev(carrier, code, hour, leg, direction='W', cls=None, classifier='ACT', node=None, **kw):
    """One update dict at base + hour (the base is added by scenario())."""
    cls = cls or ('TRANSPORT' if code in TRANSPORT else 'SHIPMENT' if code in SHIPMENT
                  else 'EQUIPMENT')
    u = {'carrier': carrier, 'event_class': cls, 'classifier': classifier,
         'event_code': code, '_hour': hour, 'node': node or 'N-' + leg, 'leg': leg,
         'direction': direction}
    u.update(kw)
    return u


def scenario(base_ms, now_ms=None):
    """The phases of updates the end-to-end tests send, in order. Each update
    gets seq and message_id per carrier (in order of sending) and event_time_ms.
    Bad updates carry '_reject' (the RejectReason name expected)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    k = 'KTZE'
    phases = [
        [
            # the Altynkol -> Aktau rail leg, westbound
            ev(k, 'LOAD', 0, RAIL, container=C1, iso_type='45G1', gross_kg=24000),
            ev(k, 'DEPA', 1, RAIL, container=C1, iso_type='45G1'),   # repeated enter
            ev(k, 'DEPA', 2, RAIL, container=C2, iso_type='22G1', gross_kg=18000),
            ev(k, 'GTOT', 4, RAIL, container=C3, iso_type='45G1', gross_kg=26500),
            ev('MCML', 'DEPA', 6, RAIL, container=C4, iso_type='L5G1', gross_kg=30000),
            ev(k, 'DEPA', 10, RAIL, container=C5, iso_type='22G1', gross_kg=12000),
            ev(k, 'ARRI', 100, RAIL, container=C1),
            ev(k, 'DISC', 122.5, RAIL, container=C2),
            ev(k, 'GTIN', 94.25, RAIL, container=C3),
            ev(k, 'ARRI', 136, RAIL, container=C4, gross_kg=29000),
            # plans and estimates are stored but move nothing
            ev(k, 'ARRI', 24 * 40, RAIL, classifier='PLN', container=C5, _abs_future=True),
            ev(k, 'ARRI', 24 * 2, RAIL, classifier='EST', container=C5, _abs_future=True),
            # eastbound on the same leg code
            ev(k, 'DEPA', 20, RAIL, 'E', container=C6, iso_type='42G1', gross_kg=9000),
            ev(k, 'DEPA', 30, RAIL, 'E', container=C7, iso_type='22G1', gross_kg=7000),
            ev(k, 'ARRI', 128, RAIL, 'E', container=C6),
            ev(k, 'ARRI', 170.75, RAIL, 'E', container=C7),
            # Aktau port (a stay: arrivals enter, departures leave)
            ev('PTCH', 'GTIN', 101, PORT, container=C1, iso_type='45G1', gross_kg=24000),
            ev('PTCH', 'LOAD', 149, PORT, container=C1),
            ev('PTCH', 'LOAD', 195.5, PORT, container=C2, iso_type='22G1', gross_kg=18000),
            ev('PTCH', 'DISC', 95, PORT, container=C3, iso_type='45G1'),
            ev('PTCH', 'HOLD', 96, PORT, container=C3),
            ev('PTCH', 'RELS', 110, PORT, container=C3),
            ev('PTCH', 'GTOT', 130, PORT, container=C3),
            ev('PTCH', 'GTIN', 137, PORT, container=C4, iso_type='L5G1'),
            # the Caspian crossing, vessel-level
            ev('KMTF', 'DEPA', 150, SEA, vessel_imo='9301234', voyage='V101', mode='VESSEL',
               teu=180, container_count=90, gross_kg=1800000),
            ev('KMTF', 'ARRI', 172, SEA, vessel_imo='9301234', voyage='V101', mode='VESSEL'),
            ev('KMTF', 'DEPA', 200, SEA, vessel_imo='9301234', voyage='V102', mode='VESSEL'),
            # Alat port, a train-level stay
            ev('ADYC', 'ARRI', 175, AZPORT, train_id='AZ5001', mode='RAIL', teu=100,
               container_count=50, gross_kg=1100000),
            ev('ADYC', 'DEPA', 190, AZPORT, train_id='AZ5001', mode='RAIL'),
        ],
        [
            # late and out of order: C2 left the port (phase 1) before we learn
            # it arrived; the second voyage's cargo comes with its arrival
            ev('PTCH', 'GTIN', 123, PORT, container=C2),
            ev('KMTF', 'ARRI', 221.5, SEA, vessel_imo='9301234', voyage='V102', mode='VESSEL',
               teu=150, container_count=75, gross_kg=1500000),
            # late events that re-pair closed traversals: an earlier departure
            # of C3 (91.25 h, not 90.25 h) and an earlier arrival of C6 (105 h)
            ev(k, 'DEPA', 3, RAIL, container=C3, iso_type='45G1', gross_kg=26500),
            ev(k, 'ARRI', 125, RAIL, 'E', container=C6),
            # bad ones
            ev(k, 'DEPA', 40, RAIL, container=BAD_DIGIT, _reject='BAD_CHECK_DIGIT'),
            ev(k, 'DEPA', 40, 'KZ-RAIL-NOWHERE', container=C5, _reject='UNKNOWN_LEG'),
            dict(ev(k, 'DEPA', 40, RAIL, container=C5), carrier='ADYC',
                 _reject='WRONG_CARRIER'),
            ev(k, 'ARRI', 24 * 2, RAIL, container=C5, _abs_future=True,
               _reject='TIME_IN_FUTURE'),
            dict(ev(k, 'ARRI', 41, RAIL, container=C5), node=None, _reject='MISSING_FIELD'),
            ev(k, 'LOAD', 42, RAIL, cls='TRANSPORT', container=C5,
               _reject='CODE_NOT_IN_CLASS'),
        ],
    ]
    seqs = {}
    for phase in phases:
        for u in phase:
            session = u['carrier'] if u.get('_reject') != 'WRONG_CARRIER' else k
            u['_session'] = session
            seqs[session] = seqs.get(session, 0) + 1
            u['seq'] = seqs[session]
            u['message_id'] = '%s-%d' % (session, u['seq'])
            hour = u.pop('_hour')
            u['event_time_ms'] = (now_ms if u.pop('_abs_future', False) else base_ms) + \
                int(hour * HOUR_MS)
            if u.get('node') is None:
                del u['node']
    return phases


def stats_cases(b):
    """(leg, from, to, direction, carrier) filters worth asking about the
    scenario with base b; None leaves a filter out."""
    return [
        (RAIL, None, None, None, None), (PORT, None, None, None, None),
        (SEA, None, None, None, None), (AZPORT, None, None, None, None),
        (RAIL, None, None, 'W', None), (RAIL, None, None, 'E', None),
        (RAIL, None, None, None, 'KTZE'), (RAIL, None, None, None, 'MCML'),
        (RAIL, None, None, 'W', 'KTZE'), (RAIL, None, None, 'E', 'MCML'),
        (PORT, None, None, 'E', None), (PORT, None, None, None, 'PTCH'),
        # windows by exit time: [from, to)
        (RAIL, b + 95 * HOUR_MS, b + 125 * HOUR_MS, None, None),
        (RAIL, b + 100 * HOUR_MS, None, None, None), (RAIL, None, b + 100 * HOUR_MS, None, None),
        (RAIL, b + 128 * HOUR_MS, b + 171 * HOUR_MS, 'E', None),
        (RAIL, b + 300 * HOUR_MS, None, None, None),
        (PORT, b, b + 8 * DAY_MS, None, None),
    ]


def wire_fields(u):
    """The fields to send: without the test's own notes."""
    return {name: v for name, v in u.items() if not name.startswith('_')}


def stored(phases):
    """The updates the daemon should store, in the order sent."""
    return [u for phase in phases for u in phase if '_reject' not in u]


# ---------------------------------------------------------------- comparing
HOUR_COLUMNS = ('min_h', 'mean_h', 'p50_h', 'p90_h', 'p95_h', 'max_h')
PERCENTILE_COLUMNS = ('p50_h', 'p90_h', 'p95_h')
PERCENTILE_REL_ERROR = 0.01  # the documented bound (lib/histogram.h)


def _number(v):
    if v is None or v == '':
        return None
    return float(v)


def stats_mismatches(got, want):
    """Differences between a STATS row (dict of column -> text or number, as
    the daemon or corridorctl --json gives it) and stats()'s figures. Hours have
    two decimals and tonnes three, so each may differ by half a unit of its
    last digit."""
    problems = []
    for col in ('leg', 'direction'):
        if str(got.get(col)) != want[col]:
            problems.append('%s: got %r, want %r' % (col, got.get(col), want[col]))
    for col in ('n', 'teu', 'containers'):
        if _number(got.get(col)) != want[col]:
            problems.append('%s: got %r, want %r' % (col, got.get(col), want[col]))
    for col, tol in [(c, 0.005) for c in HOUR_COLUMNS] + [('tonnes', 0.0005)]:
        g, w = _number(got.get(col)), want[col]
        if col in PERCENTILE_COLUMNS and w is not None:
            # from the mergeable histograms: within 1% of the exact value
            tol += PERCENTILE_REL_ERROR * abs(w)
        if (g is None) != (w is None) or (g is not None and abs(g - w) > tol + 1e-9):
            problems.append('%s: got %r, want %s' % (col, got.get(col), w))
    return problems
