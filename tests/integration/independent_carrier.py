#!/usr/bin/python3
"""An independent corridor carrier, written only from docs/wire-protocol.md and
proto/corridor.proto with Google's protobuf (python3-protobuf) and protoc: it
shares no code with corridord or corridorctl, so a test that passes with it
checks the documented contract, not the two C sides agreeing with each other.

As a library:
    pb = load_pb2()                       # generates corridor_pb2 with protoc
    c = Carrier(port, 'KTZE'); w = c.hello()
    c.send(updates); c.wait_acked(last_seq)
    c.rejections[seq].reason, c.acked_seq, c.errors

As a script:
    independent_carrier.py --port 7470 --carrier KTZE updates.jsonl
(the carrier's secret from --credential or $CORRIDOR_CREDENTIAL)
reads JSON lines of proto field names (enums by name, e.g. "event_code": "DEPA"),
numbers updates without seq from Welcome.acked_seq + 1, sends them and prints
the final acked_seq and every rejection."""
import argparse
import atexit
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(os.environ.get('CORRIDOR_SOURCE_DIR') or
                     os.path.dirname(os.path.dirname(HERE)), 'proto', 'corridor.proto')

_pb2 = None


def load_pb2(proto=PROTO):
    """Generates corridor_pb2.py into a temporary directory and imports it."""
    global _pb2
    if _pb2 is not None:
        return _pb2
    out = tempfile.mkdtemp(prefix='corridor-pb2-')
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(['protoc', '--proto_path=' + os.path.dirname(proto), '--python_out=' + out,
                    proto], check=True)
    sys.path.insert(0, out)
    import corridor_pb2
    _pb2 = corridor_pb2
    return _pb2


class CarrierError(Exception):
    """The daemon ended the session with an Error frame (or closed it)."""

    def __init__(self, code, message):
        super().__init__('%s: %s' % (code, message))
        self.code, self.message = code, message


def frame(body):
    """A frame: 4-byte big-endian length, then the body."""
    return struct.pack('>I', len(body)) + body


def varint(n):
    """A protobuf base-128 varint; a negative n as its 64-bit two's complement."""
    n &= (1 << 64) - 1
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(number, value):
    """One varint field (wire type 0), encoded."""
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    """One length-delimited field (wire type 2), encoded."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def batch_frame(encoded_updates):
    """A frame of CarrierMessage{batch} from updates encoded by hand: how a test
    sends what Google's library refuses to produce (an enum value the proto
    does not define, a string that is not UTF-8). For a scalar field repeated
    in the encoding the last value wins, so appending a field to a good
    update's encoding overrides it."""
    return frame(field_bytes(2, b''.join(field_bytes(1, u) for u in encoded_updates)))


def make_update(**fields):
    """A ShipmentUpdate from proto field names; enum fields may be given by name."""
    pb = load_pb2()
    u = pb.ShipmentUpdate()
    for name, value in fields.items():
        if value is None:
            continue
        fd = u.DESCRIPTOR.fields_by_name[name]
        if fd.enum_type is not None and isinstance(value, str):
            value = fd.enum_type.values_by_name[value].number
        setattr(u, name, value)
    return u


