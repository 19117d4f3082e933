"""The toon processor on AWS: one Pulumi stack per environment (dev, staging, prod).

Read top to bottom, this is the map of the system. The topology itself (tables, queues,
rules, functions, routes, access) is declared once in `toons.aws.wiring`; the modules in
`infra/` turn it into resources, and `infra/settings.py` is the only reader of the
stack's configuration. docs/deploy.md tells how to deploy it.
"""

import pulumi

from infra import settings
from infra.api import Api, ApiArgs
from infra.auth import Auth
from infra.catalog import Catalog
from infra.functions import Functions, FunctionsArgs, code_archive
from infra.observability import Observability, ObservabilityArgs
from infra.pipeline import Pipeline
from infra.storage import Storage


def _camel(name: str) -> str:
    """`job-list` -> `jobList`: wiring's names as output names."""
    first, *rest = name.split("-")
    return first + "".join(word.title() for word in rest)


config = settings.load()

# State: the DynamoDB tables, and the key that signs bearer tokens.
storage = Storage("storage", config)
auth = Auth("auth", config)

# The flow between functions: queues, event bus and archive, rules, stream, topics.
pipeline = Pipeline("pipeline", config)

# One function per wiring entry, granted exactly what wiring says it touches.
catalog = Catalog(storage.handles(), auth.handles(), pipeline.handles())
functions = Functions("functions", FunctionsArgs(config, catalog, code_archive(config.code_asset)))

# The HTTP front door: wiring's routes, proxied to their functions.
api = Api("api", ApiArgs(config, functions.functions))

# Alarms on what needs a person, and a dashboard.
observability = Observability(
    "observability", ObservabilityArgs(config, functions.functions, pipeline, api)
)

pulumi.export("apiEndpoint", api.endpoint)
pulumi.export("busName", pipeline.bus.name)
pulumi.export("archiveName", pipeline.archive.name)
for name, table in storage.tables.items():
    pulumi.export(f"{_camel(name)}Table", table.name)
for name, queue in pipeline.queues.items():
    pulumi.export(f"{_camel(name)}QueueUrl", queue.url)
for name, stream in pipeline.streams.items():
    pulumi.export(f"{_camel(name)}Stream", stream.name)
pulumi.export("statusTopicArn", pipeline.status_topic.arn)
pulumi.export("alarmTopicArn", observability.alarm_topic.arn)
