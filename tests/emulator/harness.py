"""A local AWS for ecr-warden's end-to-end tests and demo.

Runs moto's server in-process on a loopback port, fills the gaps between moto and AWS that matter
to ecr-warden, seeds a fleet from a JSON file, and then answers one-line commands on stdin:

  sns        prints the SNS messages published so far, as one JSON line
  ecr        prints every repository's images {repo: [{digest, tags, size}]}, as one JSON line
  stats      prints request counts per operation {op: {"attempts": n, "faults": n}}
  bucket B   creates an empty S3 bucket B
  fanout J   runs the fan-out state machine once (fanout.py), J = {"binary", "env", "bucket", "name"}
  quit       stops (so does closing stdin)

Gaps filled: image sizes of 20 to 400 MiB; DescribeJobDefinitions takes `name:revision`; App Runner (absent from moto) answers as an account without services; tasks are created in the backend with containers'
imageDigest set; untagged images (a tag moved) keep existing; ListTasks filters by serviceName;
services carry ACTIVE deployments and current service revisions, and DescribeServiceRevisions
answers from them; pull times and archived status are set on images; deleting a child of an image
index is refused like ECR does, and every deleted image id is listed in the answer (moto
leaves out untagged ones). Faults can be injected per operation: throttling for the first N
attempts, or a permanent AccessDeniedException. A fixed latency can be added to every request.

Usage: python harness.py FLEET.json [--throttle OP=N ...] [--deny OP ...] [--hang OP ...] [--latency-ms MS]
The first line printed is {"endpoint": URL, "digests": {image id: digest}, "tasks": {...}}.
"""

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

import boto3
from moto.ecr import models as ecr_models
from moto.ecr.models import ecr_backends
from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses
from moto.ecs.models import ecs_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sns.models import sns_backends
from werkzeug.serving import make_server

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DAY = 86400
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


# --- Faults, latency and counting, as WSGI middleware --------------------------------------

# Paged list operations of the JSON protocols: operation → (list key, default page, largest page).
PAGED = {
    "ListClusters": ("clusterArns", 100, 100),
    "ListServices": ("serviceArns", 10, 100),
    "ListTasks": ("taskArns", 100, 100),
    "ListTaskDefinitions": ("taskDefinitionArns", 100, 100),
    "ListTaskDefinitionFamilies": ("families", 100, 100),
    "DescribeRepositories": ("repositories", 100, 1000),
    "DescribeImages": ("imageDetails", 100, 1000),
}
# Batch operations: operation → (list key in the request, largest batch).
BATCHES = {
    "DescribeServices": ("services", 10),
    "DescribeTasks": ("tasks", 100),
    "DescribeServiceRevisions": ("serviceRevisionArns", 20),
    "BatchGetImage": ("imageIds", 100),
    "BatchDeleteImage": ("imageIds", 100),
}


# REST operations (Batch, Scheduler): (method, path prefix, depth) → operation.
REST = {
    ("POST", "/v1/describejobdefinitions"): "DescribeJobDefinitions",
    ("POST", "/v1/describejobqueues"): "DescribeJobQueues",
    ("POST", "/v1/listjobs"): "ListJobs",
    ("POST", "/v1/describejobs"): "DescribeJobs",
}


def rest_operation(method, path):
    if (method, path) in REST:
        return REST[(method, path)]
    parts = [p for p in path.split("/") if p]
    if method == "GET" and parts[:1] == ["schedules"]:
        return "ListSchedules" if len(parts) == 1 else "GetSchedule"
    return None


