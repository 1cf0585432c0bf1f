"""AsyncAPI 3.0 document of a service: the topic it publishes, the topics its consumers read.

FastStream generates the document from a broker declared offline (never started): the server,
one channel per topic with its Kafka binding, a `send` operation on the service's own topic, a
`receive` operation per consumer group, declared by the very code that subscribes them at run
time (`Runtime._subscribe`). What FastStream cannot say is added to it: one message per event
type and version, with its JSON Schema payload as published (money as strings), its CloudEvents
headers and its key; the consumer group of each receive operation; the topics' retention.
"""

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.contracts.base import DomainEvent
from shared.contracts.publishers import PUBLISHED_BY, in_the_log
from shared.contracts.schemas import event_schema
from shared.contracts.upcasting import versions_of
from shared.kernel import topics
from shared.kernel.consumer import Subscription
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.settings import Settings

# The version of the published contract: minor for a new event type or version (the old ones
# stay in the log and readable), major when an event type or version disappears.
# 1.2.0: GrantReleased; 1.2.1: amounts, texts, SIRENs and départements described exactly.
API_VERSION = "1.2.1"
PREFIX = "aap"  # the documents name the topics under the default prefix
DEVELOPMENT = Settings.model_fields["kafka_bootstrap"].default  # the server the documents name
BINDING = "0.4.0"  # the Kafka bindings' version, as FastStream writes it
HEADERS = "CloudEventsHeaders"

_EXTENSIONS: dict[str, dict[str, Any]] = {
    "ce_aapstream": {"type": "string", "description": "the event's stream: its dossier id"},
    "ce_aapversion": {
        "type": "string",
        "pattern": "^[1-9][0-9]*$",
        "description": "the event's position in its dossier's stream: 1, 2, …",
    },
    "ce_aaphash": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "SHA-256 link of the dossier's hash chain, this event included",
    },
    "ce_aapprevhash": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "the link of the previous event of the stream",
    },
    "ce_aapactor": {
        "type": "string",
        "description": "who: `<role>:<subject>` for a person, `system:<consumer>` "
        "for a reaction of the platform",
    },
    "ce_aapcausation": {
        "type": "string",
        "format": "uuid",
        "description": "the ce_id of the event this one reacts to",
    },
    "traceparent": {"type": "string", "description": "W3C trace context"},
    "tracestate": {"type": "string", "description": "W3C trace context"},
}


def headers_schema() -> dict[str, Any]:
    """The Kafka headers of every event: CloudEvents 1.0 in binary mode, with our extensions."""
    core: dict[str, dict[str, Any]] = {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "the event's id, unique; a redelivery has the same: dedup by it",
        },
        "ce_source": {"type": "string", "description": "the service: /aap/<service>"},
        "ce_type": {"type": "string", "description": "fr.gouv.mildeca.aap.<Event>.v<version>"},
        "ce_subject": {
            "type": "string",
            "format": "uuid",
            "description": "the dossier id, also the record's key",
        },
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "when the event was recorded (ISO 8601, UTC)",
        },
        "ce_dataschema": {
            "type": "string",
            "description": "urn:aap:schemas:events:<Event>:v<version>, the `$id` "
            "of the payload's JSON Schema",
        },
        "content-type": {"const": "application/json"},
    }
    return {
        "type": "object",
        "required": list(core),
        "properties": {**core, **_EXTENSIONS},
        "description": "Optional headers may be added; ignore those you do not know.",
    }


def document(spec: ServiceSpec) -> dict[str, Any]:
    """The AsyncAPI document of a service, its topics under the default prefix."""
    rt = Runtime(spec, Settings(topic_prefix=PREFIX))
    rt.broker = KafkaBroker(
        DEVELOPMENT,
        specification_url=DEVELOPMENT,
        description="the development cluster of `./dev up`",
    )
    subscriptions = spec.subscriptions(rt)
    for subscription in subscriptions:
        rt._subscribe(subscription)
    own = rt.topic(spec.name)
    rt.broker.publisher(
        own,
        title=own,
        description=(
            f"The {spec.name} service's domain events, keyed by dossier id, kept forever."
        ),
    )
    generated = (
        AsyncAPI(
            rt.broker,
            title=f"aap {spec.name}",
            version=API_VERSION,
            schema_version="3.0.0",
            description=_description(spec.name),
        )
        .to_specification()
        .to_jsonable()
    )
    return _completed(generated, spec.name, own, {_title(spec.name, s): s for s in subscriptions})


def documents(specs: Mapping[str, ServiceSpec]) -> dict[str, str]:
    """File name → document text, one per service."""
    return {
        f"{name}.json": json.dumps(document(spec), indent=2, ensure_ascii=False) + "\n"
        for name, spec in specs.items()
    }


def write(folder: Path, specs: Mapping[str, ServiceSpec]) -> list[str]:
    texts = documents(specs)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    for name, text in texts.items():
        (folder / name).write_text(text)
    return list(texts)


