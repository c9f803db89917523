"""schemathesis hooks for the contract tests (loaded through SCHEMATHESIS_HOOKS): the ETSI
files are adjusted at load time, the files on disk stay ETSI's, unchanged.

1. Type wrappers. The ETSI 2.4.1 SOL005 file was generated with every named data type
wrapped in an object whose only property is the type's name: the response of `GET /vnf_packages/{id}`
is declared as `{"VnfPkgInfo": {...}}`, the list items likewise, the body of
`PATCH /vnf_packages/{id}` as `{"VnfPkgInfoModifications": {...}}`. SOL005 itself (and
Tacker) send the type unwrapped. Since the wrapper neither requires its property nor
forbids others, a response validated against it passes whatever it holds, and generated
request bodies never reach the server's real checks.

`before_load_schema` puts the wrapped type in the wrapper's place, so responses are
validated against the real VnfPkgInfo / VnfPkgInfoModifications / ProblemDetails
schemas and the bodies sent are SOL005's.

2. Errors of the SOL003 VNF LCM files against SOL003 itself (FIXES, below): each one is
corrected narrowly, the docstring of its function says where SOL003 (and Tacker) differ.
A correction that no longer finds what it corrects stops the run, as the file changed.
"""

import schemathesis

# The wrapper's own keywords; a schema with any other keyword is not a pure wrapper.
WRAPPER_KEYWORDS = {"type", "properties", "required", "description"}


def unwrapped(schema):
    """The wrapped type's schema if `schema` is a wrapper, else None."""
    if not isinstance(schema, dict) or not set(schema) <= WRAPPER_KEYWORDS:
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict) or len(properties) != 1:
        return None
    (name, inner), = properties.items()
    # ETSI type names are UpperCamelCase; attributes are lowerCamelCase.
    if not name[:1].isupper() or not isinstance(inner, dict):
        return None
    if schema.get("type", "object") != "object" or schema.get("required", [name]) != [name]:
        return None
    return inner


def unwrap_all(node):
    """Replaces every wrapper below `node` by what it wraps; returns how many."""
    count = 0
    if isinstance(node, dict):
        for key, value in list(node.items()):
            inner = unwrapped(value) if key in ("schema", "items") else None
            if inner is not None:
                node[key] = inner
                count += 1
                value = inner
            count += unwrap_all(value)
    elif isinstance(node, list):
        for item in node:
            count += unwrap_all(item)
    return count


# How many wrappers each file has, by `info.title` and format: a file not listed here, or a
# count that changed, stops the run, as the checks would silently weaken (or the hook have
# matched something else). The SOL003 2.4.1 VNF LCM file and the OpenAPI 3 files of 3.3.1
# have no wrappers: their bodies and responses are the types themselves.
EXPECTED_WRAPPERS = {
    ("SOL005 - VNF Package Management Interface", "2.0"): 13,
    ("SOL003 - VNF Lifecycle Management interface", "2.0"): 0,
    ("SOL003 - VNF Lifecycle Management interface", "3.0.2"): 0,
}


def response(raw_schema, path, method, status):
    """The response object of an operation; a KeyError if the file has none."""
    return raw_schema["paths"][path][method]["responses"][status]


def not_required(schema, name):
    """Takes `name` out of `schema`'s required attributes (the file is dereferenced: each
    use of a type is a copy of its own)."""
    if name not in schema.get("required", []):
        raise RuntimeError(f"hooks.py: {name} is not required here any more")
    schema["required"] = [r for r in schema["required"] if r != name]


def fix_sol003_2_4_1(raw_schema):
    """Errors of the SOL003 2.4.1 VNF LCM file against SOL003 2.4.1 itself (and Tacker).

    - `GET /vnf_lcm_op_occs` and `GET /subscriptions` answer "an array of" VnfLcmOpOcc /
      LccnSubscription (SOL003 clauses 5.4.12.3.2 and 5.4.18.3.2); the file declares one
      object. The item schema is put in an array.
    - The 202 of scale, scale_to_level, change_flavour, terminate, heal, operate and
      change_ext_conn: "The response body shall be empty" (clauses 5.4.5.3.1 to 5.4.11.3.1,
      as the file's own instantiate does); the file declares a VnfInstance body. The body
      schema is dropped, so an empty body is what fits.
    - The items of `GET /vnf_lcm_op_occs` require `operationParams`, which the list leaves
      out unless asked for: "shall be excluded ... if none of the parameters all_fields,
      fields, exclude_fields, exclude_default are provided" (clause 5.4.12.3.2, with error,
      resourceChanges, changedInfo, changedExtConnectivity; Tacker does so too). It is not
      required of the list items.
    """
    for path in ("/vnf_lcm_op_occs", "/subscriptions"):
        ok = response(raw_schema, path, "get", "200")
        if ok["schema"].get("type") != "object":
            raise RuntimeError(f"hooks.py: GET {path} of SOL003 2.4.1 changed")
        ok["schema"] = {"type": "array", "items": ok["schema"]}
    not_required(response(raw_schema, "/vnf_lcm_op_occs", "get", "200")["schema"]["items"],
                 "operationParams")
    for task in ("scale", "scale_to_level", "change_flavour", "terminate", "heal", "operate",
                 "change_ext_conn"):
        accepted = response(raw_schema, f"/vnf_instances/{{vnfInstanceId}}/{task}", "post", "202")
        if "schema" not in accepted:
            raise RuntimeError(f"hooks.py: POST {task} of SOL003 2.4.1 changed")
        del accepted["schema"]
        accepted.get("headers", {}).pop("Content-Type", None)