class Middleware:
    """Counts requests per operation (first attempts and retries apart); injects latency,
    throttling and denials; pages list answers and enforces batch limits as AWS does (moto does
    neither)."""

    def __init__(self, app, throttle, deny, latency_ms):
        self.app = app
        self.throttle = throttle
        self.deny = set(deny)
        self.hang = set()
        self.latency = latency_ms / 1000.0
        self.lock = threading.Lock()
        self.attempts = defaultdict(int)
        self.retries = defaultdict(int)
        self.faults = defaultdict(int)
        self.busy = defaultdict(float)

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        op = target.rsplit(".", 1)[-1] if target else None
        if target.startswith("AppRunner."):
            op = f"apprunner:{op}"  # not to be counted with ECS's ListServices
        path = environ.get("PATH_INFO", "")
        if op is None and path.startswith("/2015-03-31/functions"):
            parts = [p for p in path.split("/") if p]
            op = {2: "ListFunctions", 3: "GetFunction"}.get(len(parts))
            if len(parts) == 4:
                op = {"versions": "ListVersionsByFunction", "aliases": "ListAliases"}.get(parts[3], parts[3])
        if op is None:
            op = rest_operation(environ.get("REQUEST_METHOD"), path)
        if op is None and environ.get("REQUEST_METHOD") == "POST":
            # Query protocol (SNS, STS): the action is in the form body.
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            import io
            environ["wsgi.input"] = io.BytesIO(body)
            for part in body.decode(errors="replace").split("&"):
                if part.startswith("Action="):
                    op = part[len("Action="):]
        if self.latency:
            time.sleep(self.latency)
        if op in self.hang:
            time.sleep(3600)  # a call that never answers: only a deadline ends the run
        if op:
            retry = not environ.get("HTTP_AMZ_SDK_REQUEST", "attempt=1").startswith("attempt=1")
            with self.lock:
                n = self.attempts[op]
                self.attempts[op] += 1
                if retry:
                    self.retries[op] += 1
                error = None
                if op in self.deny:
                    error = ("AccessDeniedException", f"User is not authorized to perform {op}")
                elif n < self.throttle.get(op, 0):
                    error = ("ThrottlingException", "Rate exceeded")
                if error:
                    self.faults[op] += 1
            if error:
                body = json.dumps({"__type": error[0], "message": error[1]}).encode()
                start_response("400 Bad Request", [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-ErrorType", error[0]),
                    ("Content-Length", str(len(body))),
                ])
                return [body]
            started = time.monotonic()
            try:
                if target.startswith("AppRunner."):
                    return self.apprunner(op.split(":")[1], start_response)
                if op in PAGED or op in BATCHES:
                    return self.paged(op, environ, start_response)
                return [b"".join(self.app(environ, start_response))]
            finally:
                with self.lock:
                    self.busy[op] += time.monotonic() - started
        return self.app(environ, start_response)

    def paged(self, op, environ, start_response):
        import io
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        if op in BATCHES:
            key, limit = BATCHES[op]
            if len(request.get(key, [])) > limit:
                body = json.dumps({"__type": "InvalidParameterException",
                                   "message": f"{op} takes at most {limit} {key}"}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                                   ("Content-Length", str(len(body)))])
                return [body]
        page = token = None
        if op in PAGED and not (op == "DescribeImages" and request.get("imageIds")):
            key, default, largest = PAGED[op]
            page = min(int(request.pop("maxResults", default)), largest)
            token = int(request.pop("nextToken", 0) or 0)
        raw = json.dumps(request).encode()
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        if page is not None and captured["status"].startswith("200"):
            answer = json.loads(body)
            items = answer.get(key, [])
            answer[key] = items[token:token + page]
            if token + page < len(items):
                answer["nextToken"] = str(token + page)
            else:
                answer.pop("nextToken", None)
            body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]

    def apprunner(self, op, start_response):
        """App Runner is not in moto: an account without App Runner services."""
        answers = {"ListServices": {"ServiceSummaryList": []}}
        status = "200 OK" if op in answers else "400 Bad Request"
        answer = answers.get(op, {"__type": "InvalidRequestException", "message": f"{op} is not emulated"})
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/x-amz-json-1.0"),
                                ("Content-Length", str(len(body)))])
        return [body]

    def stats(self):
        with self.lock:
            return {op: {"attempts": n, "first_attempts": n - self.retries.get(op, 0),
                         "retries": self.retries.get(op, 0), "faults": self.faults.get(op, 0),
                         "emulator_busy_s": round(self.busy.get(op, 0.0), 3)}
                    for op, n in sorted(self.attempts.items())}


# --- Filling moto's gaps ----------------------------------------------------------------------

