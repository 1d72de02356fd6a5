#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into corpus/<target>/
(seed-* files; the fuzzers' own finds sit beside them under hash names) and
the libFuzzer dictionaries dict/<target>.dict.
The protobuf encoding is done by hand here so that the script needs nothing
but Python: field numbers are those of proto/corridor.proto.
usage: fuzz/make_seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1780000000000          # FUZZ_NOW_MS in fuzz_check.h
HOUR = 3600 * 1000


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    if isinstance(value, bool):
        return varint(num << 3) + varint(int(value))
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


# ShipmentUpdate field numbers
UPD = dict(carrier=1, seq=2, message_id=3, event_class=4, classifier=5, event_code=6,
           event_time_ms=7, node=8, locode=9, leg=10, direction=11, mode=12, train_id=13,
           wagon_id=14, vessel_imo=15, voyage=16, truck_plate=17, container=18,
           iso_type=19, empty=20, gross_kg=21, teu=22, container_count=23,
           delay_reason=24, remark=25, next_eta_ms=26, retracts_message_id=27)


def update(**kw):
    return b"".join(field(UPD[k], v) for k, v in kw.items())


def good(seq, **extra):
    base = dict(carrier="KTZE", seq=seq, message_id="m%d" % seq, event_class=1, classifier=1,
                event_code=2, event_time_ms=NOW - 2 * HOUR, node="ALTYNKOL",
                locode="KZALT", leg="KZ-RAIL-ALT-AKT", direction=1, mode=1,
                container="CSQU3054383", iso_type="45G1", gross_kg=20000)
    base.update(extra)
    return update(**base)


UPDATES = {
    "container-depa": good(1),
    "train-arri": good(2, event_code=1, container="", train_id="KZ-TRAIN-0042", teu=84,
                       container_count=42, gross_kg=1800000, iso_type=""),
    "vessel-load": good(3, event_class=2, event_code=3, leg="CASP-AKT-ALT", mode=2,
                        vessel_imo="9876543", voyage="V12", node="AKTAU"),
    "planned-eta": good(4, classifier=3, event_time_ms=NOW + 48 * HOUR,
                        next_eta_ms=NOW + 96 * HOUR),
    "hold-remark": good(5, event_class=3, event_code=10, leg="KZ-BRD-ALT",
                        remark="Таможенный досмотр, customs hold ✓", delay_reason="CUS"),
    "retraction": good(6, retracts_message_id="m1"),
    "truck-empty": good(7, container="", truck_plate="01KZ123ABC", mode=3, empty=True,
                        iso_type=""),
    "wagon-east": good(8, container="", wagon_id="123456789012", direction=2),
    "bad-check-digit": good(9, container="CSQU3054384"),
    "wrong-carrier": good(10, carrier="ADYC"),
    "code-not-in-class": good(11, event_code=10),
    "future": good(12, event_time_ms=NOW + 10 * 24 * HOUR),
    "unknown-enum": good(13, direction=7),
    "bad-utf8-remark": good(14, remark=b"ok \xc0\xaf \xed\xa0\x80 \x1b[2J"),
    "sql-metachars": good(15, message_id="x';DROP_TABLE_events;--", node="A\"B"),
    "missing-seq": update(carrier="KTZE", message_id="m", node="N", leg="KZ-PORT-AKT"),
}


def carrier_message(hello=None, batch=None):
    if hello is not None:
        return field(1, hello)
    return field(2, batch)


def frame(body):
    return struct.pack(">I", len(body)) + body


HELLO = field(1, 1) + field(2, "KTZE") + field(3, "secret") + field(4, "corridorctl/0.1")
BATCH = b"".join(field(1, u) for u in list(UPDATES.values())[:6])

FRAMES = {
    "hello-batch": frame(carrier_message(hello=HELLO)) + frame(carrier_message(batch=BATCH)),
    "hello-only": frame(carrier_message(hello=HELLO)),
    "hello-bad-version": frame(carrier_message(hello=field(1, 2) + field(2, "KTZE"))),
    "hello-bad-carrier": frame(carrier_message(hello=field(1, 1) + field(2, "k t z"))),
    "batch-first": frame(carrier_message(batch=BATCH)),
    "skip-hello-batches": b"\xff" + frame(carrier_message(batch=BATCH)) +
    frame(carrier_message(batch=field(1, UPDATES["train-arri"]))),
    "empty-frame": frame(carrier_message(hello=HELLO)) + b"\x00\x00\x00\x00",
    "too-large": frame(carrier_message(hello=HELLO)) + b"\x7f\xff\xff\xff" + b"x" * 8,
    "truncated": frame(carrier_message(hello=HELLO)) + frame(carrier_message(batch=BATCH))[:40],
    "garbage-body": frame(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    "wrong-type": frame(field(9, b"\x08\x01")),
    "many-empty-updates": b"\xff" + frame(carrier_message(batch=b"\x0a\x00" * 600)),
    # strings protobuf-c would cut at a NUL (lib/wire_scan.c flags them)
    "hello-nul": frame(carrier_message(hello=field(1, 1) + field(2, b"KTZE\x00x"))),
    "update-nul": b"\xff" + frame(carrier_message(batch=field(1, good(1)) + field(
        1, good(2, node=b"ALAT\x00x")) + field(1, good(3)))),
    "batch-twice": b"\xff" + frame(carrier_message(batch=field(1, good(1))) + carrier_message(
        batch=field(1, good(2, remark=b"ok\x00hidden")) + field(1, good(3)))),
}

QUERIES = {
    "ping": "PING\n",
    "help-legs": "HELP\nLEGS\n",
    "stats-all": "STATS *\n",
    "stats-leg-range": "STATS KZ-RAIL-ALT-AKT 2026-01-01 2026-12-31T23:59:59Z W KTZE\n",
    "stats-ms": "stats KZ-BRD-ALT 1779000000000 - E\r\n",
    "stats-frac": "STATS * 2026-05-01T00:00:00.250Z 2026-06-01T12:30Z\n",
    "intransit": "INTRANSIT\nINTRANSIT KZ-BRD-ALT\nINTRANSIT *\n",
    "shipment": "SHIPMENT CSQU3054383\nSHIPMENT MWCU6059784\n",
    "backup": "BACKUP nightly-1\nBACKUP .hidden\n",
    "errors": "NOPE\n\nSTATS NOT-A-LEG\nSTATS * 2026-02-31\nSTATS * - - X\nPING extra\n",
    "too-many-words": "STATS a b c d e f g h i\n",
    "control-bytes": "PING\x01\nPING\tPING\n",
    "quit": "QUIT\n",
    "histogram": "HISTOGRAM KZ-RAIL-ALT-AKT\nHISTOGRAM KZ-BRD-ALT 2026-05-01 - W KTZE\n",
    "ontime": "ONTIME *\nONTIME KZ-BRD-ALT 2026-05-01 2026-06-30 W\n",
    "volumes": "VOLUMES * day\nVOLUMES KZ-BRD-ALT week 2026-05-01 2026-06-01 W KTZE\n"
    "VOLUMES * month\nVOLUMES * year\n",
    "journeys": "JOURNEYS KHG AKT\nJOURNEYS ALK POT 2026-05-01 2026-06-01 W 12\n"
    "JOURNEYS KHG AKT - - E x\n",
    "holds-delays": "HOLDS *\nHOLDS KZ-BRD-ALT 2026-05-01\nDELAYS *\nDELAYS KZ-RAIL-ALT-AKT - - W\n",
    "quality": "QUALITY\nQUALITY KTZE 2026-05-01 2026-06-01\nQUALITY * - -\n",
    "nul-bytes": "PING\x00 x\nQUIT\x00\nSTATS * \x00\nPI\rNG\nPING\r\r\nLEGS \xc3\xa9\n",
    "time-range": "STATS * 99999999999999999999\nSTATS * - -99999999999999999999\n"
    "STATS * 10000-01-01\nSTATS * -9223372036854775808 9223372036854775807\n",
    "windows": "STATS * 2026-02-01 2026-01-01\nQUALITY * 2026-01-01 2026-01-01\n"
    "JOURNEYS ALK POT 9223372036854775807\nVOLUMES * day 2026-01-01T10:15Z 2026-01-01T10:45Z\n",
    "not-found": "SHIPMENT TGHU9999906\nSTATS * - - - NOPE\nQUALITY NOPE\nJOURNEYS NOPE POT\n"
    "HOLDS * - - W ktze\nSHIPMENT CSQU3054383\n",
}

CONFIGS = {
    "example": open(os.path.join(HERE, "..", "systemd", "corridord.conf.example")).read(),
    "credentials": """[carriers]
KTZE = KTZ Express
MCML = Middle Corridor Multimodal
ADYC = ADY Container
[credentials]
ktz = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo= KTZE
joint = pbkdf2-sha256$100000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo MCML ADYC
bad = s3cret KTZE
nocodes = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo=
stranger = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo= POB
[operators]
alice = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo= admin
grafana = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo= read
root = pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo= root
""",
    "full": """[daemon]
state_dir = /tmp/corridor
carrier_listen = 0.0.0.0:7470
query_listen = [::1]:7471
metrics_listen =
synchronous = normal
log_level = debug
legs_file = /etc/corridor/legs.tsv
backup_dir = /srv/backups

[carriers]
KTZE = KTZ Express
ADYC = ADY Container

[limits]
max_frame_bytes = 2097152
max_batch_updates = 500
max_string_bytes = 128
seq_window = 1024
""",
    "errors": """[daemon]
carrier_listen = nowhere
query_listen = 127.0.0.1:99999
synchronous = sometimes
unknown = 1
[limits]
max_frame_bytes = 12
writers = lots
no_such_limit = 3
[carriers]
ktze = lower case
[nosuch]
x = y
""",
    "legs-tsv": "code\tfrom\tto\tcountry\tkind\tmode\tdistance_km\tmin_h\ttypical_h\tbad_h\n"
    "KZ-RAIL-ALT-AKT\tAltynkol\tAktau\tKZ\tmovement\trail\t2300\t60\t90\t160\n"
    "NEW-LEG\tA\tB\tXX\tport\t-\t0\t1\t2\t3\n"
    "# comment\n\nBAD LEG\tA\tB\tXX\tport\t-\t0\t3\t2\t1\n",
    "syntax-error": "[daemon\nstate_dir\n",
    "tls": """[tls]
carrier_cert = /etc/corridor/carriers.pem
carrier_key = /etc/corridor/carriers.key
carrier_ca = /etc/corridor/carrier-ca.pem
carrier_client_cert = required
query_cert = /etc/corridor/operators.pem
min_version = 1.3
""",
    "tls-unpaired": "[tls]\nquery_key = /k\ncarrier_client_cert = optional\nmin_version = 1.1\n",
}


LEGS = [line.split("\t")[0] for line in
        open(os.path.join(HERE, "..", "schema", "legs.tsv")).read().splitlines()[1:] if line]


def limit_names():
    """The limit names, read from the limit table's source."""
    import re
    text = open(os.path.join(HERE, "..", "lib", "limit_table.c")).read()
    return re.findall(r"^\tL\((\w+),", text, re.M)


def update_dict():
    """Whole protobuf fields an update is made of: tag, length, value."""
    words = [field(UPD["carrier"], "KTZE"), field(UPD["seq"], 1), field(UPD["message_id"], "m1"),
             field(UPD["node"], "ALTYNKOL"), field(UPD["event_time_ms"], NOW),
             field(UPD["next_eta_ms"], NOW + 48 * HOUR), field(UPD["container"], "CSQU3054383"),
             field(UPD["container"], "MWCU6059784"), field(UPD["iso_type"], "22G1"),
             field(UPD["train_id"], "T1"), field(UPD["vessel_imo"], "9876543"),
             field(UPD["wagon_id"], "W1"), field(UPD["truck_plate"], "P1"),
             field(UPD["remark"], "ok"), field(UPD["retracts_message_id"], "m1"),
             field(UPD["gross_kg"], 20000), field(UPD["teu"], 2), field(UPD["container_count"], 1),
             field(UPD["empty"], True)]
    words += [field(UPD["leg"], leg) for leg in LEGS]
    for name in ("event_class", "classifier", "direction", "mode"):
        words += [field(UPD[name], v) for v in (1, 2, 3)]
    words += [field(UPD["event_code"], v) for v in range(1, 12)]
    # UTF-8 edges for remarks: C1 control, surrogate, overlong, largest, line separator
    words += [b"\xc2\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x8f\xbf\xbf",
              b"\xf4\x90\x80\x80", b"\xe2\x80\xa8", b"\x7f"]
    return words


def dict_text(words):
    out = []
    for w in words:
        if isinstance(w, str):
            w = w.encode()
        out.append('"' + "".join(chr(b) if 0x20 <= b < 0x7f and b not in b'"\\' else
                                  "\\x%02x" % b for b in w) + '"')
    return "".join(line + "\n" for line in out)


DICTS = {
    "validate": update_dict(),
    "frame": update_dict() + [b"\x00\x00\x00", b"\x0a", b"\x12", b"\x08\x01",
                              field(2, "KTZE"), b"\x80\x00"],
    "query": ["PING", "HELP", "LEGS", "STATS", "INTRANSIT", "SHIPMENT", "BACKUP", "QUIT",
              "HISTOGRAM", "ONTIME", "VOLUMES", "JOURNEYS", "HOLDS", "DELAYS", "QUALITY",
              " day", " week", " month", "KHG", "ALK", "AKT", "BAK", "POT",
              " * ", " - ", " W", " E", " KTZE", "CSQU3054383", "MWCU6059784", "TRAIN:",
              "1780000000000", "2026-05-28", "T08:26Z", "T08:26:40Z", "T08:26:40.123Z",
              "\r\n", "\t", "\x00", " 99999999999999999999", "10000-01-01",
              " 9223372036854775807", " NOPE"] + LEGS,
    "config": ["[daemon]", "[limits]", "[carriers]", "[tls]", "[credentials]", "[operators]",
               "pbkdf2-sha256$", "$1000$", "Y29ycmlkb3Itc2FsdC0xNg==", " read", " admin",
               "carrier_cert", "carrier_key",
               "carrier_ca", "carrier_client_cert", "query_cert", "query_key", "min_version",
               "1.2", "1.3", "none", "optional", "required", " = ", ";", "#", "state_dir",
               "carrier_listen", "query_listen", "metrics_listen", "synchronous", "legs_file",
               "log_level", "backup_dir", "full", "normal", "warn", "info", "debug",
               "127.0.0.1:7470", "[::1]:7471", "KTZE", "4294967296", "-1",
               "9223372036854775808", "code\tfrom\tto", "movement", "port", "border",
               "\t"] + limit_names() + LEGS,
}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    for name, data in UPDATES.items():
        write("validate", name, data)
    for name, data in FRAMES.items():
        write("frame", name, data)
    for name, data in QUERIES.items():
        write("query", name, data)
    for name, data in CONFIGS.items():
        write("config", name, data)
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    for target, words in DICTS.items():
        with open(os.path.join(HERE, "dict", target + ".dict"), "w") as f:
            f.write("# libFuzzer dictionary of fuzz_%s, written by fuzz/make_seeds.py\n" % target)
            f.write(dict_text(words))


if __name__ == "__main__":
    main()
