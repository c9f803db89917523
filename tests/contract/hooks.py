"""schemathesis hooks for the contract tests (loaded through SCHEMATHESIS_HOOKS).

The ETSI 2.4.1 OpenAPI files were generated with every named data type wrapped in an
object whose only property is the type's name: the response of `GET /vnf_packages/{id}`
is declared as `{"VnfPkgInfo": {...}}`, the list items likewise, the body of
`PATCH /vnf_packages/{id}` as `{"VnfPkgInfoModifications": {...}}`. SOL005 itself (and
Tacker) send the type unwrapped. Since the wrapper neither requires its property nor
forbids others, a response validated against it passes whatever it holds, and generated
request bodies never reach the server's real checks.

`before_load_schema` puts the wrapped type in the wrapper's place, so responses are
validated against the real VnfPkgInfo / VnfPkgInfoModifications / ProblemDetails
schemas and the bodies sent are SOL005's. The file on disk stays ETSI's, unchanged.
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


@schemathesis.hook
def before_load_schema(context, raw_schema):
    count = unwrap_all(raw_schema.get("paths", {}))
    # The SOL005 2.4.1 file has 13 wrappers; none found means this hook matches nothing
    # (another file, or a changed layout) and the checks would silently weaken again.
    if count == 0:
        raise RuntimeError("hooks.py: no ETSI type wrappers found in the schema")