def patch_moto():
    # Image sizes as a registry shows them: 20 to 400 MiB, fixed by the digest (moto answers the
    # manifest's config size, 1000 bytes here). An index has none, as in ECR.
    def image_size(self):
        if "layers" not in json.loads(self.image_manifest):
            return None
        return (20 + int(self.get_image_digest()[7:15], 16) % 380) * 1024 * 1024

    ecr_models.Image.get_image_size_in_bytes = image_size
    # ListTasks: filter by serviceName (moto ignores it) through the task's group.
    original_list_tasks = ecs_models.EC2ContainerServiceBackend.list_tasks

    def list_tasks(self, cluster_str=None, container_instance=None, family=None,
                   started_by=None, service_name=None, desiredStatus=None):
        tasks = original_list_tasks(self, cluster_str, container_instance, family, started_by,
                                    None, desiredStatus or "RUNNING")
        if service_name:
            name = service_name.rsplit("/", 1)[-1]
            tasks = [t for t in tasks if t.group == f"service:{name}"]
        return tasks

    ecs_models.EC2ContainerServiceBackend.list_tasks = list_tasks

    # DescribeServiceRevisions: answer from what the fleet pinned.
    def describe_service_revisions(self):
        arns = self._get_param("serviceRevisionArns", [])
        revisions, failures = [], []
        for arn in arns:
            revision = REVISIONS.get(arn)
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                revisions.append(revision)
        return ecs_responses.ActionResult({"serviceRevisions": revisions, "failures": failures})

    ecs_responses.EC2ContainerServiceResponse.describe_service_revisions = describe_service_revisions

    # BatchDeleteImage: ECR refuses to delete an image an existing index still lists.
    original_delete = ecr_models.ECRBackend.batch_delete_image

    def batch_delete_image(self, repository_name, registry_id=None, image_ids=None):
        repository = self.repositories.get(repository_name)
        refused = []
        if repository is not None and image_ids:
            deleting = {i.get("imageDigest") for i in image_ids}
            listed = set()
            for image in repository.images:
                if image.image_digest in deleting:
                    continue
                if image.image_manifest_media_type == INDEX_TYPE:
                    listed |= {m["digest"] for m in json.loads(image.image_manifest).get("manifests", [])}
            keep = []
            for i in image_ids:
                if i.get("imageDigest") in listed:
                    refused.append({
                        "imageId": i,
                        "failureCode": "ImageReferencedByManifestList",
                        "failureReason": "Requested image referenced by manifest list",
                    })
                else:
                    keep.append(i)
            image_ids = keep
        result = original_delete(self, repository_name, registry_id, image_ids) if image_ids else {"imageIds": [], "failures": []}
        # moto lists a deleted image once per tag, so an untagged one not at all; ECR lists every
        # deleted image id.
        listed_ids = {getattr(i, "image_digest", None) for i in result["imageIds"]}
        failed = {f.get("imageId", {}).get("imageDigest") for f in result.get("failures", [])}
        remaining = {i.image_digest for i in repository.images} if repository is not None else set()
        for i in image_ids or []:
            d = i.get("imageDigest")
            if d and d not in listed_ids and d not in failed and d not in remaining:
                result["imageIds"].append({"imageDigest": d})
        result["failures"] = list(result.get("failures", [])) + refused
        return result

    ecr_models.ECRBackend.batch_delete_image = batch_delete_image

    # AssumeRole: moto hands out credentials for any role ARN; IAM refuses a role that does not
    # exist, and one whose trust policy requires another external id.
    from moto.sts import models as sts_models
    from moto.sts.exceptions import STSClientError
    original_assume = sts_models.STSBackend.assume_role

    def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
        known = role_arn in ROLES or role_arn.endswith(f":role/{SEED_ROLE}")
        if not known or (ROLES.get(role_arn) is not None and ROLES[role_arn] != external_id):
            raise STSClientError("AccessDenied", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/warden is not "
                                 f"authorized to perform: sts:AssumeRole on resource: {role_arn}")
        return original_assume(self, region_name, role_session_name, role_arn, policy, duration, external_id)

    sts_models.STSBackend.assume_role = assume_role

    # DescribeJobDefinitions by id: Batch takes `name:revision` as well as an ARN (moto only ARNs).
    from moto.batch import models as batch_models
    original_get = batch_models.BatchBackend.get_job_definitions

    def get_job_definitions(self, identifier):
        name, _, revision = identifier.rpartition(":")
        if name and revision.isdigit() and not identifier.startswith("arn:"):
            return [d for d in self._job_definitions.values() if d.name == name and str(d.revision) == revision]
        return original_get(self, identifier)

    batch_models.BatchBackend.get_job_definitions = get_job_definitions


REVISIONS = {}
DIGESTS = {}
# Role ARN → the external id it requires (None: none). AssumeRole into any other role is refused,
# as IAM would refuse a role that does not exist or does not trust the caller.
ROLES = {}
SEED_ROLE = "harness-seed"


# --- Seeding a fleet --------------------------------------------------------------------------

