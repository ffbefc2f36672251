"""harness.fake_bedrock against botocore's own parsers: the event-stream frames it writes pass
botocore's CRC checks (and a flipped byte does not), and boto3's bedrock-runtime client reads
its answers and errors as it reads Amazon Bedrock's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from harness.fake_bedrock import FakeBedrock, event, fake_bedrock_server, frame

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
ASK = [{"role": "user", "content": [{"text": "hello"}]}]


def test_frames_pass_botocores_checksums_and_a_flipped_byte_does_not() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(event("messageStart", {"role": "assistant"}))
    (message,) = list(buffer)
    assert message.headers[":event-type"] == "messageStart"
    assert json.loads(message.payload) == {"role": "assistant"}
    for at in (2, 20, -2):  # prelude, headers, message CRC
        data = bytearray(frame({":message-type": "event"}, b"{}"))
        data[at] ^= 1
        broken = EventStreamBuffer()
        broken.add_data(bytes(data))
        with pytest.raises(ChecksumMismatch):
            list(broken)


@pytest.fixture(scope="module")
def bedrock() -> Iterator[tuple[FakeBedrock, Any]]:
    with fake_bedrock_server() as fake:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=fake.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        yield fake, client


def test_converse_stream_and_embeddings_parse(bedrock: tuple[FakeBedrock, Any]) -> None:
    fake, client = bedrock
    answer = client.converse(modelId=MODEL, messages=ASK)
    assert answer["usage"]["inputTokens"] == 120 and answer["stopReason"] == "end_turn"
    events = list(client.converse_stream(modelId=MODEL, messages=ASK)["stream"])
    assert [next(iter(e)) for e in events][:2] == ["messageStart", "contentBlockDelta"]
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 40
    body = json.dumps({"inputText": "x", "dimensions": 8})
    r = client.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=body)
    assert len(json.loads(r["body"].read())["embedding"]) == 8
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == "8"
    assert fake.requests[0][0] == f"/model/{MODEL}/converse"  # the id decoded (`v1%3A0`)


@pytest.mark.parametrize(
    ("step", "status", "code"),
    [
        ("429", 429, "ThrottlingException"),
        ("500", 500, "InternalServerException"),
        ("503", 503, "ServiceUnavailableException"),
    ],
)
def test_errors_are_botocores_modeled_exceptions(
    bedrock: tuple[FakeBedrock, Any], step: str, status: int, code: str
) -> None:
    fake, client = bedrock
    fake.script.append(step)
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=MODEL, messages=ASK)
    assert type(caught.value).__name__ == code  # botocore.errorfactory.<code>
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_throttle_inside_a_stream_is_an_event_stream_error(
    bedrock: tuple[FakeBedrock, Any],
) -> None:
    fake, client = bedrock
    fake.script.append("429-in-stream")
    stream = client.converse_stream(modelId=MODEL, messages=ASK)["stream"]
    with pytest.raises(EventStreamError) as caught:
        list(stream)
    assert caught.value.response["Error"]["Code"] == "throttlingException"
