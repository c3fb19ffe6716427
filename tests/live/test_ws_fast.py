"""The media socket's own framing agrees with the websockets library, byte for byte and split anywhere."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from callreplay.live.ws_fast import TextFrameReader, client_text_frame


def _server_frames(messages: list[tuple[str, bytes]]) -> bytes:
    """What a server would write: unmasked frames made by the library."""
    server = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
    for kind, data in messages:
        {"text": server.send_text, "ping": server.send_ping, "pong": server.send_pong,
         "binary": server.send_binary}[kind](data)
    return b"".join(server.data_to_send())


def _read(reader: TextFrameReader, wire: bytes, cuts: list[int]) -> tuple[list[bytes], bytes]:
    texts, library = [], b""
    edges = [0, *sorted({c % (len(wire) + 1) for c in cuts}), len(wire)]
    for a, b in pairwise(edges):
        for is_text, chunk in reader.feed(wire[a:b]):
            if is_text:
                texts.append(chunk)
            else:
                library += chunk
    return texts, library


messages = st.lists(st.tuples(st.sampled_from(["text", "text", "text", "ping", "pong"]),
                              st.binary(max_size=300).map(lambda b: b.hex()[:400].encode())), max_size=12)


@settings(max_examples=200, deadline=None)
@given(messages, st.lists(st.integers(min_value=0, max_value=5000), max_size=8))
def test_text_frames_come_out_whole_and_control_frames_go_to_the_library_in_order(msgs, cuts):
    wire = _server_frames(msgs)
    texts, library = _read(TextFrameReader(2 ** 20), wire, cuts)
    assert texts == [data for kind, data in msgs if kind == "text"]
    assert library == _server_frames([(k, d) for k, d in msgs if k != "text"])  # each whole, in wire order


def test_the_first_frame_of_another_shape_hands_everything_after_it_to_the_library():
    wire_before = _server_frames([("text", b'{"event":"media"}')])
    rest = _server_frames([("binary", b"\x00\x01"), ("text", b'{"event":"mark"}')])
    reader = TextFrameReader(2 ** 20)
    out = reader.feed(wire_before + rest)
    assert out == [(True, b'{"event":"media"}'), (False, rest)]
    assert not reader.active and reader.feed(b"later") == [(False, b"later")]


def test_a_frame_over_the_size_limit_and_a_close_are_the_library_s():
    big = _server_frames([("text", b"x" * 300)])
    assert TextFrameReader(max_size=200).feed(big) == [(False, big)]
    server = Protocol(Side.SERVER, state=State.OPEN)
    server.send_close(1000, "bye")
    close = b"".join(server.data_to_send())
    reader = TextFrameReader(2 ** 20)
    assert reader.feed(close + b"tail") == [(False, close), (False, b"tail")] and not reader.active


@given(st.binary(max_size=70_000))
@settings(max_examples=60, deadline=None)
def test_a_client_frame_is_what_the_library_reads_as_one_masked_text_message(data):
    server = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
    frame = client_text_frame(data)
    server.receive_data(frame)
    [event] = server.events_received()
    assert isinstance(event, Frame) and event.opcode is Opcode.TEXT and event.fin and bytes(event.data) == data
    assert frame[1] & 0x80  # masked, as every client frame must be


def test_a_passthrough_reader_leaves_every_byte_to_the_library():
    reader = TextFrameReader.passthrough()
    wire = _server_frames([("text", b"{}")])
    assert reader.feed(wire) == [(False, wire)] and reader.feed(b"") == []