def manifest_for(image_id, children_digests=None):
    if children_digests is not None:
        body = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [
            {"mediaType": MANIFEST_TYPE, "digest": d, "size": 100,
             "platform": {"architecture": arch, "os": "linux"}}
            for d, arch in zip(children_digests, ["amd64", "arm64", "s390x", "ppc64le"])]}
        media = INDEX_TYPE
    else:
        config = "sha256:" + hashlib.sha256(f"config {image_id}".encode()).hexdigest()
        layer = "sha256:" + hashlib.sha256(f"layer {image_id}".encode()).hexdigest()
        body = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1000},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1000}]}
        media = MANIFEST_TYPE
    text = json.dumps(body, sort_keys=True)
    return text, media, "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def expand(image, digests):
    """ECR/repo:tag → full host; {id} → that image's digest."""
    image = image.replace("ECR/", HOST + "/")
    while "{" in image:
        start = image.index("{")
        end = image.index("}", start)
        image = image[:start] + digests[image[start + 1:end]] + image[end + 1:]
    return image


def seed(fleet, endpoint):
    """The registry account's fleet, then each other scope's (another account, another region)."""
    digests, tasks = seed_scope(fleet, endpoint, ACCOUNT, REGION)
    for org in [fleet["organization"]] if fleet.get("organization") else []:
        seed_organization(org)
    for scope in fleet.get("scopes", []):
        account, region = scope.get("account", ACCOUNT), scope["region"]
        if scope.get("scan_role", True) and account != ACCOUNT:
            ROLES[f"arn:aws:iam::{account}:role/ecr-warden-scan"] = scope.get("external_id")
        _, more = seed_scope(scope, endpoint, account, region)
        tasks.update(more)
    return digests, tasks


def credentials_for(endpoint, account):
    """Credentials that moto maps to `account` (an assumed role there)."""
    if account == ACCOUNT:
        return dict(aws_access_key_id="test", aws_secret_access_key="test")
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="test", aws_secret_access_key="test")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{SEED_ROLE}",
                            RoleSessionName="seed")["Credentials"]
    return dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])


def seed_organization(org):
    """An organization managed by the registry account, with member accounts of chosen ids."""
    from moto.organizations.models import organizations_backends
    backend = organizations_backends[ACCOUNT]["aws"]
    backend.create_organization(region="us-east-1", FeatureSet="ALL")
    for member in org["accounts"]:
        account = backend.create_account(AccountName=f"member-{member['id']}", Email=f"{member['id']}@example.com")
        created = next(a for a in backend.accounts if a.id == account["CreateAccountStatus"]["AccountId"])
        created.id = member["id"]
        created.state = member.get("state", "ACTIVE")
        created.status = "ACTIVE" if created.state == "ACTIVE" else "SUSPENDED"


