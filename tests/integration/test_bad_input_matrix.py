#!/usr/bin/python3
"""The bad-input matrix of the ingest protocol (docs/wire-protocol.md), against
one daemon, with the independent carrier and hand-made encodings:

- session level: truncated frames, zero and huge lengths, garbage, valid
  protobuf of the wrong type: each gets its documented Error code and the
  close (or, when the peer is gone, just the close);
- update level: unknown enum values, invalid UTF-8 and NUL bytes, absurd
  times and weights, missing and overlong fields, sequence numbers going
  backwards, retractions of unknown updates and of another carrier's, SQL
  metacharacters in every string field: each rejected update gets its
  documented RejectReason, the accepted ones go on.

Then, read-only from the leg files: nothing of a rejected update is stored,
every accepted one is stored once, field by field as sent, the schema is
intact, and the daemon still answers (metrics count every case)."""
import os
import socket
import struct
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

SQL = "x';DROP/**/TABLE/**/events;--"          # an identifier: no spaces
SQL_REMARK = "Robert'); DROP TABLE events;-- \"q\" 100% _u_ \\b ö ✓ `id` $(x)"
SQL_IDENTIFIERS = ["1'OR'1'='1", '";--', '\\x27', '%_%', "'||(SELECT/**/1)||'", '$(id)',
                   '`ls`', "a'/*", 'NULL', "');ATTACH/**/'x'/**/AS/**/y;--"]
IDENT_FIELDS = ('message_id', 'node', 'locode', 'train_id', 'wagon_id', 'vessel_imo', 'voyage',
                'truck_plate', 'delay_reason', 'retracts_message_id')
NOW_MS = int(time.time() * 1000)
DAY_MS = model.DAY_MS


def base_fields(seq, carrier='KTZE', **kw):
    """A good update with every kind of field (a container, so weights are
    checked against the container limit)."""
    f = {'carrier': carrier, 'seq': seq, 'message_id': '%s-m-%d' % (carrier, seq),
         'event_class': 'EQUIPMENT', 'classifier': 'ACT', 'event_code': 'LOAD',
         'event_time_ms': NOW_MS - DAY_MS + seq * 1000, 'node': 'ALTYNKOL', 'locode': 'KZALT',
         'leg': model.RAIL, 'direction': 'W', 'mode': 'RAIL', 'train_id': 'KZ1001',
         'wagon_id': '555012345678', 'container': model.C1, 'iso_type': '45G1',
         'empty': False, 'gross_kg': 24000, 'delay_reason': 'WEA', 'remark': 'ok',
         'next_eta_ms': NOW_MS + DAY_MS}
    f.update(kw)
    return {k: v for k, v in f.items() if v is not None}


