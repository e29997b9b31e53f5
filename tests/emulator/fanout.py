"""The fan-out state machine (infra/fanout.asl.json) run on moto's own Step Functions interpreter,
with every Lambda invocation served by the real ecr-warden binary in Lambda mode.

moto's Lambda would run a function in Docker; here its `invoke` starts the binary instead, with a
one-invocation Lambda Runtime API of its own (next event, response or error), so the function's
answer, and its failures, are the binary's. The interpreter calls back into the server on
MOTO_PORT, which must be set before an execution starts.
"""

import json
import os
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from moto.awslambda.models import LambdaBackend

DEFINITION = Path(__file__).resolve().parents[2] / "infra" / "fanout.asl.json"
FUNCTION = "ecr-warden"
ROLE = "arn:aws:iam::123456789012:role/ecr-warden-fan-out"
INVOCATION_SECONDS = 300

# What the function runs as: set by the `fanout` command, read by every invocation.
function = {"binary": None, "env": {}, "skip": [], "invocations": []}


class RuntimeApi(BaseHTTPRequestHandler):
    """One invocation of the Lambda Runtime API: the event, then its response or error."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        state = self.server.state
        if not self.path.endswith("/runtime/invocation/next") or state["served"]:
            # The runtime asks for the next event after answering: it never comes.
            state["done"].wait()
            self.send_response(410)
            self.end_headers()
            return
        state["served"] = True
        body = state["event"]
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "invocation-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + INVOCATION_SECONDS) * 1000)))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                         f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        outcome = "error" if self.path.endswith("/error") else "response"
        self.send_response(202)
        self.end_headers()
        state = self.server.state
        state["answer"] = (outcome, body)
        state["done"].set()


def run_binary(event: bytes):
    """Runs one invocation of the binary; (payload bytes, is an error)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    server.state = {"event": event, "served": False, "done": threading.Event(), "answer": None}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(function["env"])
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
    })
    process = subprocess.Popen([function["binary"]], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    finished = server.state["done"].wait(INVOCATION_SECONDS)
    process.kill()
    _, stderr = process.communicate()
    server.shutdown()
    if not finished:
        body = json.dumps({"errorType": "Timeout", "errorMessage": stderr.decode()[-2000:]})
        return body.encode(), True
    outcome, body = server.state["answer"]
    return body, outcome == "error"


def invoke(self, function_name, qualifier, body, headers, response_headers):
    event = body if isinstance(body, bytes) else (body or "{}").encode()
    request = json.loads(event)
    scope = {"account": request.get("account"), "region": request.get("region")}
    if request.get("action") == "scan-usage" and scope in function["skip"]:
        # A step that says it succeeded, but wrote nothing.
        payload, failed = json.dumps({"notes": []}).encode(), False
    else:
        payload, failed = run_binary(event)
    function["invocations"].append({"event": json.loads(event),
                                    "error" if failed else "result": json.loads(payload or b"null")})
    if failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    return payload


def install(endpoint):
    """Turns on moto's interpreter and serves invocations with the binary."""
    os.environ["MOTO_PORT"] = endpoint.rsplit(":", 1)[1]
    LambdaBackend.invoke = invoke
    config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/config", data=config, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def run(endpoint, request):
    """Creates the state machine (once) and runs one execution to its end.

    request: {"binary", "env", "bucket", "name", "skip": [{"account", "region"}]}: the scan
    steps of `skip` answer without running. Answers {"status", "error", "cause", "output",
    "invocations": [{"event", "result" | "error"}]}.
    """
    function.update(binary=request["binary"], env=request["env"], skip=request.get("skip", []),
                    invocations=[])
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    definition = (DEFINITION.read_text()
                  .replace("${WardenArn}", f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}")
                  .replace("${Bucket}", request["bucket"])
                  .replace("${Partition}", "aws"))
    machines = sfn.list_state_machines()["stateMachines"]
    arn = next((m["stateMachineArn"] for m in machines if m["name"] == "ecr-warden-fan-out"), None)
    if arn is None:
        arn = sfn.create_state_machine(name="ecr-warden-fan-out", definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name=request["name"], input="{}")["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.2)
    return {"status": described["status"], "error": described.get("error"),
            "cause": described.get("cause"), "output": json.loads(described.get("output") or "null"),
            "invocations": function["invocations"]}
