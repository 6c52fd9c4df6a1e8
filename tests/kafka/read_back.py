#!/usr/bin/python3
"""read_back.py: reads Tidewatch's topics back from a Kafka broker with a client
of its own (confluent-kafka, Debian's python3-confluent-kafka) and checks them
against what was published. Exit 0: everything matched; 1: a mismatch (each
printed on stderr); 2: the reader itself could not run.

The schema is compiled at run time (protoc --python_out into a temporary
directory) from sinks/proto, so the messages are decoded from the published
schema, not from Tidewatch's C++ code.

What every message must satisfy (the Kafka contract in sinks/kafka_sink.h):
  topic   <prefix>.pgtid for Pseudo-GTID entries, .analysis, .recovery, .audit,
          else .topology
  key     the source server for Pseudo-GTID entries, else the cluster (the
          server when the cluster is empty)
  headers type (the body's field name, "pseudo_gtid" etc.) and schema_version
  value   a tidewatch.v1.Envelope; with --schema-ids, in Confluent's wire
          format: 0x00, the schema id big-endian, message indexes, message
and, over all messages: each (producer_id, sequence) at most once (or, with
--at-least-once, repeated only as identical bytes), one key in one
partition, and per key the sequences in increasing order of first arrival.

Prints a JSON summary on stdout: messages, unique, duplicates, per topic and
per key counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

try:
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource
    from google.protobuf import descriptor_pb2, json_format
except ImportError as e:  # not Debian's python3, or packages missing
    print(f"read_back: {e} (run with /usr/bin/python3; tools/install-deps.sh installs "
          "python3-confluent-kafka and python3-protobuf)", file=sys.stderr)
    sys.exit(2)

TOPIC_OF_BODY = {"pseudo_gtid": "pgtid", "analysis": "analysis", "recovery": "recovery", "audit": "audit"}


class Failures:
    def __init__(self, limit: int = 50):
        self.items: list[str] = []
        self.limit = limit
        self.count = 0

    def add(self, msg: str) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(msg)


def compile_schema(protoc: str, proto_root: str, out: str):
    cmd = [protoc, "-I", proto_root, f"--python_out={out}", "tidewatch/v1/tidewatch.proto"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"read_back: {' '.join(cmd)} failed: {p.stderr.strip()}")
    sys.path.insert(0, out)
    from tidewatch.v1 import tidewatch_pb2  # noqa: E402 (generated just now)
    return tidewatch_pb2


def message_indexes(pb2, name: str) -> list[int]:
    """The path of a top-level message in its file, from the file's own descriptor."""
    fdp = descriptor_pb2.FileDescriptorProto()
    pb2.DESCRIPTOR.CopyToProto(fdp)
    return [[m.name for m in fdp.message_type].index(name)]


def read_zigzag_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if pos >= len(buf):
            raise ValueError("varint runs past the end")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return (value >> 1) ^ -(value & 1), pos


def unframe(value: bytes, want_id: int, want_indexes: list[int]) -> tuple[bytes, str | None]:
    """Strips Confluent's wire format; the error when it is not the expected framing."""
    if len(value) < 6 or value[0] != 0:
        return b"", f"no magic byte 0 (first bytes {value[:8].hex()})"
    schema_id = int.from_bytes(value[1:5], "big")
    if schema_id != want_id:
        return b"", f"schema id {schema_id}, expected {want_id}"
    count, pos = read_zigzag_varint(value, 5)
    indexes = [0] if count == 0 else []
    for _ in range(count):
        i, pos = read_zigzag_varint(value, pos)
        indexes.append(i)
    if indexes != want_indexes:
        return b"", f"message indexes {indexes}, expected {want_indexes}"
    return value[pos:], None


def topic_config(admin: AdminClient, topic: str, name: str) -> str:
    res = admin.describe_configs([ConfigResource("topic", topic)])
    for fut in res.values():
        return fut.result(timeout=30)[name].value
    return ""