class Matrix(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pb = ic.load_pb2()
        cls.metrics_port = harness.free_port()
        cls.daemon = harness.Daemon(extra_args=[
            '--limit', 'frame_timeout_s=2', '--limit', 'handshake_timeout_s=3',
            '--metrics-listen', '127.0.0.1:%d' % cls.metrics_port])
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        reports = cls.daemon.sanitizer_reports()
        cls.daemon.cleanup()
        assert rc == 0, 'corridord exit code %r' % rc
        assert not reports, reports

    def carrier(self, code='KTZE'):
        c = ic.Carrier(self.daemon.carrier_port, code)
        self.addCleanup(c.close)
        return c

    def metrics(self):
        url = 'http://127.0.0.1:%d/metrics' % self.metrics_port
        with urllib.request.urlopen(url, timeout=10) as r:
            out = {}
            for line in r.read().decode().splitlines():
                if line and not line.startswith('#'):
                    name, value = line.rsplit(' ', 1)
                    out[name] = float(value)
            return out

    def assert_serving(self):
        self.assertTrue(self.daemon.alive(), self.daemon.log_tail())
        with self.daemon.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')

    # ---------------------------------------------------------- session level
    def session_case(self, name, data, hello, want, code='MCML'):
        """Sends data (after a Hello if hello); want is an ErrorCode name, or
        None when the daemon is only expected to close."""
        c = self.carrier(code)
        if hello:
            c.hello()
        c.send_raw(data)
        if want is None:
            c.sock.shutdown(socket.SHUT_WR)
            self.assertIsNone(c.read_message(timeout=10), name)
            self.assertEqual(c.errors, [], name)
        else:
            got, closed = c.expect_error(timeout=10)
            self.assertEqual((got, closed), (want, True), name)
            self.assertTrue(c.errors[-1].message, '%s: an Error without a message' % name)
        c.close()

    def test_session_level(self):
        pb = self.pb
        u = ic.make_update(**base_fields(1, 'MCML'))
        welcome = pb.ServerMessage()
        welcome.welcome.protocol_version = 1
        welcome.welcome.server_version = '0.1.0'
        ack = pb.ServerMessage()
        ack.ack.acked_seq = 3
        err = pb.ServerMessage()
        err.error.code = pb.PROTOCOL
        hello = pb.Hello(protocol_version=1, carrier='MCML')
        batch = pb.Batch()
        batch.updates.extend([u])
        rnd = bytes((i * 7919 + 13) % 251 for i in range(300))
        nul_hello = ic.frame(ic.field_bytes(1, ic.field_varint(1, 1) +
                                            ic.field_bytes(2, b'MCML\x00ADYC')))
        cases = [
            # name, bytes, after a Hello, Error code (None: only the close); a
            # first frame that is not a Hello is BAD_HELLO, whatever it is
            ('zero length', b'\0\0\0\0', False, 'PROTOCOL'),
            ('zero length after hello', b'\0\0\0\0', True, 'PROTOCOL'),
            ('length max+1', struct.pack('>I', 1048577), True, 'FRAME_TOO_LARGE'),
            ('length 2^32-1', b'\xff\xff\xff\xff', False, 'FRAME_TOO_LARGE'),
            ('an HTTP request', b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', False, 'FRAME_TOO_LARGE'),
            ('garbage body', ic.frame(rnd), False, 'BAD_HELLO'),
            ('garbage body after hello', ic.frame(rnd), True, 'PROTOCOL'),
            ('a field longer than its frame', ic.frame(b'\x12\x7f\x0a'), True, 'PROTOCOL'),
            ('truncated frame, then close', ic.frame(u.SerializeToString())[:20], True, None),
            ('truncated header, then close', b'\0\0', True, None),
            ('a bare ShipmentUpdate', ic.frame(u.SerializeToString()), True, 'PROTOCOL'),
            ('a bare Hello', ic.frame(hello.SerializeToString()), False, 'BAD_HELLO'),
            ('a bare Batch', ic.frame(batch.SerializeToString()), True, 'PROTOCOL'),
            # its bytes decode as a Hello whose carrier is "0.1.0"
            ('a Welcome', ic.frame(welcome.SerializeToString()), False, 'BAD_HELLO'),
            ('an Ack', ic.frame(ack.SerializeToString()), True, 'PROTOCOL'),
            ('an Error (unknown field of CarrierMessage)', ic.frame(err.SerializeToString()),
             True, 'PROTOCOL'),
            ('a Hello naming another carrier after a NUL', nul_hello, False, 'BAD_HELLO'),
            ('a group (wire type 3)', ic.frame(b'\x13\x14'), False, 'BAD_HELLO'),
            ('varint of 11 bytes', ic.frame(b'\x08' + b'\xff' * 10 + b'\x01'), False,
             'BAD_HELLO'),
        ]
        before = self.metrics()
        for name, data, after_hello, want in cases:
            with self.subTest(case=name):
                self.session_case(name, data, after_hello, want)
        # a frame cut short and then silence: frame_timeout_s (2 s here)
        c = self.carrier('MCML')
        c.hello()
        c.send_raw(ic.frame(u.SerializeToString())[:20])
        t0 = time.monotonic()
        self.assertEqual(c.expect_error(timeout=10), ('TIMEOUT', True))
        self.assertLess(time.monotonic() - t0, 4)
        c.close()
        after = self.metrics()
        for code in ('PROTOCOL', 'FRAME_TOO_LARGE', 'BAD_HELLO', 'TIMEOUT'):
            key = 'corridor_session_errors_total{code="%s"}' % code
            want = sum(1 for case in cases if case[3] == code) + (code == 'TIMEOUT')
            self.assertEqual(after[key] - before.get(key, 0), want, code)
        self.assertEqual(after['corridor_connections_refused_total{reason="frame_deadline"}'], 1)
        self.assert_serving()
        self.assertEqual(dur.stored_events(self.daemon.state_dir, {'MCML'}), {},
                         'a broken session stored something')

    # ----------------------------------------------------------- update level
    def test_update_level(self):
        pb = self.pb
        accepted = {}          # (carrier, seq) -> fields as sent
        expect = {}            # seq -> RejectReason name
        raw = []               # (seq, encoded update) sent as they are
        seq = 0

        def add(reason, fields=None, extra=b'', encoded=None, **kw):
            nonlocal seq
            seq += 1
            f = fields if fields is not None else base_fields(seq, **kw)
            f['seq'] = seq
            if encoded is None:
                encoded = ic.make_update(**f).SerializeToString() + extra
            raw.append((seq, encoded))
            if reason is None:
                accepted[('KTZE', seq)] = f
            else:
                expect[seq] = reason
            return seq

        # unknown enum values, one field at a time (raw: the library refuses them)
        for number, value in ((4, 99), (5, 9), (6, 77), (11, 5), (12, 42), (6, 0), (11, -1)):
            add('BAD_VALUE', extra=ic.field_varint(number, value))
        # invalid UTF-8 and control characters in the remark (25), non-ASCII
        # and NUL in identifiers, NUL in the remark
        for bad in (b'\x80', b'\xc0\xaf', b'\xed\xa0\x80', b'\xf5\x80\x80\x80', b'ok\xe2\x82',
                    b'bell\x07', b'\xc2\x85', b'line\nbreak'):
            add('BAD_VALUE', extra=ic.field_bytes(25, bad))
        add('BAD_VALUE', extra=ic.field_bytes(8, 'ALTYNKÖL'.encode()))
        add('BAD_VALUE', extra=ic.field_bytes(3, b'with space'))
        for number in (3, 8, 13, 25, 27):
            add('BAD_VALUE', extra=ic.field_bytes(number, b'ALAT\x00DROP'))
        # missing required fields
        for name in ('message_id', 'event_class', 'classifier', 'event_code', 'event_time_ms',
                     'node', 'leg', 'direction', 'carrier'):
            f = base_fields(0)
            del f[name]
            add('MISSING_FIELD', fields=f)
        add('MISSING_FIELD', fields=base_fields(0, container=None, train_id=None, wagon_id=None))
        add('MISSING_FIELD', fields=base_fields(0, node=''))
        # absurd times
        for t, reason in ((0, 'TIME_TOO_OLD'), (-1, 'TIME_TOO_OLD'), (-(2 ** 63), 'TIME_TOO_OLD'),
                          (2 ** 63 - 1, 'TIME_IN_FUTURE'), (946684799999, 'TIME_TOO_OLD'),
                          (NOW_MS + 3600 * 1000, 'TIME_IN_FUTURE'),
                          (NOW_MS - 3651 * DAY_MS, 'TIME_TOO_OLD')):
            add(reason, event_time_ms=t)
        add('TIME_IN_FUTURE', classifier='PLN', event_time_ms=NOW_MS + 401 * DAY_MS)
        add(None, classifier='PLN', event_time_ms=NOW_MS + 399 * DAY_MS)
        add(None, event_time_ms=NOW_MS + 60 * 1000)             # within max_future_skew_s
        for eta in (0, -5, 2 ** 63 - 1, NOW_MS + 401 * DAY_MS):
            add('BAD_VALUE', next_eta_ms=eta)
        # absurd weights and counts
        add('BAD_VALUE', gross_kg=60001)
        add(None, gross_kg=60000)
        add('BAD_VALUE', gross_kg=2 ** 32 - 1)
        add('BAD_VALUE', extra=ic.field_varint(21, -1))           # -1 as a 10-byte varint
        add('BAD_VALUE', container=None, gross_kg=100000001)
        add(None, container=None, gross_kg=100000000, teu=50000, container_count=50000)
        add('BAD_VALUE', container=None, teu=50001)
        add('BAD_VALUE', container=None, container_count=50001)
        # shapes, lengths, carriers, legs, classes
        add('BAD_CHECK_DIGIT', container=model.BAD_DIGIT)
        add('BAD_VALUE', container='CSQU305438')
        add('BAD_VALUE', container=SQL[:11])
        add('BAD_VALUE', iso_type='22G1X')
        add('FIELD_TOO_LONG', node='N' * 65)
        add(None, node='N' * 64)
        add('FIELD_TOO_LONG', remark='r' * 513)
        add(None, remark='ж' * 256)                               # 512 bytes
        add('WRONG_CARRIER', carrier='ADYC')
        add('WRONG_CARRIER', carrier=SQL)
        add('UNKNOWN_LEG', leg=SQL)
        add('UNKNOWN_LEG', leg='KZ-RAIL-NOWHERE')
        add('CODE_NOT_IN_CLASS', event_class='TRANSPORT', event_code='LOAD')
        # an unknown field is ignored (a newer client), the update stored
        add(None, extra=ic.field_bytes(99, b'from the future') + ic.field_varint(98, 7))
        # SQL metacharacters in every string field (the update whose
        # message_id is SQL is retracted by the one that names it)
        sql_named = {}
        for name in IDENT_FIELDS:
            sql_named[name] = add(None, **{name: SQL})
        add(None, iso_type="';--")
        add(None, remark=SQL_REMARK)
        for i, text in enumerate(SQL_IDENTIFIERS):
            add(None, message_id=text, node=text, train_id='T%d%s' % (i, text)[:64],
                voyage=text, delay_reason=text, remark=text)
        sql_unit = add(None, container=None, wagon_id=None, train_id="K';DROP--")
        # retractions: of nothing known (kept, and applied when the target
        # arrives later), and of another carrier's update (never applied)
        retract_unknown = add(None, retracts_message_id='KTZE-ghost-1')
        ghost = add(None, message_id='KTZE-ghost-1', container=model.C2)
        adyc_target = 'ADYC-target-1'
        retract_other = add(None, retracts_message_id=adyc_target)
        n_first = seq

        c = self.carrier('KTZE')
        w = c.hello()
        self.assertEqual(w.acked_seq, 0)
        a = self.carrier('ADYC')
        a.hello()
        a.send([ic.make_update(**base_fields(1, 'ADYC', message_id=adyc_target))])
        self.assertEqual(a.wait_acked(1), 1)
        for i in range(0, len(raw), 40):
            c.send_raw(ic.batch_frame([e for _, e in raw[i:i + 40]]))
        self.assertEqual(c.wait_acked(n_first, timeout=60), n_first)

        # sequence numbers going backwards: another update under an
        # acknowledged seq is a final SEQ_REUSED and changes nothing; seq 0
        # is rejected without a seq; one above the window is retryable
        first = c.rejections.pop(5)     # seq 5 was rejected for good
        c.send([ic.make_update(**base_fields(5, node='CHANGED', message_id='KTZE-changed'))])
        deadline = time.monotonic() + 15
        while 5 not in c.rejections and time.monotonic() < deadline:
            self.assertIsNotNone(c.read_message(timeout=5), 'closed')
        self.assertEqual(pb.RejectReason.Name(c.rejections[5].reason), 'SEQ_REUSED')
        self.assertFalse(c.rejections[5].retryable)
        c.rejections[5] = first
        self.assertEqual(c.acked_seq, n_first)
        c.send([ic.make_update(**base_fields(0))])
        far = n_first + 65536 + 10
        c.send([ic.make_update(**base_fields(far))])
        deadline = time.monotonic() + 15
        while (0 not in c.rejections or far not in c.rejections) and \
                time.monotonic() < deadline:
            self.assertIsNotNone(c.read_message(timeout=5), 'closed')
        self.assertEqual(pb.RejectReason.Name(c.rejections[0].reason), 'MISSING_FIELD')
        self.assertEqual(pb.RejectReason.Name(c.rejections[far].reason), 'SEQ_OUT_OF_WINDOW')
        self.assertTrue(c.rejections[far].retryable)
        # out of order within the window: both stored, the mark waits for the gap
        s1, s2 = n_first + 2, n_first + 1
        c.send([ic.make_update(**base_fields(s1)), ic.make_update(**base_fields(s2))])
        self.assertEqual(c.wait_acked(s1), s1)
        accepted[('KTZE', s1)] = base_fields(s1)
        accepted[('KTZE', s2)] = base_fields(s2)

        # every rejection as documented, final, with a message
        for s, reason in sorted(expect.items()):
            r = c.rejections.get(s)
            self.assertIsNotNone(r, 'seq %d (%s expected) was not rejected' % (s, reason))
            self.assertEqual(pb.RejectReason.Name(r.reason), reason, 'seq %d: %s' % (
                s, r.message))
            self.assertFalse(r.retryable, s)
            self.assertTrue(r.message, s)
        for key in accepted:
            self.assertNotIn(key[1], c.rejections, 'seq %d was rejected: %s' % (
                key[1], c.rejections.get(key[1])))
        c.close()
        a.close()

        # the leg files, read-only: exactly the accepted updates, as sent
        events = dur.stored_events(self.daemon.state_dir, {'KTZE'})
        self.assertEqual(sorted(events), sorted(accepted),
                         'stored seqs differ: extra %s, missing %s' % (
                             sorted(set(events) - set(accepted))[:10],
                             sorted(set(accepted) - set(events))[:10]))
        # retracted on purpose: the update named by a later retraction, and
        # the target of a retraction that came before it
        for s in (sql_named['message_id'], ghost):
            self.assertEqual(events[('KTZE', s)][0]['retracted'], 1, s)
            events[('KTZE', s)][0]['retracted'] = 0
        self.assertEqual(dur.row_mismatches(pb, events, accepted), [])
        self.assertEqual(dur.integrity_problems(self.daemon.state_dir), [])
        for path in dur.db_files(self.daemon.state_dir)[1:]:
            con = dur.connect_ro(path)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            finally:
                con.close()
            self.assertTrue({'events', 'traversals'} <= tables, path)
        # retractions: the early one applied to its late target, the other
        # carrier's update untouched
        self.assertEqual(events[('KTZE', retract_unknown)][0]['retracts_message_id'],
                         'KTZE-ghost-1')
        adyc = dur.stored_events(self.daemon.state_dir, {'ADYC'})
        self.assertEqual(adyc[('ADYC', 1)][0]['retracted'], 0)
        self.assertEqual(events[('KTZE', retract_other)][0]['retracted'], 0)
        # the query port takes the same strings back
        with self.daemon.query() as q:
            rows = q.ok('SHIPMENT TRAIN:%s' % "K';DROP--").dicts()
            self.assertTrue(rows, 'unit of seq %d not found' % sql_unit)
            a = q.request("STATS %s - - - %s" % (model.RAIL, SQL))
            self.assertTrue(not a.ok or all(r['n'] == '0' for r in a.dicts()), a.dicts())
            units = {r['unit'] for r in q.ok('INTRANSIT %s' % model.RAIL).dicts()}
            self.assertIn("TRAIN:K';DROP--", units)
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
        # metrics count every rejection by reason
        m = self.metrics()
        for reason in set(expect.values()):
            self.assertGreaterEqual(
                m['corridor_updates_rejected_total{reason="%s"}' % reason],
                sum(1 for r in expect.values() if r == reason), reason)
        self.assert_serving()


if __name__ == '__main__':
    harness.main()