# SOL003 3.3.1 table 5.5.2.13-1, VnfLcmOpOcc: changedInfo and
# modificationsTriggeredByVnfPkgChange are both 0..1, "Not more than one of changedInfo and
# modificationsTriggeredByVnfPkgChange shall be present"; the file says exactly one.
EXACTLY_ONE_CHANGE = [
    {"required": ["changedInfo"]},
    {"required": ["modificationsTriggeredByVnfPkgChange"]},
]


def at_most_one_change(node):
    """Replaces the file's `oneOf` of the two by "not both"; returns how many."""
    count = 0
    if isinstance(node, dict):
        if node.get("oneOf") == EXACTLY_ONE_CHANGE:
            del node["oneOf"]
            node["not"] = {"required": ["changedInfo", "modificationsTriggeredByVnfPkgChange"]}
            count += 1
        for value in node.values():
            count += at_most_one_change(value)
    elif isinstance(node, list):
        for item in node:
            count += at_most_one_change(item)
    return count


# SOL003 3.3.1 clause 4.4.1.5, VnfInstanceSubscriptionFilter: every attribute is 0..N;
# vnfdIds / vnfProductsFromProviders, and vnfInstanceIds / vnfInstanceNames, "should not be
# used both in the same filter instance". The file requires one of each pair (or of the
# other pair), and names the first `vnfdId`, an attribute that does not exist: a filter on
# vnfdIds alone, or an empty one, would not fit.
AT_LEAST_ONE_OF_PAIRS = [
    {"oneOf": [{"required": ["vnfdId"]}, {"required": ["vnfProductsFromProviders"]}]},
    {"oneOf": [{"required": ["vnfInstanceIds"]}, {"required": ["vnfInstanceNames"]}]},
]


def no_required_pairs(node):
    """Drops the file's `anyOf` of VnfInstanceSubscriptionFilter; returns how many."""
    count = 0
    if isinstance(node, dict):
        if node.get("anyOf") == AT_LEAST_ONE_OF_PAIRS:
            del node["anyOf"]
            count += 1
        for value in node.values():
            count += no_required_pairs(value)
    elif isinstance(node, list):
        for item in node:
            count += no_required_pairs(item)
    return count


def fix_sol003_3_3_1(raw_schema):
    """Errors of the SOL003 3.3.1 VNF LCM file against SOL003 3.3.1 (and its own text).

    - `GET /vnf_lcm_op_occs` and `GET /subscriptions`: their descriptions say "The response
      body shall contain in an array ..."; the schemas are one VnfLcmOpOcc / LccnSubscription.
      The item schema is put in an array.
    - The 202 of `PATCH /vnf_instances/{vnfInstanceId}`: its description says "The response
      body shall be empty"; the file declares a VnfInstance body. The body is dropped.
    - VnfLcmOpOcc requires exactly one of changedInfo and
      modificationsTriggeredByVnfPkgChange (`oneOf`), so no INSTANTIATE, SCALE, ... occurrence
      fits; SOL003 says at most one (EXACTLY_ONE_CHANGE above).
    - VnfInstanceSubscriptionFilter requires attributes SOL003 makes optional, one of them
      misspelt (AT_LEAST_ONE_OF_PAIRS above): the `anyOf` is dropped.
    """
    responses = raw_schema["components"]["responses"]
    for name in ("VnfLcmOpOccs.Get.200", "Subscriptions.Get.200"):
        content = responses[name]["content"]["application/json"]
        if content["schema"].get("type") != "object":
            raise RuntimeError(f"hooks.py: {name} of SOL003 3.3.1 changed")
        content["schema"] = {"type": "array", "items": content["schema"]}
    patch = responses["IndividualVnfInstance.Patch.202"]
    if "content" not in patch:
        raise RuntimeError("hooks.py: IndividualVnfInstance.Patch.202 of SOL003 3.3.1 changed")
    del patch["content"]
    patch.get("headers", {}).pop("Content-Type", None)
    if at_most_one_change(raw_schema) == 0:
        raise RuntimeError("hooks.py: no VnfLcmOpOcc oneOf in SOL003 3.3.1")
    if no_required_pairs(raw_schema) == 0:
        raise RuntimeError("hooks.py: no VnfInstanceSubscriptionFilter anyOf in SOL003 3.3.1")


# Corrections of a file's errors (each function says which, and why), by title and format.
FIXES = {
    ("SOL003 - VNF Lifecycle Management interface", "2.0"): fix_sol003_2_4_1,
    ("SOL003 - VNF Lifecycle Management interface", "3.0.2"): fix_sol003_3_3_1,
}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    count = unwrap_all(raw_schema.get("paths", {}))
    key = (
        raw_schema.get("info", {}).get("title"),
        raw_schema.get("swagger") or raw_schema.get("openapi"),
    )
    expected = EXPECTED_WRAPPERS.get(key)
    if expected is None:
        raise RuntimeError(f"hooks.py: unknown schema {key}: add it to EXPECTED_WRAPPERS")
    if count != expected:
        raise RuntimeError(f"hooks.py: {count} ETSI type wrappers in {key}, expected {expected}")
    fix = FIXES.get(key)
    if fix is not None:
        fix(raw_schema)