def seed_scope(fleet, endpoint, account, region):
    kw = dict(endpoint_url=endpoint, region_name=region, **credentials_for(endpoint, account))
    ecr = boto3.client("ecr", **kw)
    ecs = boto3.client("ecs", **kw)
    sns = boto3.client("sns", **kw)
    now = int(datetime.now(timezone.utc).timestamp())
    digests = DIGESTS

    for topic in fleet.get("topics", []):
        sns.create_topic(Name=topic)

    backend = ecr_backends[account][region]
    for repo, images in fleet.get("repositories", {}).items():
        ecr.create_repository(repositoryName=repo)
        # Children before their indexes.
        ordered = sorted(images, key=lambda i: 1 if i.get("children") else 0)
        for spec in ordered:
            children = [digests[c] for c in spec["children"]] if spec.get("children") else None
            text, media, digest = manifest_for(f"{repo}/{spec['id']}", children)
            digests[spec["id"]] = digest
            # GUARD stands for a guard tag (inuse- and 12 hex digits of the digest).
            tags = [f"inuse-{digest[7:19]}" if t == "GUARD" else t for t in spec.get("tags", [])]
            ecr.put_image(repositoryName=repo, imageManifest=text, imageManifestMediaType=media,
                          imageDigest=digest, imageTag=tags[0] if tags else f"seed-{spec['id']}")
            image = next(i for i in backend.repositories[repo].images if i.image_digest == digest)
            for tag in tags[1:]:
                image.update_tag(tag)
            if not tags:  # pushed by digest, or its tag has moved on since
                image.image_tags = []
                image.image_tag = None
            image.image_pushed_at = now - int(spec.get("pushed_days_ago", 0) * DAY)
            if "pulled_days_ago" in spec:
                image.last_recorded_pull_time = now - int(spec["pulled_days_ago"] * DAY)
            if spec.get("status"):
                image.image_status = spec["status"]
            else:
                image.image_status = "ACTIVE"
        for spec in images:
            if spec.get("deleted"):
                # Pushed, used, then deleted: the digest is known to the fleet but gone from ECR.
                backend.batch_delete_image(repo, None, [{"imageDigest": digests[spec["id"]]}])

    for repo, policy in fleet.get("lifecycle_policies", {}).items():
        ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=json.dumps(policy))
    for repo, policy in fleet.get("repository_policies", {}).items():
        ecr.set_repository_policy(repositoryName=repo, policyText=json.dumps(policy))
    if fleet.get("registry_policy"):
        ecr.put_registry_policy(policyText=json.dumps(fleet["registry_policy"]))

    for td in fleet.get("task_definitions", []):
        ecs.register_task_definition(family=td["family"], containerDefinitions=[
            {"name": c["name"], "image": expand(c["image"], digests), "memory": 128} for c in td["containers"]])
    for name in fleet.get("deregistered", []):
        ecs.deregister_task_definition(taskDefinition=name)

    seed_consumers(fleet, kw, now, account, region)
    ecs_backend = ecs_backends[account][region]
    tasks_out = {}
    for cluster, spec in fleet.get("clusters", {}).items():
        ecs.create_cluster(clusterName=cluster)
        for svc in spec.get("services", []):
            ecs.create_service(cluster=cluster, serviceName=svc["name"], taskDefinition=svc["task_definition"], desiredCount=1)
            service = ecs_backend.services[f"{cluster}:{svc['name']}"]
            for older in svc.get("active", []):
                arn = ecs_backend.describe_task_definition(older).arn
                service.deployments.append(dict(service.deployments[0], id=f"ecs-svc/{older}", status="ACTIVE", taskDefinition=arn))
            if svc.get("pins"):
                arn = f"arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{svc['name']}/1"
                service.current_service_revisions = [{"arn": arn, "requestedTaskCount": 1, "runningTaskCount": 1, "pendingTaskCount": 0}]
                td = ecs_backend.describe_task_definition(svc["task_definition"])
                images = {c["name"]: c["image"] for c in td.container_definitions}
                REVISIONS[arn] = {
                    "serviceRevisionArn": arn,
                    "serviceArn": service.arn,
                    "clusterArn": service.cluster_arn,
                    "taskDefinition": td.arn,
                    "containerImages": [
                        {"containerName": name, "imageDigest": digests[pin], "image": images.get(name, "")}
                        for name, pin in svc["pins"].items()],
                }
        cluster_obj = ecs_backend.clusters[cluster]
        for svc in spec.get("services", []):
            # moto reports no running task for any service: count the fleet's (or take "running").
            group = f"service:{svc['name']}"
            running = svc.get("running", sum(1 for t in spec.get("tasks", []) if t.get("group") == group))
            ecs_backend.services[f"{cluster}:{svc['name']}"].running_count = running
        for i, task in enumerate(spec.get("tasks", [])):
            td = ecs_backend.describe_task_definition(task["task_definition"])
            t = ecs_models.Task(cluster_obj, td, None, {}, ecs_backend, task.get("group", f"family:{td.family}"))
            t.last_status = "RUNNING"
            # moto models one container per task definition; give it the pinned digest.
            for container in t.containers:
                pin = task.get("digests", {}).get(container.name)
                if pin:
                    container.image_digest = digests[pin]
                container.last_status = "RUNNING"
            ecs_backend.tasks.setdefault(cluster, {})[t.task_arn] = t
            tasks_out[task.get("name", f"{cluster}-{i}")] = t.task_arn
    return digests, tasks_out


