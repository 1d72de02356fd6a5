#!/usr/bin/python3
"""The ingest listener against broken peers (docs/wire-protocol.md): every
session-ending mistake gets its Error frame and a close, and the daemon keeps
serving carriers and operators afterwards."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import independent_carrier as ic  # noqa: E402
from carrier_case import CarrierCase, good_update, hello_message  # noqa: E402


class Framing(CarrierCase):

    def test_zero_length_frame(self):
        c = self.carrier()
        c.send_raw(b'\0\0\0\0')
        code, closed = c.expect_error()
        self.assertIn(code, ('PROTOCOL', 'FRAME_TOO_LARGE'))
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_zero_length_frame_after_hello(self):
        c = self.carrier()
        c.hello()
        c.send_raw(b'\0\0\0\0')
        code, closed = c.expect_error()
        self.assertIn(code, ('PROTOCOL', 'FRAME_TOO_LARGE'))
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_oversize_header(self):
        # only the header: the daemon must answer without waiting for 2 GiB
        c = self.carrier()
        c.send_raw(struct.pack('>I', 0x7fffffff))
        self.assert_error(c, 'FRAME_TOO_LARGE')
        self.assert_still_serving()

    def test_limit_plus_one_after_hello(self):
        c = self.carrier()
        w = c.hello()
        c.send_raw(struct.pack('>I', w.limits.max_frame_bytes + 1) + b'\x12')
        self.assert_error(c, 'FRAME_TOO_LARGE')
        self.assert_still_serving()

    def test_max_header_value(self):
        c = self.carrier()
        c.send_raw(b'\xff\xff\xff\xff')
        self.assert_error(c, 'FRAME_TOO_LARGE')
        self.assert_still_serving()

    def test_garbage_protobuf(self):
        c = self.carrier()
        c.send_raw(ic.frame(b'\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'))
        self.assert_error(c, 'BAD_HELLO')
        self.assert_still_serving()

    def test_garbage_after_hello(self):
        c = self.carrier()
        c.hello()
        c.send_raw(ic.frame(b'\x0a\x05ab'))    # a field longer than the frame
        self.assert_error(c, 'PROTOCOL')
        self.assert_still_serving()

    def test_empty_carrier_message(self):
        # a well-formed frame whose CarrierMessage has no body: not a hello
        c = self.carrier()
        c.send_raw(ic.frame(b'\x18\x01'))      # unknown field 3 only
        self.assert_error(c, 'BAD_HELLO')
        self.assert_still_serving()

    def test_batch_before_hello(self):
        c = self.carrier()
        c.send_batch([good_update(1)])
        self.assert_error(c, 'BAD_HELLO')
        self.assert_still_serving()

    def test_second_hello(self):
        c = self.carrier()
        c.hello()
        m = c.pb.CarrierMessage()
        m.hello.protocol_version = 1
        m.hello.carrier = 'KTZE'
        c.send_message(m)
        self.assert_error(c, 'PROTOCOL')
        self.assert_still_serving()

    def test_unknown_carrier(self):
        c = self.carrier('NOPE')
        with self.assertRaises(ic.CarrierError) as e:
            c.hello()
        self.assertEqual(e.exception.code, 'UNKNOWN_CARRIER')
        self.assert_still_serving()

    def test_hello_without_carrier(self):
        c = self.carrier()
        with self.assertRaises(ic.CarrierError) as e:
            c.hello(carrier='')
        self.assertIn(e.exception.code, ('BAD_HELLO', 'UNKNOWN_CARRIER'))
        self.assert_still_serving()

    def test_unsupported_version(self):
        c = self.carrier()
        with self.assertRaises(ic.CarrierError) as e:
            c.hello(protocol_version=99)
        self.assertEqual(e.exception.code, 'VERSION_UNSUPPORTED')
        self.assert_still_serving()

    def test_batch_above_limit(self):
        c = self.carrier()
        w = c.hello()
        n = w.limits.max_batch_updates + 1
        c.send_batch([good_update(i + 1) for i in range(n)])
        self.assert_error(c, 'PROTOCOL')
        self.assert_still_serving()

    def test_batch_at_limit(self):
        c = self.carrier()
        w = c.hello()
        n = w.limits.max_batch_updates
        c.send_batch([good_update(i + 1) for i in range(n)])
        self.assertEqual(c.wait_acked(n, timeout=30), n)
        self.assertEqual(c.rejections, {})

    def test_replaced_session(self):
        old = self.carrier()
        old.hello()
        new = self.carrier()
        new.hello()
        self.assert_error(old, 'REPLACED')
        u = good_update(1)
        new.send([u])
        self.assertEqual(new.wait_acked(1), 1)

    def test_seq_out_of_window(self):
        c = self.carrier()
        c.hello()
        far = 65536 + 2
        c.send([good_update(1), good_update(far)])
        self.assertEqual(c.wait_acked(1), 1)
        while far not in c.rejections:
            self.assertIsNotNone(c.read_message(), 'closed before the rejection')
        r = c.rejections[far]
        self.assertEqual(c.pb.RejectReason.Name(r.reason), 'SEQ_OUT_OF_WINDOW')
        self.assertTrue(r.retryable)
        self.assertEqual(c.acked_seq, 1)

    def test_gap_holds_the_mark(self):
        c = self.carrier()
        c.hello()
        c.send([good_update(1), good_update(3)])
        self.assertEqual(c.wait_acked(1), 1)
        c.send([good_update(2)])
        self.assertEqual(c.wait_acked(3), 3)

    def test_split_frames_byte_by_byte(self):
        c = self.carrier()
        h = hello_message(c)
        b = c.pb.CarrierMessage()
        b.batch.updates.extend([good_update(1), good_update(2)])
        data = ic.frame(h.SerializeToString()) + ic.frame(b.SerializeToString())
        c.sock.setsockopt(ic.socket.IPPROTO_TCP, ic.socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
        msg = c.read_message()
        self.assertEqual(msg.WhichOneof('body'), 'welcome')
        self.assertEqual(c.wait_acked(2), 2)

    def test_coalesced_frames(self):
        c = self.carrier()
        h = hello_message(c)
        data = ic.frame(h.SerializeToString())
        for seq in (1, 2, 3):
            b = c.pb.CarrierMessage()
            b.batch.updates.extend([good_update(seq)])
            data += ic.frame(b.SerializeToString())
        c.send_raw(data)
        self.assertEqual(c.read_message().WhichOneof('body'), 'welcome')
        self.assertEqual(c.wait_acked(3), 3)

    def raw_batch_with(self, c, seq, extra):
        """A Batch of one good update whose encoding has extra appended (see
        independent_carrier.batch_frame)."""
        c.send_raw(ic.batch_frame([good_update(seq).SerializeToString() + extra]))

    def test_unknown_enum_value(self):
        c = self.carrier()
        c.hello()
        self.raw_batch_with(c, 1, b'\x20\x63')    # event_class (4) = 99
        self.raw_batch_with(c, 2, b'\x58\x07')    # direction (11) = 7
        self.assertEqual(c.wait_acked(2), 2)
        for seq in (1, 2):
            r = c.rejections.get(seq)
            self.assertIsNotNone(r, 'seq %d was stored' % seq)
            self.assertEqual(c.pb.RejectReason.Name(r.reason), 'BAD_VALUE')
            self.assertFalse(r.retryable)

    def test_bad_utf8_remark(self):
        c = self.carrier()
        c.hello()
        bad = b'\xc3\x28 ferry'
        self.raw_batch_with(c, 1, ic.field_bytes(25, bad))   # remark (25)
        self.assertEqual(c.wait_acked(1), 1)
        r = c.rejections.get(1)
        self.assertIsNotNone(r, 'stored a remark that is not UTF-8')
        self.assertEqual(c.pb.RejectReason.Name(r.reason), 'BAD_VALUE')

    def test_stop_with_open_sessions(self):
        c = self.carrier()
        c.hello()
        q = self.daemon.query()
        self.addCleanup(q.close)
        q.ok('PING')
        self.stop_daemon()
        # the carrier learns SHUTTING_DOWN, or at least sees the close
        msg = c.read_message()
        if msg is not None:
            self.assertEqual(msg.WhichOneof('body'), 'error')
            self.assertEqual(c.pb.ErrorCode.Name(msg.error.code), 'SHUTTING_DOWN')
            self.assertIsNone(c.read_message())


class Handshake(harness.DaemonTestCase):
    daemon_args = ('--limit', 'handshake_timeout_s=1')

    def test_no_hello_times_out(self):
        c = ic.Carrier(self.daemon.carrier_port, 'KTZE', timeout=30)
        self.addCleanup(c.close)
        code, closed = c.expect_error()
        self.assertEqual(code, 'TIMEOUT')
        self.assertTrue(closed)
        self.assert_alive()


class Connections(harness.DaemonTestCase):
    daemon_args = ('--limit', 'max_connections=2')

    def test_too_many_connections(self):
        open_ = []
        refused = None
        for _ in range(4):
            c = ic.Carrier(self.daemon.carrier_port, ('KTZE', 'ADYC', 'PTCH', 'KMTF')[len(open_)])
            self.addCleanup(c.close)
            try:
                c.hello()
                open_.append(c)
            except ic.CarrierError as e:
                refused = e.code
                break
        self.assertLessEqual(len(open_), 2)
        self.assertTrue(self.daemon.alive())
        self.assertEqual(refused, 'TOO_MANY_CONNECTIONS')


if __name__ == '__main__':
    harness.main()
