"""The Lambda Runtime API as the gateway serves it to an environment, driven over real loopback HTTP
by httpx in this process, with a platform that records what the runtime asked and said. (The runtime
interface client itself against it: tests/system/test_lambda_runtime.py.)"""

from __future__ import annotations

import asyncio
import json

import httpx

from sentiment_app.gateway.runtime.runtime_api import PREFIX, RuntimeApiConnection


class RecordingPlatform:
    def __init__(self) -> None:
        self.waiting: list[RuntimeApiConnection] = []
        self.done: list[tuple[str, str, bytes]] = []
        self.init_errors: list[bytes] = []

    def next_invocation(self, connection: RuntimeApiConnection) -> None:
        self.waiting.append(connection)

    def invocation_done(self, request_id: str, outcome: str, body: bytes) -> int:
        self.done.append((request_id, outcome, body))
        return 202 if request_id == "req-1" else 400

    def init_failed(self, body: bytes) -> None:
        self.init_errors.append(body)


def test_next_waits_for_an_event_and_the_outcomes_are_handed_to_the_platform() -> None:
    async def scenario() -> None:
        platform = RecordingPlatform()
        server = await asyncio.get_running_loop().create_server(lambda: RuntimeApiConnection(platform), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}{PREFIX}") as client:
                pending = asyncio.ensure_future(client.get("/invocation/next"))
                while not platform.waiting:  # the long poll is parked until an event exists
                    await asyncio.sleep(0.01)
                assert not pending.done()
                platform.waiting[0].send_event({"Lambda-Runtime-Aws-Request-Id": "req-1"}, b'{"n": 1}')
                event = await pending
                assert event.status_code == 200 and event.json() == {"n": 1}
                assert event.headers["lambda-runtime-aws-request-id"] == "req-1"
                assert event.headers["content-type"] == "application/json"

                answer = await client.post("/invocation/req-1/response", content=b'{"statusCode": 200}')
                assert answer.status_code == 202 and answer.json() == {"status": "OK"}
                stale = await client.post("/invocation/req-0/error", content=b'{"errorType": "KeyError"}')
                assert stale.status_code == 400 and stale.json()["errorType"] == "InvalidRequest"
                assert platform.done == [("req-1", "response", b'{"statusCode": 200}'),
                                         ("req-0", "error", b'{"errorType": "KeyError"}')]

                error = {"errorType": "Runtime.ImportModuleError", "errorMessage": "no module"}
                init = await client.post("/init/error", content=json.dumps(error))
                assert init.status_code == 202 and json.loads(platform.init_errors[0]) == error
                assert (await client.get("/invocation/req-1/response")).status_code == 404
                assert (await client.get("/elsewhere")).status_code == 404
        finally:
            server.close()

    asyncio.run(scenario())


def test_a_malformed_request_is_refused_and_the_connection_closed() -> None:
    async def scenario() -> None:
        server = await asyncio.get_running_loop().create_server(
            lambda: RuntimeApiConnection(RecordingPlatform()), "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        try:
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            reply = await asyncio.wait_for(reader.read(), 10)  # read() ends when the server closes
            assert reply.startswith(b"HTTP/1.1 400 ")
        finally:
            writer.close()
            server.close()

    asyncio.run(scenario())