def consume_all(bootstrap: str, topics: list[str], deadline: float, fail: Failures):
    """Every record of `topics`, partition by partition from the log start to the high watermark."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-back-{uuid.uuid4()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "enable.partition.eof": False})
    try:
        md = consumer.list_topics(timeout=30)
        assign, ends = [], {}
        for t in topics:
            if t not in md.topics or md.topics[t].error is not None:
                continue
            for p in md.topics[t].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(t, p), timeout=30)
                if high > low:
                    assign.append(TopicPartition(t, p, low))
                    ends[(t, p)] = high
        consumer.assign(assign)
        records = []
        while ends and time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                fail.add(f"consumer: {m.error()}")
                continue
            records.append(m)
            tp = (m.topic(), m.partition())
            if tp in ends and m.offset() + 1 >= ends[tp]:
                del ends[tp]
        if ends:
            fail.add(f"timed out before the end of {sorted(ends)}")
        return records
    finally:
        consumer.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--protoc", default="protoc")
    ap.add_argument("--proto-root", required=True, help="the directory holding tidewatch/v1/tidewatch.proto")
    ap.add_argument("--prefix", default="tidewatch")
    ap.add_argument("--expect", help="JSON lines: topic, key, headers, envelope (protobuf JSON mapping)")
    ap.add_argument("--expect-sequences", metavar="PRODUCER:FIRST-LAST",
                    help="exactly these (producer_id, sequence) pairs, contents not compared")
    ap.add_argument("--at-least-once", action="store_true",
                    help="a message may arrive more than once (identical bytes); deduplicated on "
                         "(producer_id, sequence)")
    ap.add_argument("--compacted", action="append", default=[], metavar="TOPIC",
                    help="the topic must have cleanup.policy=compact")
    ap.add_argument("--not-compacted", action="append", default=[], metavar="TOPIC",
                    help="the topic must have cleanup.policy=delete")
    ap.add_argument("--partitions", type=int, metavar="N",
                    help="every Tidewatch topic that exists has N partitions")
    ap.add_argument("--schema-ids", metavar="TOPIC=ID,...",
                    help="values are in Confluent's wire format with these schema ids")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    if not args.expect and not args.expect_sequences:
        ap.error("--expect or --expect-sequences is required")

    fail = Failures()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="tidewatch-pb2-") as gen:
        pb2 = compile_schema(args.protoc, args.proto_root, gen)
        envelope_indexes = message_indexes(pb2, "Envelope")

        expected: dict[tuple[str, int], dict] = {}
        if args.expect:
            with open(args.expect) as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    rec = json.loads(line)
                    env = json_format.Parse(json.dumps(rec["envelope"]), pb2.Envelope())
                    rec["message"] = env
                    k = (env.producer_id, env.sequence)
                    if k in expected:
                        raise SystemExit(f"read_back: {args.expect}:{n}: {k} listed twice")
                    expected[k] = rec
        if args.expect_sequences:
            producer, _, span = args.expect_sequences.rpartition(":")
            first, _, last = span.partition("-")
            for s in range(int(first), int(last) + 1):
                expected.setdefault((producer, s), {})
        schema_ids = {}
        for item in (args.schema_ids or "").split(","):
            if item:
                t, _, i = item.rpartition("=")
                schema_ids[t] = int(i)

        admin = AdminClient({"bootstrap.servers": args.bootstrap})
        for t in args.compacted:
            policy = topic_config(admin, t, "cleanup.policy")
            if policy != "compact":
                fail.add(f"topic {t}: cleanup.policy={policy}, expected compact")
        for t in args.not_compacted:
            policy = topic_config(admin, t, "cleanup.policy")
            if policy != "delete":
                fail.add(f"topic {t}: cleanup.policy={policy}, expected delete")

        suffixes = ("topology", "analysis", "pgtid", "recovery", "audit")
        if args.partitions is not None:
            md = admin.list_topics(timeout=30)
            for t in (f"{args.prefix}.{s}" for s in suffixes):
                if t in md.topics and len(md.topics[t].partitions) != args.partitions:
                    fail.add(f"topic {t}: {len(md.topics[t].partitions)} partitions, expected {args.partitions}")
        records = consume_all(args.bootstrap, [f"{args.prefix}.{s}" for s in suffixes], deadline, fail)

        seen: dict[tuple[str, int], bytes] = {}
        duplicates = 0
        key_partition: dict[tuple[str, str], int] = {}
        order: dict[str, list[int]] = {}
        per_topic: dict[str, int] = {}
        per_key: dict[str, int] = {}
        for m in records:
            where = f"{m.topic()}[{m.partition()}]@{m.offset()}"
            value = m.value() or b""
            if m.topic() in schema_ids:
                value, err = unframe(value, schema_ids[m.topic()], envelope_indexes)
                if err:
                    fail.add(f"{where}: {err}")
                    continue
            elif schema_ids:
                fail.add(f"{where}: no schema id expected for this topic")
                continue
            env = pb2.Envelope()
            try:
                env.ParseFromString(value)
            except Exception as e:  # DecodeError
                fail.add(f"{where}: not a tidewatch.v1.Envelope: {e}")
                continue
            ident = (env.producer_id, env.sequence)
            if ident in seen:
                duplicates += 1
                if not args.at_least_once:
                    fail.add(f"{where}: {ident} delivered more than once")
                elif seen[ident] != value:
                    fail.add(f"{where}: {ident} delivered again with different bytes")
                continue
            seen[ident] = value
            per_topic[m.topic()] = per_topic.get(m.topic(), 0) + 1
            body = env.WhichOneof("body") or "none"
            want_topic = f"{args.prefix}.{TOPIC_OF_BODY.get(body, 'topology')}"
            if m.topic() != want_topic:
                fail.add(f"{where}: {ident} ({body}) on {m.topic()}, expected {want_topic}")
            key = (m.key() or b"").decode("utf-8", "replace")
            want_key = env.source.server if body == "pseudo_gtid" else (env.source.cluster or env.source.server)
            if key != want_key:
                fail.add(f"{where}: {ident} key {key!r}, expected {want_key!r}")
            per_key[key] = per_key.get(key, 0) + 1
            headers = {}
            for hk, hv in m.headers() or []:
                headers[hk] = (hv or b"").decode("utf-8", "replace")
            want_headers = {"type": body, "schema_version": str(env.schema_version)}
            for hk, hv in want_headers.items():
                if headers.get(hk) != hv:
                    fail.add(f"{where}: {ident} header {hk}={headers.get(hk)!r}, expected {hv!r}")
            first_partition = key_partition.setdefault((m.topic(), key), m.partition())
            if first_partition != m.partition():
                fail.add(f"{where}: key {key!r} also in partition {first_partition}")
            order.setdefault(f"{m.topic()}/{key}", []).append(env.sequence)
            rec = expected.get(ident)
            if rec is None:
                fail.add(f"{where}: {ident} was not published")
                continue
            if "message" in rec:
                if m.topic() != rec["topic"]:
                    fail.add(f"{where}: {ident} on {m.topic()}, published to {rec['topic']}")
                if key != rec["key"]:
                    fail.add(f"{where}: {ident} key {key!r}, published with {rec['key']!r}")
                for hk, hv in rec.get("headers", {}).items():
                    if headers.get(hk) != hv:
                        fail.add(f"{where}: {ident} header {hk}={headers.get(hk)!r}, published {hv!r}")
                if env != rec["message"]:
                    got = json_format.MessageToJson(env, preserving_proto_field_name=True, indent=None)
                    want = json_format.MessageToJson(rec["message"], preserving_proto_field_name=True, indent=None)
                    fail.add(f"{where}: {ident} differs:\n  got  {got}\n  sent {want}")
        for k, seqs in order.items():
            for a, b in zip(seqs, seqs[1:]):
                if b <= a:
                    fail.add(f"{k}: sequence {b} arrived after {a}")
                    break
        missing = sorted(set(expected) - set(seen))
        if missing:
            fail.add(f"{len(missing)} published message(s) never arrived, first {missing[:10]}")

    print(json.dumps({"messages": len(records), "unique": len(seen), "duplicates": duplicates,
                      "topics": per_topic, "keys": per_key, "failures": fail.count}, sort_keys=True))
    for item in fail.items:
        print(f"read_back: {item}", file=sys.stderr)
    if fail.count > len(fail.items):
        print(f"read_back: ... and {fail.count - len(fail.items)} more", file=sys.stderr)
    return 1 if fail.count else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KafkaException as e:
        print(f"read_back: kafka: {e}", file=sys.stderr)
        sys.exit(2)
