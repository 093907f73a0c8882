"""Extract what the API tests need from moby's Engine API description (api/docs/v1.44.yaml).

Usage: python3 scripts/api_spec_extract.py v1.44.yaml "moby/moby@<commit>" > tests/unit/data/api_v1.44.json
(read the description with `git show HEAD:api/docs/v1.44.yaml` in a moby clone; needs PyYAML,
Debian's python3-yaml). The output is small and stable: every operation's method, path and
success statuses, and for each JSON request body its field paths, which of its objects are
maps (JSON cannot tell a map from a struct; Go's decoder treats null in them differently) and
the kind of the items of its arrays that do not hold objects (a null item is that kind's zero).
"""

import json
import sys

import yaml

METHODS = ("get", "head", "post", "put", "delete")
# Bodies of the swarm-mode and plugin endpoints are left out: pydocker answers them 503.
UNSERVED_TAGS = {"Swarm", "Node", "Service", "Task", "Secret", "Config", "Plugin", "Session"}


def resolve(spec, schema):
    """The schema with $ref followed and allOf merged into one object schema."""
    while "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(resolve(spec, part).get("properties", {}))
        return merged
    return schema


def element_kind(spec, schema):
    """The JSON kind of a map's values: what Go stores for a null value is its zero value."""
    schema = resolve(spec, schema) if isinstance(schema, dict) else {}
    return schema.get("type") or ("object" if "properties" in schema else "any")


def walk(spec, schema, prefix, fields, maps, arrays, depth=0):
    schema = resolve(spec, schema)
    if depth > 8:
        return
    if isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
        maps[prefix] = element_kind(spec, schema["additionalProperties"])
        return
    for name, sub in sorted(schema.get("properties", {}).items()):
        path = f"{prefix}.{name}" if prefix else name
        fields.append(path)
        sub = resolve(spec, sub)
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            item = resolve(spec, sub["items"])
            if item.get("properties"):
                walk(spec, item, path + "[]", fields, maps, arrays, depth + 1)
            else:
                arrays[path] = element_kind(spec, item)
        elif sub.get("properties") or isinstance(sub.get("additionalProperties"), dict):
            walk(spec, sub, path, fields, maps, arrays, depth + 1)


def extract(spec, source):
    routes, bodies = [], {}
    for path, item in sorted(spec["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            statuses = sorted(int(code) for code in op["responses"] if str(code).startswith(("1", "2", "3")))
            routes.append([method.upper(), path, statuses])
            if UNSERVED_TAGS & set(op.get("tags", ())):
                continue
            for param in op.get("parameters", ()):
                if param.get("in") == "body" and "application/json" in op.get("consumes", ["application/json"]):
                    schema = resolve(spec, param.get("schema", {}))
                    if schema.get("properties"):
                        fields, maps, arrays = [], {}, {}
                        walk(spec, schema, "", fields, maps, arrays)
                        bodies[f"{method.upper()} {path}"] = {"fields": fields, "maps": maps, "arrays": arrays}
    return {"source": source, "routes": routes, "bodies": bodies}


def main():
    with open(sys.argv[1]) as f:
        spec = yaml.safe_load(f)
    json.dump(extract(spec, sys.argv[2]), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