def _description(service: str) -> str:
    return (
        f"What the {service} service publishes on its topic, and the topics its consumers "
        f"read, each in a consumer group of its own. Topics are named under the default "
        f"prefix `{PREFIX}`. Records are CloudEvents 1.0 in Kafka binary mode: the key is "
        "the dossier id, the `ce_*` headers say what the event is, the value is its JSON. "
        "An event type's older versions stay in the log: read them upcast to the latest "
        "(docs/integrators.md)."
    )


def _title(service: str, subscription: Subscription) -> str:
    return f"{service}.{subscription.consumer.name}"  # as Runtime._subscribe titles it


def _completed(
    doc: dict[str, Any], service: str, own: str, subscriptions: Mapping[str, Subscription]
) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {HEADERS: headers_schema()}
    publishers = {topics.events_topic(PREFIX, name): name for name in PUBLISHED_BY}
    for name, channel in doc["channels"].items():
        publisher = publishers.get(channel["address"], "")
        if name == own:
            models = in_the_log(service)
        else:
            subscription = _consumer_of(name, subscriptions)
            handled = subscription.consumer.handlers
            models = [
                v
                for model in PUBLISHED_BY.get(publisher, ())
                if model in handled
                for v in versions_of(model)
            ]
            channel["description"] = _reader(service, subscription)
        for model in models:
            messages[_key(model)] = _message(model, publisher, schemas)
        channel["messages"] = {
            _key(m): {"$ref": f"#/components/messages/{_key(m)}"} for m in models
        }
        channel["bindings"]["kafka"].update(_retention())
    for operation in doc["operations"].values():
        channel_name = operation["channel"]["$ref"].removeprefix("#/channels/")
        operation["messages"] = [
            {"$ref": f"#/channels/{channel_name}/messages/{key}"}
            for key in doc["channels"][channel_name]["messages"]
        ]
        if operation["action"] == "receive":
            consumer = _consumer_of(channel_name, subscriptions).consumer
            group = f"{PREFIX}.{service}.{consumer.name}"  # as Runtime._subscribe names it
            operation["bindings"] = {
                "kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": BINDING}
            }
    # FastStream keeps its subscribers in a set: their order is the process's, not the code's.
    doc["channels"] = dict(sorted(doc["channels"].items(), key=lambda kv: (kv[0] != own, kv[0])))
    doc["operations"] = dict(
        sorted(doc["operations"].items(), key=lambda kv: (kv[1]["action"] != "send", kv[0]))
    )
    doc["components"] = {
        "messages": dict(sorted(messages.items())),
        "schemas": dict(sorted(schemas.items())),
    }
    order = [
        "asyncapi",
        "info",
        "defaultContentType",
        "servers",
        "channels",
        "operations",
        "components",
    ]
    return {key: doc[key] for key in order if key in doc}


def _reader(service: str, subscription: Subscription) -> str:
    said = f"Read by the {service} service's consumer `{subscription.consumer.name}`"
    if subscription.read_models:
        return (
            f"{said}, a projection: its read models ({', '.join(subscription.read_models)}) "
            f"are rebuilt from offset 0 by `aap rebuild {service}`."
        )
    return f"{said}, which acts on each event once."


def _consumer_of(channel: str, subscriptions: Mapping[str, Subscription]) -> Subscription:
    # FastStream names a consumer's channel by its title, `title:topic` when it reads several.
    return subscriptions[channel.split(":")[0]]


def _key(model: type[DomainEvent]) -> str:
    return f"{model.name}.v{model.version}"


def _message(model: type[DomainEvent], service: str, schemas: dict[str, Any]) -> dict[str, Any]:
    payload = event_schema(model)
    del payload["$id"]  # an $id would move the base of the $refs out of the document
    for name, sub in payload.pop("$defs", {}).items():
        if schemas.setdefault(name, _moved(sub)) != _moved(sub):
            raise ValueError(f"two schemas named {name}: rename one of the models")
    schemas[_key(model)] = _moved(payload)
    latest = versions_of(model)[-1]
    message: dict[str, Any] = {
        "name": model.cloud_type(),
        "title": f"{model.name} v{model.version}",
    }
    if model.__doc__:
        message["summary"] = model.__doc__.splitlines()[0]
    if latest is not model:
        message["description"] = (
            f"An older version, still in the log: the platform reads it "
            f"upcast to v{latest.version}; a consumer from offset 0 meets "
            "it too (docs/integrators.md)."
        )
    return message | {
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS}"},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"const": model.cloud_type()},
                        "ce_dataschema": {"const": model.dataschema()},
                        "ce_source": {"const": f"/aap/{service}"},
                    },
                },
            ]
        },
        "payload": {"$ref": f"#/components/schemas/{_key(model)}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "format": "uuid",
                    "description": "the dossier id: one dossier's events "
                    "keep their order in the topic",
                },
                "bindingVersion": BINDING,
            }
        },
    }


def _moved(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's `#/$defs/X` references, pointing to the document's components instead."""
    text = re.sub(r'"#/\$defs/([^"]+)"', r'"#/components/schemas/\1"', json.dumps(schema))
    return dict(json.loads(text))


def _retention() -> dict[str, Any]:
    return {
        "partitions": Settings.model_fields["topic_partitions"].default,
        "topicConfiguration": {
            "cleanup.policy": ["delete"],
            "retention.ms": -1,
            "retention.bytes": -1,
        },
    }