class Carrier:
    """One carrier session over TCP. credential is the carrier's secret for the
    Hello; None takes $CORRIDOR_CREDENTIAL (as corridorctl does), '' sends none."""

    def __init__(self, port, carrier, host='127.0.0.1', credential=None, timeout=15.0,
                 tls=None, source=None):
        """tls: an ssl.SSLContext when the carrier port speaks TLS (its
        certificate, if any, is the client certificate of mutual TLS);
        source: the local address to connect from (e.g. '127.0.0.2')."""
        if credential is None:
            credential = os.environ.get('CORRIDOR_CREDENTIAL')
        self.pb = load_pb2()
        self.carrier, self.credential, self.timeout = carrier, credential, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=source and (source, 0))
        if tls is not None:
            try:
                self.sock = tls.wrap_socket(self.sock, server_hostname=host)
            except BaseException:
                self.sock.close()
                raise
        self.buf = b''
        self.welcome = None
        self.acked_seq = 0
        self.acks = []                  # every Ack's acked_seq, in order
        self.rejections = {}            # seq -> the last Rejection for it
        self.errors = []                # Error messages
        self.closed = False

    # ------------------------------------------------------------- raw frames
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_message(self, msg):
        self.send_raw(frame(msg.SerializeToString()))

    def _recv_exact(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('no frame from the daemon in %.0f s' % self.timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_message(self, timeout=None):
        """The next ServerMessage, recorded; None when the daemon closed."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        head = self._recv_exact(4, deadline)
        if head is None:
            return None
        (n,) = struct.unpack('>I', head)
        body = self._recv_exact(n, deadline)
        if body is None:
            return None
        msg = self.pb.ServerMessage()
        msg.ParseFromString(body)
        self._record(msg)
        return msg

    def _record(self, msg):
        kind = msg.WhichOneof('body')
        if kind == 'ack':
            if msg.ack.acked_seq < self.acked_seq:
                raise AssertionError('acked_seq went down: %d after %d' %
                                     (msg.ack.acked_seq, self.acked_seq))
            self.acked_seq = msg.ack.acked_seq
            self.acks.append(msg.ack.acked_seq)
        elif kind == 'rejection':
            self.rejections[msg.rejection.seq] = msg.rejection
        elif kind == 'error':
            self.errors.append(msg.error)
        elif kind == 'welcome':
            self.welcome = msg.welcome
            self.acked_seq = msg.welcome.acked_seq

    def expect_error(self, timeout=None):
        """Reads until an Error frame arrives, then expects the close. Returns
        (error code name, closed)."""
        while True:
            msg = self.read_message(timeout)
            if msg is None:
                raise CarrierError('CLOSED', 'the daemon closed without an Error frame')
            if msg.WhichOneof('body') == 'error':
                closed = self.read_message(timeout) is None
                return self.pb.ErrorCode.Name(msg.error.code), closed

    # ---------------------------------------------------------------- session
    def hello(self, protocol_version=1, client_name='independent_carrier.py', carrier=None):
        h = self.pb.CarrierMessage()
        h.hello.protocol_version = protocol_version
        h.hello.carrier = self.carrier if carrier is None else carrier
        if self.credential:
            h.hello.credential = self.credential
        h.hello.client_name = client_name
        self.send_message(h)
        msg = self.read_message()
        if msg is None:
            raise CarrierError('CLOSED', 'closed instead of Welcome')
        kind = msg.WhichOneof('body')
        if kind == 'error':
            raise CarrierError(self.pb.ErrorCode.Name(msg.error.code), msg.error.message)
        if kind != 'welcome':
            raise AssertionError('expected Welcome, got %s' % kind)
        return msg.welcome

    def max_batch(self):
        if self.welcome is not None and self.welcome.limits.HasField('max_batch_updates'):
            return self.welcome.limits.max_batch_updates
        return 1000

    def send_batch(self, updates):
        m = self.pb.CarrierMessage()
        m.batch.updates.extend(updates)
        self.send_message(m)

    def send(self, updates):
        """Sends updates in batches of at most the daemon's limit."""
        updates = list(updates)
        step = self.max_batch()
        for i in range(0, len(updates), step):
            self.send_batch(updates[i:i + step])

    def wait_acked(self, seq, timeout=None):
        """Reads answers until acked_seq >= seq. Raises CarrierError if the
        session ends first."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self.acked_seq < seq:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('acked_seq %d, waiting for %d' % (self.acked_seq, seq))
            msg = self.read_message(left)
            if msg is None:
                raise CarrierError('CLOSED', 'closed at acked_seq %d' % self.acked_seq)
            if msg.WhichOneof('body') == 'error':
                raise CarrierError(self.pb.ErrorCode.Name(msg.error.code), msg.error.message)
        return self.acked_seq

    def wait_ack_message(self, timeout=None):
        """Reads until one more Ack arrives; returns its acked_seq."""
        n = len(self.acks)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.acks) == n:
            msg = self.read_message(max(0.01, deadline - time.monotonic()))
            if msg is None:
                raise CarrierError('CLOSED', 'closed before an Ack')
        return self.acks[-1]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def updates_from_jsonl(path, carrier):
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line:
                fields = json.loads(line)
                fields.setdefault('carrier', carrier)
                out.append(fields)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=7470)
    p.add_argument('--carrier', required=True)
    p.add_argument('--credential')
    p.add_argument('file')
    a = p.parse_args(argv)
    rows = updates_from_jsonl(a.file, a.carrier)
    with Carrier(a.port, a.carrier, host=a.host, credential=a.credential) as c:
        w = c.hello()
        seq = w.acked_seq
        updates = []
        for fields in rows:
            if 'seq' not in fields:
                seq += 1
                fields['seq'] = seq
            fields.setdefault('message_id', '%s-%d' % (a.carrier, fields['seq']))
            updates.append(make_update(**fields))
        todo = [u for u in updates if u.seq > w.acked_seq]
        c.send(todo)
        if todo:
            c.wait_acked(max(u.seq for u in todo), timeout=60)
        for s in sorted(c.rejections):
            r = c.rejections[s]
            print('rejected seq=%d reason=%s retryable=%s message=%s' % (
                s, c.pb.RejectReason.Name(r.reason), r.retryable, r.message))
        print('acked_seq=%d' % c.acked_seq)
    return 0


if __name__ == '__main__':
    sys.exit(main())