def seed_consumers(fleet, kw, now, account, region):
    """EventBridge rules, Scheduler schedules, Batch job definitions and usage documents in S3."""
    role = f"arn:aws:iam::{account}:role/runner"
    cluster = f"arn:aws:ecs:{region}:{account}:cluster/prod"
    events = boto3.client("events", **kw)
    for rule in fleet.get("rules", []):
        bus = rule.get("bus", "default")
        if bus != "default":
            try:
                events.create_event_bus(Name=bus)
            except events.exceptions.ResourceAlreadyExistsException:
                pass
        events.put_rule(Name=rule["name"], EventBusName=bus, State=rule.get("state", "ENABLED"),
                        EventPattern=json.dumps({"source": ["ecr-warden.test"]}))
        targets = []
        for t in rule["targets"]:
            if "ecs_task_definition" in t:
                targets.append({"Id": t["id"], "Arn": cluster, "RoleArn": role,
                                "EcsParameters": {"TaskDefinitionArn": t["ecs_task_definition"]}})
            elif "batch_job_definition" in t:
                targets.append({"Id": t["id"], "Arn": f"arn:aws:batch:{region}:{account}:job-queue/q", "RoleArn": role,
                                "BatchParameters": {"JobDefinition": t["batch_job_definition"], "JobName": "job"}})
            else:
                targets.append({"Id": t["id"], "Arn": f"arn:aws:sqs:{region}:{account}:queue"})
        events.put_targets(Rule=rule["name"], EventBusName=bus, Targets=targets)

    scheduler = boto3.client("scheduler", **kw)
    for spec in fleet.get("schedules", []):
        group = spec.get("group", "default")
        if group != "default":
            try:
                scheduler.create_schedule_group(Name=group)
            except Exception:  # the group exists already
                pass
        target = {"Arn": spec["arn"], "RoleArn": role}
        if "input" in spec:
            target["Input"] = spec["input"] if isinstance(spec["input"], str) else json.dumps(spec["input"])
        if "ecs_task_definition" in spec:
            target["EcsParameters"] = {"TaskDefinitionArn": spec["ecs_task_definition"]}
        scheduler.create_schedule(Name=spec["name"], GroupName=group, ScheduleExpression="rate(1 day)",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=target)

    batch = boto3.client("batch", **kw)
    for jd in fleet.get("job_definitions", []):
        batch.register_job_definition(jobDefinitionName=jd["name"], type="container", containerProperties={
            "image": expand(jd["image"], DIGESTS), "vcpus": 1, "memory": 128})

    s3 = boto3.client("s3", **kw)
    from moto.s3.models import s3_backends
    for doc in fleet.get("usage_documents", []):
        bucket, key = doc["location"].split("/", 1)
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        written = now - int(doc.get("hours_old", 0) * 3600)
        images = [expand(i, DIGESTS) for i in doc.get("images", [])]
        if "text" in doc:
            body = doc["text"]
        elif doc.get("format") == "text":
            body = "".join(f"{i}\n" for i in images)
        else:
            stamp = datetime.fromtimestamp(written, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = json.dumps({"source": doc.get("source", key), "generated_at": stamp, "images": images})
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        s3_backends[account]["aws"].buckets[bucket].keys[key].last_modified = datetime.fromtimestamp(written, timezone.utc)


# --- A generated fleet for benchmarks ------------------------------------------------------------

STANDARD = dict(repositories=50, images=1000, clusters=10, services=30, tasks=3,
                families=300, revisions=20, functions=20)


# A large account: thousands of revisions CI registered, and some services stuck on old ones.
LARGE = dict(repositories=50, images=200, clusters=10, services=100, tasks=1,
             families=2000, revisions=30, functions=0, stale_every=10)
# The fleet the peer tool is compared on: 10,020 images, 100 services, 3 revisions per family, and
# some services pinned to digests whose tag moved on (the digest is untagged, still in use).
PEER = dict(repositories=10, images=1002, clusters=4, services=25, tasks=1,
            families=100, revisions=3, functions=0, overwritten_every=10)

ORG = dict(members=20, regions=["us-east-1", "eu-west-1"],
           home=dict(repositories=10, images=50, clusters=1, services=2, tasks=1, families=4, revisions=3, functions=0),
           member=dict(repositories=0, images=0, clusters=1, services=2, tasks=1, families=4, revisions=3, functions=0))


def generate(endpoint, sizes):
    """Seeds a large fleet straight into moto's backends (the API would take minutes). Every
    service runs the newest revision of its own family; task definitions name tags spread over the
    repositories; the rest of each repository is unused history."""
    repos, digests = generate_registry(sizes)
    services, needed = generate_scope(endpoint, sizes, ACCOUNT, REGION, repos, digests)
    return {"repositories": len(repos), "images": len(repos) * sizes["images"], "services": services,
            "needed_describes": needed}


def generate_organization(endpoint):
    """A central registry and an organization of members, each running a small fleet from it in
    every region: the members' scan roles exist."""
    repos, digests = generate_registry(ORG["home"])
    services, _ = generate_scope(endpoint, ORG["home"], ACCOUNT, REGION, repos, digests)
    for m in range(ORG["members"]):
        account = f"{200000000000 + m:012d}"
        ROLES[f"arn:aws:iam::{account}:role/ecr-warden-scan"] = None
        for region in ORG["regions"]:
            services += generate_scope(endpoint, ORG["member"], account, region, repos, digests)[0]
    return {"repositories": len(repos), "images": len(repos) * ORG["home"]["images"], "services": services,
            "members": ORG["members"], "regions": ORG["regions"]}


def generate_registry(sizes):
    now = int(datetime.now(timezone.utc).timestamp())
    ecr = ecr_backends[ACCOUNT][REGION]
    repos = [f"team-{r % 5}/service-{r}" for r in range(sizes["repositories"])]
    digests = {}
    for name in repos:
        ecr.create_repository(name, None, None, None, None, None, None)
        repo = ecr.repositories[name]
        for i in range(sizes["images"]):
            text, media, digest = manifest_for(f"{name}/{i}")
            image = ecr_models.Image(ACCOUNT, f"build-{i}", text, name, media, digest)
            image.image_pushed_at = now - i * 3600
            image.image_status = "ACTIVE"
            repo.images.append(image)
            digests[(name, f"build-{i}")] = digest
    return repos, digests


def generate_scope(endpoint, sizes, account, region, repos, digests):
    """One account and region's ECS fleet (and Lambda functions) using the registry's images.
    Every `stale_every`-th service runs its family's first revision; every `overwritten_every`-th
    runs a digest whose tag has since moved to another image. Returns the services and how many
    task-definition revisions the revision rule needs described (one rollback revision)."""
    images = max(len(digests) // max(len(repos), 1), 1)
    ecs = ecs_backends[account][region]
    stale_every, overwritten_every = sizes.get("stale_every", 0), sizes.get("overwritten_every", 0)
    oldest = {}  # family -> the oldest revision a service runs

    def image_of(family, revision):
        name = repos[(family * 7 + revision) % len(repos)]
        tag = f"build-{(family * 13 + revision * 31) % images}"
        return name, tag

    for f in range(sizes["families"]):
        for rev in range(1, sizes["revisions"] + 1):
            name, tag = image_of(f, rev)
            ecs.register_task_definition(f"family-{f}", [{"name": "app", "image": f"{HOST}/{name}:{tag}", "memory": 128}])
    service_count = 0
    for c in range(sizes["clusters"]):
        cluster = f"cluster-{c}"
        ecs.create_cluster(cluster)
        cluster_obj = ecs.clusters[cluster]
        for s in range(sizes["services"]):
            n = c * sizes["services"] + s
            f = n % sizes["families"]
            revision = 1 if stale_every and n % stale_every == 0 else sizes["revisions"]
            oldest[f] = min(oldest.get(f, revision), revision)
            td = ecs.describe_task_definition(f"family-{f}:{revision}")
            service = ecs.create_service(cluster, f"service-{s}", 1, td.arn)
            service.running_count = sizes["tasks"]
            name, tag = image_of(f, revision)
            digest = digests[(name, tag)]
            if overwritten_every and n % overwritten_every == 0:
                digest = untagged_image(account, region, name, f"{cluster}/service-{s}")
            arn = f"arn:aws:ecs:{region}:{account}:service-revision/{cluster}/service-{s}/1"
            service.current_service_revisions = [{"arn": arn}]
            REVISIONS[arn] = {"serviceRevisionArn": arn, "serviceArn": service.arn, "clusterArn": cluster_obj.arn,
                              "taskDefinition": td.arn,
                              "containerImages": [{"containerName": "app", "image": f"{HOST}/{name}:{tag}",
                                                   "imageDigest": digest}]}
            for t in range(sizes["tasks"]):
                task = ecs_models.Task(cluster_obj, td, None, {}, ecs, f"service:service-{s}")
                task.last_status = "RUNNING"
                for container in task.containers:
                    container.image_digest = digest
                ecs.tasks.setdefault(cluster, {})[task.task_arn] = task
            service_count += 1
    if sizes["functions"]:
        kw = dict(endpoint_url=endpoint, region_name=region, **credentials_for(endpoint, account))
        iam = boto3.client("iam", **kw)
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kw)
        for n in range(sizes["functions"]):
            name = repos[n % len(repos)]
            lam.create_function(FunctionName=f"function-{n}", PackageType="Image", Role=role,
                                Code={"ImageUri": f"{HOST}/{name}:build-{n}"})
    r = sizes["revisions"]
    needed = sum(r - low + 1 + (1 if low > 1 else 0) for low in oldest.values())
    needed += sizes["families"] - len(oldest)
    return service_count, needed


def untagged_image(account, region, name, label):
    """An image whose tag was overwritten: pushed days ago, now without a tag."""
    repo = ecr_backends[account][region].repositories[name]
    text, media, digest = manifest_for(f"{name}/overwritten/{label}")
    image = ecr_models.Image(account, None, text, name, media, digest)
    image.image_pushed_at = int(datetime.now(timezone.utc).timestamp()) - 30 * 86400
    image.image_status = "ACTIVE"
    image.image_tags = []
    repo.images.append(image)
    return digest


# --- Commands ---------------------------------------------------------------------------------

def sns_messages():
    out = []
    for topic in sns_backends[ACCOUNT][REGION].topics.values():
        for message_id, message, subject, attributes, _ in getattr(topic, "sent_notifications", []):
            out.append({"topic": topic.arn, "subject": subject, "message": message,
                        "attributes": {k: v.get("Value", v.get("StringValue")) if isinstance(v, dict) else v
                                       for k, v in (attributes or {}).items()}})
    return out


def ecr_state():
    backend = ecr_backends[ACCOUNT][REGION]
    return {name: sorted(({"digest": i.image_digest, "tags": sorted(i.image_tags),
                           "size": i.image_size_in_bytes} for i in repo.images),
                         key=lambda x: x["digest"])
            for name, repo in backend.repositories.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fleet", help="a fleet file, or 'generate:standard' / 'generate:small' / 'generate:organization'")
    parser.add_argument("--throttle", action="append", default=[], help="OP=N: throttle the first N attempts")
    parser.add_argument("--deny", action="append", default=[], help="OP: always AccessDeniedException")
    parser.add_argument("--hang", action="append", default=[], help="OP: never answer")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()

    patch_moto()
    throttle = {op: int(n) for op, n in (t.split("=") for t in args.throttle)}
    app = Middleware(DomainDispatcherApplication(create_backend_app), {}, [], 0)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"

    if args.fleet == "generate:organization":
        generated = generate_organization(endpoint)
        digests, tasks = {}, {"sizes": ORG, "generated": generated}
    elif args.fleet.startswith("generate:"):
        sizes = dict({"generate:large": LARGE, "generate:peer": PEER}.get(args.fleet, STANDARD))
        if args.fleet == "generate:small":
            sizes.update(repositories=3, images=20, clusters=2, services=3, tasks=2, families=5, revisions=3, functions=2)
        generated = generate(endpoint, sizes)
        digests, tasks = {}, {"sizes": sizes, "generated": generated}
    else:
        with open(args.fleet) as f:
            fleet = json.load(f)
        digests, tasks = seed(fleet, endpoint)
    # Faults and latency apply from here on, to the tool under test only.
    app.throttle, app.deny, app.latency = throttle, set(args.deny), args.latency_ms / 1000.0
    app.hang = set(args.hang)
    app.attempts.clear()

    print(json.dumps({"endpoint": endpoint, "digests": digests, "tasks": tasks}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "sns":
            print(json.dumps(sns_messages()), flush=True)
        elif command == "ecr":
            print(json.dumps(ecr_state()), flush=True)
        elif command == "stats":
            print(json.dumps(app.stats()), flush=True)
        elif command == "reset-stats":
            with app.lock:
                app.attempts.clear()
                app.retries.clear()
                app.faults.clear()
                app.busy.clear()
            print("{}", flush=True)
        elif command.startswith("bucket "):
            # An empty bucket of this account, for documents a test writes.
            from moto.s3.models import s3_backends
            s3_backends[ACCOUNT]["aws"].create_bucket(command.split(" ", 1)[1], REGION)
            print("{}", flush=True)
        elif command.startswith("fanout "):
            # One execution of the fan-out state machine, every invocation the real binary.
            import fanout
            if not fanout.function["binary"]:
                fanout.install(endpoint)
            print(json.dumps(fanout.run(endpoint, json.loads(command.split(" ", 1)[1]))), flush=True)
        elif command == "quit":
            break
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
